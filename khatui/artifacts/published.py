"""The sha256 sums upstream publishes for the release files khatui installs, as one sha256sum file.

Taken from Kubespray's table of the same files (kubernetes-sigs/kubespray, v2.27 line, as mirrored in
polingfarm/kubespray-2.27.0@0c969442dbca85e731dc6221ec529bc54a798fef
roles/kubespray-defaults/defaults/main/checksums.yml: kubeadm_checksums, kubelet_checksums,
kubectl_checksums, crictl_checksums, containerd_archive_checksums, runc_checksums,
cni_binary_checksums, etcd_binary_checksums), for the versions khatui defaults to and their
neighbours, amd64 and arm64. Kept in sha256sum's own format, paths as upstream host + path (the
`files_repo` layout), so `spec.install.binaries.checksums` extends it with the very same parser.
"""

from __future__ import annotations

PUBLISHED = """\
dcfcc6eb79e94994d5f1b04a7746239214030ce8a2e8b0e21a4772938f911d12  dl.k8s.io/release/v1.31.3/bin/linux/amd64/kubeadm
6c8e2fd2fa2cab51debf215fcb9149b94e7046f69ff558290066875200975cf6  dl.k8s.io/release/v1.31.4/bin/linux/amd64/kubeadm
879add53ba3ed7e86bdb3b06d1ebb1f5e31b9a01e3bc57353d6385422febbd73  dl.k8s.io/release/v1.31.5/bin/linux/amd64/kubeadm
8113900524bd1c8b3ce0b3ece0d37f96291cbf359946afae58a596319a5575c8  dl.k8s.io/release/v1.31.3/bin/linux/arm64/kubeadm
4598c2f0c69e60feb47a070376da358f16efe0e1403c6aca97fa8f7ab1d0e7c0  dl.k8s.io/release/v1.31.4/bin/linux/arm64/kubeadm
971904ff1ac2879d968cac1d4865b7c0ce0d9374506bd17bd0b123981803769b  dl.k8s.io/release/v1.31.5/bin/linux/arm64/kubeadm
a5c9e871541251db15436fc307d945217e160d12920730070417ba8037e090df  dl.k8s.io/release/v1.31.3/bin/linux/amd64/kubelet
9062fbb2b6054ecab07b9e841b0a49ab4acc224860b01c218d01ba95017c5e49  dl.k8s.io/release/v1.31.4/bin/linux/amd64/kubelet
4fdedf2b6e3e8c4976c3cd000edf9ae61c94f0d6024ffe8b06bae6218ff2c94e  dl.k8s.io/release/v1.31.5/bin/linux/amd64/kubelet
0ec590052f2d1cee158a789d705ca931cbc2556ceed364c4ad754fd36c61be28  dl.k8s.io/release/v1.31.3/bin/linux/arm64/kubelet
fb6f02f3324a72307acc11998eb5b1c3778167ae165c98f9d49bd011498e72f8  dl.k8s.io/release/v1.31.4/bin/linux/arm64/kubelet
922a96405fdc3ae41e403565d06c5a6c3b733b0c3d0d1d61086b39c6760103d3  dl.k8s.io/release/v1.31.5/bin/linux/arm64/kubelet
981f6b49577068bc174275184d8ee7105d8e54f40733792c519cd85023984c0f  dl.k8s.io/release/v1.31.3/bin/linux/amd64/kubectl
298e19e9c6c17199011404278f0ff8168a7eca4217edad9097af577023a5620f  dl.k8s.io/release/v1.31.4/bin/linux/amd64/kubectl
fbecbfd375b3686002c2e81d51c390172f5ffba3d6b47920d55342cb03f557af  dl.k8s.io/release/v1.31.5/bin/linux/amd64/kubectl
a3953ad2b32eca0b429249a5fbdf4f8ef7d57223c45cc0401fd80fd12c7b9071  dl.k8s.io/release/v1.31.3/bin/linux/arm64/kubectl
b97e93c20e3be4b8c8fa1235a41b4d77d4f2022ed3d899230dbbbbd43d26f872  dl.k8s.io/release/v1.31.4/bin/linux/arm64/kubectl
697c8b4239f9e53cba46296e114bcc02c726b5c7a45e1c464804aad56e5c7a86  dl.k8s.io/release/v1.31.5/bin/linux/arm64/kubectl
9daa32308090aedee5a7f2ab1f1428fef6f669a64e993f0b5b98db8ef6edd71b  github.com/kubernetes-sigs/cri-tools/releases/download/v1.31.0/crictl-v1.31.0-linux-amd64.tar.gz
0a03ba6b1e4c253d63627f8d210b2ea07675a8712587e697657b236d06d7d231  github.com/kubernetes-sigs/cri-tools/releases/download/v1.31.1/crictl-v1.31.1-linux-amd64.tar.gz
f9879541e92fd302db00b9d28ef617744bb8b8b62520bd4c0479819d7d4ae869  github.com/kubernetes-sigs/cri-tools/releases/download/v1.31.0/crictl-v1.31.0-linux-arm64.tar.gz
cd70f9b2f75c9619f40450d4b6e2c74aaab619917da517eff6787b442f8b0e56  github.com/kubernetes-sigs/cri-tools/releases/download/v1.31.1/crictl-v1.31.1-linux-arm64.tar.gz
8a0de43d9313aef2ebdccc0ffa49461a4a28139a2c0ef104c3c847f6f37c8119  github.com/containerd/containerd/releases/download/v1.7.23/containerd-1.7.23-linux-amd64.tar.gz
1a94f15139f37633f39e24f08a4071f4533b285df3cbee6478972d26147bcaef  github.com/containerd/containerd/releases/download/v1.7.24/containerd-1.7.24-linux-amd64.tar.gz
02990fa281c0a2c4b073c6d2415d264b682bd693aa7d86c5d8eb4b86d684a18c  github.com/containerd/containerd/releases/download/v1.7.25/containerd-1.7.25-linux-amd64.tar.gz
6a66b5e63a5e88ff7eeb478ccaca9083d44e51e1d7261ae183fe5951a6226ccd  github.com/containerd/containerd/releases/download/v1.7.23/containerd-1.7.23-linux-arm64.tar.gz
420406d2b34ebb422ab3755fbeede59bf3bfcfccf5cfa584b558c93769d99064  github.com/containerd/containerd/releases/download/v1.7.24/containerd-1.7.24-linux-arm64.tar.gz
e9201d478e4c931496344b779eb6cb40ce5084ec08c8fff159a02cabb0c6b9bf  github.com/containerd/containerd/releases/download/v1.7.25/containerd-1.7.25-linux-arm64.tar.gz
a34f5ab4fc1df1f456293c3d797a76f2d41cf3cd970bb49fc53ba94bbc8a5cf6  github.com/opencontainers/runc/releases/download/v1.2.2/runc.amd64
e6e8c8049b1910fce58fa68c057aaa5f42cee2a73834df5e59e5da7612d2739d  github.com/opencontainers/runc/releases/download/v1.2.3/runc.amd64
e83565aa78ec8f52a4d2b4eb6c4ca262b74c5f6770c1f43670c3029c20175502  github.com/opencontainers/runc/releases/download/v1.2.4/runc.amd64
bfd3e6c58bd6060eaa725520c31cbc8f6386ac7606e65bfa7fe9084100aa1789  github.com/opencontainers/runc/releases/download/v1.2.2/runc.arm64
4ef19ab21ce1ae5a01e1d3fa5b005e45cdf59f5d3ab32541c9e262cb2b2d3451  github.com/opencontainers/runc/releases/download/v1.2.3/runc.arm64
285f6c4c3de1d78d9f536a0299ae931219527b2ebd9ad89df5a1072896b7e82a  github.com/opencontainers/runc/releases/download/v1.2.4/runc.arm64
c2485ddb3ffc176578ae30ae58137f0b88e50f7c7f2af7d53a569276b2949a33  github.com/containernetworking/plugins/releases/download/v1.4.0/cni-plugins-linux-amd64-v1.4.0.tgz
2a0ea7072d1806b8526489bcd3b4847a06ab010ee32ba3c3d4e5a3235d3eb138  github.com/containernetworking/plugins/releases/download/v1.4.1/cni-plugins-linux-amd64-v1.4.1.tgz
304d4389d5b732b7a73513d002c4895f731d030682d40653f411e10e39114194  github.com/containernetworking/plugins/releases/download/v1.4.0/cni-plugins-linux-arm64-v1.4.0.tgz
56fe62d73942cffd8f119d2b8ecb6a062e85f529a3dbfc7aa5cd83c2c01929a7  github.com/containernetworking/plugins/releases/download/v1.4.1/cni-plugins-linux-arm64-v1.4.1.tgz
3f6b48d8c2844699f2b19c1880508ecf63e1489769ed37ebb97495d5cd848a89  github.com/etcd-io/etcd/releases/download/v3.5.15/etcd-v3.5.15-linux-amd64.tar.gz
b414b27a5ad05f7cb01395c447c85d3227e3fb1c176e51757a283b817f645ccc  github.com/etcd-io/etcd/releases/download/v3.5.16/etcd-v3.5.16-linux-amd64.tar.gz
eff6ac621d41711085d0f38fab17d8fa3705f6326c3ff11301a1f5a71fc94edd  github.com/etcd-io/etcd/releases/download/v3.5.17/etcd-v3.5.17-linux-amd64.tar.gz
5aa28b435edb1f22bf6455f754e16a13e3e4eb1ad8fc7c22ad47aa8e722febf2  github.com/etcd-io/etcd/releases/download/v3.5.15/etcd-v3.5.15-linux-arm64.tar.gz
8e68c55e6d72b791a9e98591c755af36f6f55aa9eca63767822cd8a3817fdb23  github.com/etcd-io/etcd/releases/download/v3.5.16/etcd-v3.5.16-linux-arm64.tar.gz
7d717a62520bf39fa1115dfbb1df79479ff74b5eda0914f4132bfa60a48b9549  github.com/etcd-io/etcd/releases/download/v3.5.17/etcd-v3.5.17-linux-arm64.tar.gz
"""
"""`<sha256>  <upstream host/path>` per line."""
