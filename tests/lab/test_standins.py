"""The stand-ins on lab nodes: the kubelet runs and restarts static pods, kubeadm refuses bad
configs and writes kubeadm's files for good ones, and the apiserver stand-in (started by the kubelet
from kubeadm's manifest) answers /healthz over TLS verified against the cluster CA."""

from __future__ import annotations

import base64
import json
import socket
import ssl
from collections.abc import Iterator

import pytest
import yaml

from khatui.lab import Lab
from tests.lab.certs import Issued, issue, make_ca
from tests.lab.conftest import wait_for

PKI = "/etc/kubernetes/pki"
VIP = "10.91.0.100"
KUBELET_CONFIG = {
    "apiVersion": "kubelet.config.k8s.io/v1beta1",
    "kind": "KubeletConfiguration",
    "staticPodPath": "/etc/kubernetes/manifests",
}


@pytest.fixture(scope="module")
def cluster_ca(lab: Lab) -> Iterator[Issued]:
    """Stand-ins on cp1 and cp2, with the shared PKI khatui would push (CAs, sa, external etcd files)."""
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
    for node in ("cp1", "cp2"):
        paths = lab.install_standins(node)
        assert "/usr/local/bin/kubeadm" in paths
        for path, data in files.items():
            lab.put_file(node, path, data, 0o600)
    sans = ["kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"]
    apiserver = issue(ca, "kube-apiserver", [*sans, "cp1", "10.96.0.1", "10.91.0.11", VIP])
    lab.put_file("cp1", f"{PKI}/apiserver.crt", apiserver.cert, 0o600)
    lab.put_file("cp1", f"{PKI}/apiserver.key", apiserver.key, 0o600)
    yield ca
    for node in ("cp1", "cp2"):
        lab.run_in(node, ["systemctl", "stop", "kubelet"], check=False)
        lab.run_in(node, ["sh", "-c", "rm -f /etc/kubernetes/manifests/*; pkill -f khatui_lab_standins"], check=False)


def _pid(lab: Lab, node: str, pattern: str) -> int | None:
    result = lab.run_in(node, ["pgrep", "-f", pattern], check=False)
    pids = result.stdout.split()
    return int(pids[0]) if result.returncode == 0 and pids else None


def test_launchers_say_they_are_stand_ins(lab: Lab, cluster_ca: Issued) -> None:
    text = lab.run_in("cp1", ["cat", "/usr/bin/kubeadm"]).stdout.decode()
    assert "khatui lab stand-in for kubeadm: NOT the real kubeadm" in text
    assert lab.run_in("cp1", ["kubeadm", "version", "-o", "short"]).stdout == b"v1.31.4\n"


def test_kubelet_runs_a_static_pod_and_restarts_it(lab: Lab, cluster_ca: Issued) -> None:
    lab.put_file("cp1", "/var/lib/kubelet/config.yaml", yaml.safe_dump(KUBELET_CONFIG).encode())
    lab.run_in("cp1", ["systemctl", "start", "kubelet"])
    manifest = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "sleeper", "namespace": "kube-system"},
        "spec": {"containers": [{"name": "sleeper", "image": "ignored", "command": ["sleep"], "args": ["4242"]}]},
    }
    lab.put_file("cp1", "/etc/kubernetes/manifests/sleeper.yaml", yaml.safe_dump(manifest).encode())
    wait_for(lambda: _pid(lab, "cp1", "^sleep 4242$") is not None, 15, "the kubelet to start the pod")
    first = _pid(lab, "cp1", "^sleep 4242$")
    lab.run_in("cp1", ["kill", "-9", str(first)])
    wait_for(lambda: _pid(lab, "cp1", "^sleep 4242$") not in (None, first), 15, "the pod to be restarted")

    manifest["spec"]["containers"][0]["args"] = ["4343"]  # type: ignore[index]
    lab.put_file("cp1", "/etc/kubernetes/manifests/sleeper.yaml", yaml.safe_dump(manifest).encode())
    wait_for(lambda: _pid(lab, "cp1", "^sleep 4343$") is not None, 15, "the changed pod to run")
    assert _pid(lab, "cp1", "^sleep 4242$") is None

    lab.run_in("cp1", ["rm", "/etc/kubernetes/manifests/sleeper.yaml"])
    wait_for(lambda: _pid(lab, "cp1", "^sleep 4343$") is None, 15, "the removed pod to stop")


