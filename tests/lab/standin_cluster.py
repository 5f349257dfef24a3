"""Helpers for the stand-in tests: the shared PKI khatui would push, kubeadm configs, an etcd on cp1,
an HTTPS GET that verifies the apiserver stand-in, and a reset that leaves the nodes as `up` made them."""

from __future__ import annotations

import base64
import socket
import ssl
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import yaml

from khatui_lab.lab import Lab
from tests.lab.certs import Issued, issue, make_ca

PKI = "/etc/kubernetes/pki"
VIP = "10.91.0.100"
CP1 = "10.91.0.11"
ETCD = f"https://{CP1}:2379"
KUBELET_CONFIG = {
    "apiVersion": "kubelet.config.k8s.io/v1beta1",
    "kind": "KubeletConfiguration",
    "staticPodPath": "/etc/kubernetes/manifests",
    "cgroupDriver": "systemd",  # as the lab's containerd (SystemdCgroup = true), or no pod starts
}
SANS = ["kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"]
ETCD_UNIT = "kt-test-etcd"
LAB_LACKS = "--ignore-preflight-errors=ImagePull,FileContent--proc-sys-net-ipv4-ip_forward,ExternalEtcdVersion"
"""What these tests do not set up for the real kubeadm: images (the lab's declared deviation,
khatui_lab.deviations), IP forwarding (a khatui rollout sets it; these tests run kubeadm alone) and a
running etcd before init (the files are the point here). The refusals themselves are tested in
test_rules_kubeadm.py; a khatui rollout on the lab meets all but ImagePull (tests/e2e)."""


def push_pki(lab: Lab, nodes: tuple[str, ...] = ("cp1", "cp2")) -> tuple[Issued, Issued]:
    """The CAs and external-etcd client files on `nodes`, an apiserver certificate on cp1; returns (CA, etcd CA)."""
    ca, front_proxy, etcd_ca = make_ca("kubernetes"), make_ca("front-proxy-ca"), make_ca("etcd-ca")
    etcd_client = issue(etcd_ca, "kube-apiserver-etcd-client", [], server=False)
    files = {
        f"{PKI}/ca.crt": ca.cert,
        f"{PKI}/ca.key": ca.key,
        f"{PKI}/front-proxy-ca.crt": front_proxy.cert,
        f"{PKI}/front-proxy-ca.key": front_proxy.key,
        f"{PKI}/etcd/ca.crt": etcd_ca.cert,
        f"{PKI}/apiserver-etcd-client.crt": etcd_client.cert,
        f"{PKI}/apiserver-etcd-client.key": etcd_client.key,
    }
    for node in nodes:
        for path, data in files.items():
            lab.put_file(node, path, data, 0o600)
    apiserver = issue(ca, "kube-apiserver", [*SANS, "cp1", "10.96.0.1", CP1, VIP])
    lab.put_file("cp1", f"{PKI}/apiserver.crt", apiserver.cert, 0o600)
    lab.put_file("cp1", f"{PKI}/apiserver.key", apiserver.key, 0o600)
    return ca, etcd_ca


def start_etcd(lab: Lab, etcd_ca: Issued) -> None:
    """A one-member etcd on cp1 with client-certificate auth, where the apiserver stand-ins keep tokens."""
    server = issue(etcd_ca, "cp1", ["cp1", CP1, "127.0.0.1"])
    lab.put_file("cp1", f"{PKI}/etcd/server.crt", server.cert, 0o600)
    lab.put_file("cp1", f"{PKI}/etcd/server.key", server.key, 0o600)
    peer = "http://127.0.0.1:2380"
    lab.run_in(
        "cp1",
        ["systemd-run", f"--unit={ETCD_UNIT}", "--", "etcd", "--name=cp1", "--data-dir=/var/lib/kt-test-etcd",
         f"--listen-client-urls={ETCD}", f"--advertise-client-urls={ETCD}", f"--listen-peer-urls={peer}",
         f"--initial-advertise-peer-urls={peer}", f"--initial-cluster=cp1={peer}", "--client-cert-auth",
         f"--cert-file={PKI}/etcd/server.crt", f"--key-file={PKI}/etcd/server.key",
         f"--trusted-ca-file={PKI}/etcd/ca.crt"],
    )  # fmt: skip
    health = ["etcdctl", f"--endpoints={ETCD}", f"--cacert={PKI}/etcd/ca.crt", "endpoint", "health",
              f"--cert={PKI}/apiserver-etcd-client.crt", f"--key={PKI}/apiserver-etcd-client.key"]  # fmt: skip
    deadline = time.monotonic() + 30
    while lab.run_in("cp1", health, check=False).returncode != 0:
        assert time.monotonic() < deadline, "etcd on cp1 did not become healthy"
        time.sleep(0.3)


