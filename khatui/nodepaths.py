"""Where things live on a node: the one table of on-node paths that PKI, renderers and engine share.

The layout is kubeadm's (`/etc/kubernetes/pki`), so a kubeadm that finds the CAs and keys in place
uses them instead of generating its own, and every master shares one PKI without `--upload-certs`.
"""

from __future__ import annotations

from pathlib import PurePosixPath

KUBERNETES_DIR = PurePosixPath("/etc/kubernetes")
PKI_DIR = KUBERNETES_DIR / "pki"
ETCD_PKI_DIR = PKI_DIR / "etcd"
MANIFESTS_DIR = KUBERNETES_DIR / "manifests"
KHATUI_DIR = KUBERNETES_DIR / "khatui"
"""Files khatui itself renders that no other tool reads from a fixed place (kubeadm configs)."""

# Cluster CA, service-account keys, front-proxy CA (kubeadm names).
CA_CERT = PKI_DIR / "ca.crt"
CA_KEY = PKI_DIR / "ca.key"
SA_KEY = PKI_DIR / "sa.key"
SA_PUB = PKI_DIR / "sa.pub"
FRONT_PROXY_CA_CERT = PKI_DIR / "front-proxy-ca.crt"
FRONT_PROXY_CA_KEY = PKI_DIR / "front-proxy-ca.key"
APISERVER_CERT = PKI_DIR / "apiserver.crt"
APISERVER_KEY = PKI_DIR / "apiserver.key"
APISERVER_ETCD_CLIENT_CERT = PKI_DIR / "apiserver-etcd-client.crt"
APISERVER_ETCD_CLIENT_KEY = PKI_DIR / "apiserver-etcd-client.key"

# etcd CA and per-member certificates (kubeadm names).
ETCD_CA_CERT = ETCD_PKI_DIR / "ca.crt"
ETCD_CA_KEY = ETCD_PKI_DIR / "ca.key"
ETCD_SERVER_CERT = ETCD_PKI_DIR / "server.crt"
ETCD_SERVER_KEY = ETCD_PKI_DIR / "server.key"
ETCD_PEER_CERT = ETCD_PKI_DIR / "peer.crt"
ETCD_PEER_KEY = ETCD_PKI_DIR / "peer.key"
ETCD_HEALTHCHECK_CERT = ETCD_PKI_DIR / "healthcheck-client.crt"
ETCD_HEALTHCHECK_KEY = ETCD_PKI_DIR / "healthcheck-client.key"

# Kubeconfigs (kubeadm names), the kubelet's client certificate, kubeadm join's discovery file.
ADMIN_KUBECONFIG = KUBERNETES_DIR / "admin.conf"
SUPER_ADMIN_KUBECONFIG = KUBERNETES_DIR / "super-admin.conf"
"""kubeadm >= 1.29 on the first control plane: cluster-admin before RBAC exists (kube-vip needs it)."""
KUBELET_KUBECONFIG = KUBERNETES_DIR / "kubelet.conf"
KUBELET_CLIENT_CERT = PurePosixPath("/var/lib/kubelet/pki/kubelet-client-current.pem")
"""The kubelet's rotating client certificate and key (one PEM file, kubelet's name)."""
DISCOVERY_KUBECONFIG = KHATUI_DIR / "discovery.conf"
"""Cluster info plus a short-lived bootstrap token for `kubeadm join`: a secret, so the engine writes
it at join time; renderers only point at it."""

# Files khatui renders for its own use on the node.
ETCDCTL_ENV = KHATUI_DIR / "etcdctl.env"
"""ETCDCTL_* variables (endpoint + healthcheck client cert) for probing the local etcd member."""
ADDONS_DIR = KHATUI_DIR / "addons"
"""Kubernetes objects the engine applies with kubectl from the first control plane."""

# The package mirror of spec.install.packages.mirror (the `packages` phase writes them; the probe hashes them).
APT_MIRROR_SOURCES = PurePosixPath("/etc/apt/sources.list.d/khatui-mirror.sources")
APT_KEYRINGS = PurePosixPath("/etc/apt/keyrings")
DNF_MIRROR_REPO = PurePosixPath("/etc/yum.repos.d/khatui-mirror.repo")
DNF_MIRROR_KEY = PurePosixPath("/etc/pki/rpm-gpg/RPM-GPG-KEY-khatui-mirror")
PACKAGE_MIRROR_FILES = (
    APT_MIRROR_SOURCES,
    APT_KEYRINGS / "khatui-mirror.asc",
    APT_KEYRINGS / "khatui-mirror.gpg",
    DNF_MIRROR_REPO,
    DNF_MIRROR_KEY,
)