BAD_CONFIG = """\
apiVersion: kubeadm.k8s.io/v1beta3
kind: InitConfiguration
localAPIEndpoint: {advertiseAddress: not-an-ip}
---
apiVersion: kubeadm.k8s.io/v1beta3
kind: ClusterConfiguration
apiServer:
  certSANs: ["10.91.0.100", "not a name!"]
controllerManager:
  extraArgs: [{name: leader-elect, value: "true"}]
etcd:
  external:
    endpoints: ["https://10.91.0.11:2379"]
    caFile: /etc/kubernetes/pki/etcd/ca.crt
    certFile: /nowhere/client.crt
    keyFile: /nowhere/client.key
"""


def test_kubeadm_rejects_a_bad_config_with_every_reason(lab: Lab, cluster_ca: Issued) -> None:
    lab.put_file("cp1", "/root/bad.yaml", BAD_CONFIG.encode())
    result = lab.run_in("cp1", ["kubeadm", "init", "--config", "/root/bad.yaml"], check=False)
    assert result.returncode == 1
    err = result.stderr.decode()
    for reason in (
        "controlPlaneEndpoint None: an HA control plane needs a load-balanced endpoint",
        "certSANs[1] 'not a name!': not a valid IP address or DNS name",
        "controllerManager.extraArgs: kubeadm.k8s.io/v1beta3 wants a map",
        "etcd.external.certFile: /nowhere/client.crt does not exist on this node",
        "advertiseAddress 'not-an-ip' is not an IP address",
    ):
        assert reason in err
    lab.put_file("cp1", "/root/old.yaml", b"apiVersion: kubeadm.k8s.io/v1beta2\nkind: InitConfiguration\n")
    result = lab.run_in("cp1", ["kubeadm", "init", "--config", "/root/old.yaml"], check=False)
    assert result.returncode == 1 and b"kubeadm.k8s.io/v1beta2 is not supported" in result.stderr
    assert lab.run_in("cp1", ["test", "-e", "/etc/kubernetes/admin.conf"], check=False).returncode == 1


def _init_config() -> str:
    docs = [
        {
            "apiVersion": "kubeadm.k8s.io/v1beta4",
            "kind": "InitConfiguration",
            "nodeRegistration": {"name": "cp1", "kubeletExtraArgs": [{"name": "node-ip", "value": "10.91.0.11"}]},
            "localAPIEndpoint": {"advertiseAddress": "10.91.0.11", "bindPort": 6443},
        },
        {
            "apiVersion": "kubeadm.k8s.io/v1beta4",
            "kind": "ClusterConfiguration",
            "clusterName": "kt",
            "kubernetesVersion": "v1.31.4",
            "controlPlaneEndpoint": f"{VIP}:8443",
            "etcd": {
                "external": {
                    "endpoints": ["https://10.91.0.11:2379"],
                    "caFile": f"{PKI}/etcd/ca.crt",
                    "certFile": f"{PKI}/apiserver-etcd-client.crt",
                    "keyFile": f"{PKI}/apiserver-etcd-client.key",
                }
            },
            "networking": {"podSubnet": "10.244.0.0/16", "serviceSubnet": "10.96.0.0/12"},
            "apiServer": {"certSANs": [VIP, "cp1", "10.91.0.11"]},
            "controllerManager": {"extraArgs": [{"name": "leader-elect", "value": "true"}]},
            "scheduler": {"extraArgs": [{"name": "leader-elect", "value": "true"}]},
        },
        KUBELET_CONFIG,
    ]
    return yaml.safe_dump_all(docs)


