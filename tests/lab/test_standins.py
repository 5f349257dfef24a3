"""The stand-ins on lab nodes: `up` installed them, the kubelet runs and restarts static pods,
kubeadm refuses bad configs and writes kubeadm's files for good ones, and the apiserver stand-in
(started by the kubelet from kubeadm's manifest) answers /healthz over TLS verified against the
cluster CA. Tokens, joins and kubectl: test_standins_join.py."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import yaml

from khatui_lab.lab import Lab
from tests.lab.certs import Issued
from tests.lab.conftest import wait_for
from tests.lab.standin_cluster import KUBELET_CONFIG, LAB_LACKS, VIP, https_get, init_config, push_pki, reset


@pytest.fixture(scope="module")
def cluster_ca(lab: Lab) -> Iterator[Issued]:
    """cp1 and cp2 with the shared PKI khatui would push (CAs, external etcd client files)."""
    ca, _etcd_ca = push_pki(lab)
    yield ca
    reset(lab)


def _pid(lab: Lab, node: str, pattern: str) -> int | None:
    result = lab.run_in(node, ["pgrep", "-f", pattern], check=False)
    pids = result.stdout.split()
    return int(pids[0]) if result.returncode == 0 and pids else None


def test_up_installed_launchers_that_say_they_are_stand_ins(lab: Lab, cluster_ca: Issued) -> None:
    for tool in ("kubeadm", "kubectl", "kubelet"):
        text = lab.run_in("cp3", ["cat", f"/usr/bin/{tool}"]).stdout.decode()
        assert f"khatui lab stand-in for {tool}: NOT the real {tool}" in text
    assert lab.run_in("cp3", ["kubeadm", "version", "-o", "short"]).stdout == b"v1.31.4\n"
    assert lab.run_in("cp3", ["kubectl", "version", "--client"]).stdout.startswith(b"Client Version: v1.31.4\n")
    assert lab.run_in("cp3", ["curl", "--version"]).returncode == 0  # the rollout's API probe
    assert lab.install_standins("cp3") == [  # again: idempotent
        f"/usr/local/bin/{name}"
        for name in ("kubeadm", "kubelet", "kubectl", "kube-apiserver", "kube-controller-manager", "kube-scheduler")
    ]
    result = lab.run_in("cp3", ["kubectl", "drain", "cp3"], check=False)
    assert result.returncode == 1 and b'unknown command "drain"' in result.stderr


def test_kubelet_runs_a_static_pod_and_restarts_it(lab: Lab, cluster_ca: Issued) -> None:
    lab.put_file("cp1", "/var/lib/kubelet/config.yaml", yaml.safe_dump(KUBELET_CONFIG).encode())
    lab.run_in("cp1", ["systemctl", "start", "kubelet"])
    manifest = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "sleeper", "namespace": "kube-system"},
        # hostNetwork: the lab has no pod network, and a real kubelet starts no other pod without one.
        "spec": {
            "hostNetwork": True,
            "containers": [{"name": "sleeper", "image": "ignored", "command": ["sleep"], "args": ["4242"]}],
        },
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
        "json: cannot unmarshal array into Go struct field ClusterConfiguration.controllerManager.extraArgs "
        "of type map[string]string",
        "advertiseAddress 'not-an-ip' is not an IP address",
    ):
        assert reason in err
    lab.put_file("cp1", "/root/old.yaml", b"apiVersion: kubeadm.k8s.io/v1beta2\nkind: InitConfiguration\n")
    result = lab.run_in("cp1", ["kubeadm", "init", "--config", "/root/old.yaml"], check=False)
    assert result.returncode == 1 and b'uses an old API spec: "kubeadm.k8s.io/v1beta2"' in result.stderr
    assert lab.run_in("cp1", ["test", "-e", "/etc/kubernetes/admin.conf"], check=False).returncode == 1


def test_kubeadm_init_writes_kubeadms_files_and_the_apiserver_answers(lab: Lab, cluster_ca: Issued) -> None:
    lab.put_file("cp1", "/etc/kubernetes/khatui/kubeadm-init.yaml", init_config().encode(), 0o600)
    argv = [
        "kubeadm",
        "init",
        "--config",
        "/etc/kubernetes/khatui/kubeadm-init.yaml",
        "--skip-phases",
        "addon/kube-proxy,bootstrap-token",  # it writes through the VIP, which no load balancer serves here
    ]
    result = lab.run_in("cp1", [*argv, LAB_LACKS, "--v", "5"], check=False, timeout=180)
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

    assert https_get(cluster_ca, "10.91.0.11", "/healthz") == (200, b"ok")
    assert https_get(cluster_ca, "10.91.0.11", "/readyz", hostname=VIP) == (200, b"ok")
    status, body = https_get(cluster_ca, "10.91.0.11", "/version")
    assert status == 200 and json.loads(body)["gitVersion"] == "v1.31.4"
    config_map = "/api/v1/namespaces/kube-system/configmaps/kubeadm-config"
    status, body = https_get(cluster_ca, "10.91.0.11", config_map)
    assert status == 403 and b'User \\"system:anonymous\\" cannot get' in body
    assert https_get(cluster_ca, "10.91.0.11", config_map, token="not-a-token")[0] == 401
    wait_for(
        lambda: _pid(lab, "cp1", "/usr/local/bin/kube-scheduler --") is not None, 15, "the kube-scheduler stand-in"
    )

    again = lab.run_in("cp1", argv, check=False)
    assert again.returncode == 1 and b"[ERROR Port-6443]: Port 6443 is in use" in again.stderr


def test_apiserver_stand_in_refuses_missing_certificates(lab: Lab, cluster_ca: Issued) -> None:
    argv = ["kube-apiserver", "--secure-port=7443", "--tls-cert-file=/nope.crt", "--tls-private-key-file=/nope.key"]
    result = lab.run_in("cp2", [*argv, "--etcd-servers=https://x:2379", "--allow-privileged=true"], check=False)
    assert result.returncode == 1
    assert b"--tls-cert-file /nope.crt: no such file" in result.stderr