def reset(lab: Lab) -> None:
    """Undo what the tests did on cp1-cp3 (as `kubeadm reset` would), keeping the stand-ins installed."""
    script = (
        "systemctl stop kubelet; systemctl stop kt-test-etcd; pkill -f '^/usr/bin/python3 /usr/local/bin/kube'; "
        "rm -rf /etc/kubernetes /var/lib/kubelet /var/lib/khatui-lab-standin /var/log/pods /var/lib/kt-test-etcd; "
        "systemctl reset-failed"
    )
    with ThreadPoolExecutor() as pool:
        list(pool.map(lambda node: lab.run_in(node, ["sh", "-c", script], check=False), ("cp1", "cp2", "cp3")))


def init_config(endpoint: str = f"{VIP}:8443") -> str:
    """kubeadm-init.yaml for cp1 as khatui renders it (external etcd on cp1, leader election on)."""
    docs = [
        {
            "apiVersion": "kubeadm.k8s.io/v1beta4",
            "kind": "InitConfiguration",
            "nodeRegistration": {"name": "cp1", "kubeletExtraArgs": [{"name": "node-ip", "value": CP1}]},
            "localAPIEndpoint": {"advertiseAddress": CP1, "bindPort": 6443},
        },
        {
            "apiVersion": "kubeadm.k8s.io/v1beta4",
            "kind": "ClusterConfiguration",
            "clusterName": "kt",
            "kubernetesVersion": "v1.31.4",
            "controlPlaneEndpoint": endpoint,
            "etcd": {
                "external": {
                    "endpoints": [ETCD],
                    "caFile": f"{PKI}/etcd/ca.crt",
                    "certFile": f"{PKI}/apiserver-etcd-client.crt",
                    "keyFile": f"{PKI}/apiserver-etcd-client.key",
                }
            },
            "networking": {"podSubnet": "10.244.0.0/16", "serviceSubnet": "10.96.0.0/12"},
            "apiServer": {"certSANs": [VIP, "cp1", CP1]},
            "controllerManager": {"extraArgs": [{"name": "leader-elect", "value": "true"}]},
            "scheduler": {"extraArgs": [{"name": "leader-elect", "value": "true"}]},
        },
        KUBELET_CONFIG,
    ]
    return yaml.safe_dump_all(docs)


def join_config(node: str, address: str, control_plane: bool) -> str:
    """kubeadm-join.yaml as khatui renders it (file discovery)."""
    join: dict[str, Any] = {
        "apiVersion": "kubeadm.k8s.io/v1beta4",
        "kind": "JoinConfiguration",
        "nodeRegistration": {"name": node, "kubeletExtraArgs": [{"name": "node-ip", "value": address}]},
        "caCertPath": f"{PKI}/ca.crt",
        "discovery": {"file": {"kubeConfigPath": "/etc/kubernetes/khatui/discovery.conf"}},
    }
    if control_plane:
        join["controlPlane"] = {"localAPIEndpoint": {"advertiseAddress": address, "bindPort": 6443}}
    return yaml.safe_dump(join)


def discovery_conf(ca_pem: bytes, token: str | None, server: str = f"https://{CP1}:6443") -> bytes:
    """The discovery kubeconfig khatui's engine writes: cluster CA, server, a user with the token."""
    user = {"token": token} if token else {}
    data = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "kubernetes",
                "cluster": {"certificate-authority-data": base64.b64encode(ca_pem).decode(), "server": server},
            }
        ],
        "contexts": [{"name": "bootstrap", "context": {"cluster": "kubernetes", "user": "bootstrap"}}],
        "current-context": "bootstrap",
        "users": [{"name": "bootstrap", "user": user}],
    }
    return yaml.safe_dump(data).encode()


def https_get(
    ca: Issued, address: str, path: str, hostname: str | None = None, token: str | None = None
) -> tuple[int, bytes]:
    """GET https://address:6443/path verified against `ca` for `hostname` (default: address), as `token`."""
    context = ssl.create_default_context(cadata=ca.cert.decode())
    name = hostname or address
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    with (
        socket.create_connection((address, 6443), timeout=30) as raw,  # a loaded 2-core box: no hair trigger
        context.wrap_socket(raw, server_hostname=name) as tls,
    ):
        tls.sendall(f"GET {path} HTTP/1.0\r\nHost: {name}\r\n{auth}\r\n".encode())
        data = b""
        while chunk := tls.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body