def _https_get(ca: Issued, address: str, path: str, hostname: str | None = None) -> tuple[int, bytes]:
    """GET https://address:6443/path, verifying the certificate against `ca` for `hostname` (default: address)."""
    context = ssl.create_default_context(cadata=ca.cert.decode())
    name = hostname or address
    with (
        socket.create_connection((address, 6443), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=name) as tls,
    ):
        tls.sendall(f"GET {path} HTTP/1.0\r\nHost: {name}\r\n\r\n".encode())
        data = b""
        while chunk := tls.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def test_kubeadm_init_writes_kubeadms_files_and_the_apiserver_answers(lab: Lab, cluster_ca: Issued) -> None:
    lab.put_file("cp1", "/etc/kubernetes/khatui/kubeadm-init.yaml", _init_config().encode(), 0o600)
    argv = [
        "kubeadm",
        "init",
        "--config",
        "/etc/kubernetes/khatui/kubeadm-init.yaml",
        "--skip-phases",
        "addon/kube-proxy",
    ]
    result = lab.run_in("cp1", [*argv, "--ignore-preflight-errors", "Swap", "--v", "5"], check=False, timeout=180)
    assert result.returncode == 0, result.stderr.decode()
    assert b"initialized successfully" in result.stdout
    for name in ("admin.conf", "super-admin.conf", "kubelet.conf", "controller-manager.conf", "scheduler.conf"):
        assert lab.run_in("cp1", ["test", "-s", f"/etc/kubernetes/{name}"], check=False).returncode == 0, name
    admin = yaml.safe_load(lab.run_in("cp1", ["cat", "/etc/kubernetes/admin.conf"]).stdout)
    assert admin["clusters"][0]["cluster"]["server"] == f"https://{VIP}:8443"
    scheduler = yaml.safe_load(lab.run_in("cp1", ["cat", "/etc/kubernetes/manifests/kube-scheduler.yaml"]).stdout)
    assert "--leader-elect=true" in scheduler["spec"]["containers"][0]["command"]
    apiserver = yaml.safe_load(lab.run_in("cp1", ["cat", "/etc/kubernetes/manifests/kube-apiserver.yaml"]).stdout)
    command = apiserver["spec"]["containers"][0]["command"]
    assert command[0] == "kube-apiserver" and "--etcd-servers=https://10.91.0.11:2379" in command

    assert _https_get(cluster_ca, "10.91.0.11", "/healthz") == (200, b"ok")
    assert _https_get(cluster_ca, "10.91.0.11", "/readyz", hostname=VIP) == (200, b"ok")
    status, body = _https_get(cluster_ca, "10.91.0.11", "/version")
    assert status == 200 and json.loads(body)["gitVersion"] == "v1.31.4"
    wait_for(
        lambda: _pid(lab, "cp1", "/usr/local/bin/kube-scheduler --") is not None, 15, "the kube-scheduler stand-in"
    )

    again = lab.run_in("cp1", argv, check=False)
    assert again.returncode == 1 and b"[ERROR Port-6443]: Port 6443 is in use" in again.stderr


def test_kubeadm_join_control_plane_reads_the_cluster_through_discovery(lab: Lab, cluster_ca: Issued) -> None:
    discovery = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "kt",
                "cluster": {
                    "server": "https://10.91.0.11:6443",
                    "certificate-authority-data": base64.b64encode(cluster_ca.cert).decode(),
                },
            }
        ],
        "contexts": [],
        "users": [],
    }
    join = {
        "apiVersion": "kubeadm.k8s.io/v1beta4",
        "kind": "JoinConfiguration",
        "nodeRegistration": {"name": "cp2", "kubeletExtraArgs": [{"name": "node-ip", "value": "10.91.0.12"}]},
        "caCertPath": f"{PKI}/ca.crt",
        "discovery": {"file": {"kubeConfigPath": "/etc/kubernetes/khatui/discovery.conf"}},
        "controlPlane": {"localAPIEndpoint": {"advertiseAddress": "10.91.0.12", "bindPort": 6443}},
    }
    lab.put_file("cp2", "/etc/kubernetes/khatui/discovery.conf", yaml.safe_dump(discovery).encode(), 0o600)
    lab.put_file("cp2", "/etc/kubernetes/khatui/kubeadm-join.yaml", yaml.safe_dump(join).encode(), 0o600)
    argv = ["kubeadm", "join", "--config", "/etc/kubernetes/khatui/kubeadm-join.yaml"]
    result = lab.run_in("cp2", argv, check=False)
    assert result.returncode == 1 and b"missing shared certificates sa.key, sa.pub" in result.stderr

    sa = lab.run_in("cp1", ["cat", f"{PKI}/sa.key"]).stdout, lab.run_in("cp1", ["cat", f"{PKI}/sa.pub"]).stdout
    lab.put_file("cp2", f"{PKI}/sa.key", sa[0], 0o600)
    lab.put_file("cp2", f"{PKI}/sa.pub", sa[1])
    result = lab.run_in("cp2", argv, check=False, timeout=180)
    assert result.returncode == 0, result.stderr.decode()
    assert b"Generating apiserver certificate and key" in result.stdout
    # The apiserver certificate the stand-in made covers the VIP (from the cluster's certSANs).
    assert _https_get(cluster_ca, "10.91.0.12", "/healthz", hostname=VIP) == (200, b"ok")


def test_apiserver_stand_in_refuses_missing_certificates(lab: Lab, cluster_ca: Issued) -> None:
    argv = ["kube-apiserver", "--secure-port=7443", "--tls-cert-file=/nope.crt", "--tls-private-key-file=/nope.key"]
    result = lab.run_in("cp2", [*argv, "--etcd-servers=https://x:2379", "--allow-privileged=true"], check=False)
    assert result.returncode == 1
    assert b"--tls-cert-file /nope.crt: no such file" in result.stderr
