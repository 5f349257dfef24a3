"""What `khatui apply` runs on nodes after `kubeadm init`, against the stand-ins: bootstrap tokens
(`kubeadm token create|list|delete`, kept in etcd by the apiserver stand-in), `kubeadm join` with
file discovery (accepted with a good token and CA, refused with the reason otherwise), `kubectl
apply -f` of the addons folder, and `kubectl get lease`."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator

import pytest
import yaml

from khatui_lab.lab import Lab
from tests.lab.certs import Issued, make_ca
from tests.lab.conftest import wait_for
from tests.lab.manifests import DNS, STORAGE
from tests.lab.standin_cluster import (
    CP1,
    LAB_LACKS,
    PKI,
    VIP,
    discovery_conf,
    https_get,
    init_config,
    join_config,
    push_pki,
    reset,
    start_etcd,
)

ADMIN = "/etc/kubernetes/admin.conf"
INIT = "/etc/kubernetes/khatui/kubeadm-init.yaml"
JOIN = "/etc/kubernetes/khatui/kubeadm-join.yaml"
DISCOVERY = "/etc/kubernetes/khatui/discovery.conf"
ADDONS = "/etc/kubernetes/khatui/addons"
TOKEN = "abcdef.0123456789abcdef"
CONFIG_MAP = "/api/v1/namespaces/kube-system/configmaps/kubeadm-config"
ROLLOUT_TOKEN = (
    f"kubeadm token delete abcdef >/dev/null 2>&1; kubeadm token create {TOKEN} --ttl 2h --kubeconfig {ADMIN}"
)
"""The rollout's own command (khatui/plan/phases/kubeadm.py)."""


@pytest.fixture(scope="module")
def cluster(lab: Lab) -> Iterator[Issued]:
    """cp1 initialised by kubeadm, with etcd on cp1 and cp1 itself as the endpoint (no load balancer)."""
    ca, etcd_ca = push_pki(lab)
    try:
        start_etcd(lab, etcd_ca)
        lab.put_file("cp1", INIT, init_config(f"{CP1}:6443").encode(), 0o600)
        result = lab.run_in("cp1", ["kubeadm", "init", "--config", INIT, LAB_LACKS], check=False, timeout=180)
        assert result.returncode == 0, result.stderr.decode()
        yield ca
    finally:
        reset(lab)


def _run(lab: Lab, node: str, *argv: str) -> subprocess.CompletedProcess[bytes]:
    return lab.run_in(node, list(argv), check=False, timeout=180)


def test_token_create_list_delete(lab: Lab, cluster: Issued) -> None:
    bad = _run(lab, "cp1", "kubeadm", "token", "create", "Not-A-Token", "--ttl", "2h", "--kubeconfig", ADMIN)
    assert bad.returncode == 1 and b'the token "Not-A-Token" was not of the form' in bad.stderr
    nowhere = _run(lab, "cp3", "kubeadm", "token", "create", TOKEN)
    assert nowhere.returncode == 1 and b"open /etc/kubernetes/admin.conf: no such file" in nowhere.stderr

    created = _run(lab, "cp1", "sh", "-c", ROLLOUT_TOKEN)
    assert (created.returncode, created.stdout) == (0, f"{TOKEN}\n".encode()), created.stderr
    again = _run(lab, "cp1", "kubeadm", "token", "create", TOKEN)
    assert again.returncode == 1 and b'a token with id "abcdef" already exists' in again.stderr
    forever = _run(lab, "cp1", "kubeadm", "token", "create", "--ttl", "0", "--description", "lab")
    assert forever.returncode == 0, forever.stderr
    other = forever.stdout.decode().strip()

    listed = _run(lab, "cp1", "kubeadm", "token", "list", "--kubeconfig", ADMIN)
    assert listed.returncode == 0, listed.stderr
    rows = {line.split()[0]: line.split() for line in listed.stdout.decode().splitlines()[1:]}
    assert rows[TOKEN][1] == "1h" and rows[TOKEN][3] == "authentication,signing"
    assert rows[TOKEN][-1] == "system:bootstrappers:kubeadm:default-node-token"
    assert rows[other][1:3] == ["<forever>", "<never>"] and rows[other][4] == "lab"

    deleted = _run(lab, "cp1", "kubeadm", "token", "delete", other)
    assert deleted.stdout == f'bootstrap token "{other[:6]}" deleted\n'.encode()
    gone = _run(lab, "cp1", "kubeadm", "token", "delete", other[:6])
    assert gone.returncode == 1
    assert f'bootstrap-token-{other[:6]}": secrets "bootstrap-token-{other[:6]}" not found'.encode() in gone.stderr
    assert other not in _run(lab, "cp1", "kubeadm", "token", "list").stdout.decode()


def _join(lab: Lab, node: str, discovery: bytes) -> subprocess.CompletedProcess[bytes]:
    lab.put_file(node, DISCOVERY, discovery, 0o600)
    return _run(lab, node, "kubeadm", "join", "--config", JOIN, LAB_LACKS)


def test_join_refuses_a_bad_discovery_with_the_reason(lab: Lab, cluster: Issued) -> None:
    lab.put_file("cp3", JOIN, join_config("cp3", "10.91.0.13", control_plane=False).encode(), 0o600)
    stranger = make_ca("kubernetes").cert
    for discovery, reason in (
        (discovery_conf(stranger, TOKEN), "CERTIFICATE_VERIFY_FAILED"),
        (discovery_conf(cluster.cert, None), "has no user token and discovery.tlsBootstrapToken is empty"),
        (discovery_conf(cluster.cert, "ABCDEF.0123456789abcdef"), "does not match [a-z0-9]{6}.[a-z0-9]{16}"),
        (discovery_conf(cluster.cert, "zzzzzz.0123456789abcdef"), "refused bootstrap token 'zzzzzz' (401"),
    ):
        result = _join(lab, "cp3", discovery)
        assert result.returncode == 1 and reason.encode() in result.stderr, result.stderr
        assert b"error execution phase: discovery: " in result.stderr
    assert _run(lab, "cp3", "test", "-e", "/etc/kubernetes/kubelet.conf").returncode == 1

    lab.put_file("cp2", JOIN, join_config("cp2", "10.91.0.12", control_plane=True).encode(), 0o600)
    result = _join(lab, "cp2", discovery_conf(stranger, TOKEN))
    assert result.returncode == 1
    assert b"is not the cluster CA already in /etc/kubernetes/pki/ca.crt" in result.stderr


def test_control_plane_join_and_its_apiserver_knows_the_token(lab: Lab, cluster: Issued) -> None:
    lab.put_file("cp2", JOIN, join_config("cp2", "10.91.0.12", control_plane=True).encode(), 0o600)
    result = _join(lab, "cp2", discovery_conf(cluster.cert, TOKEN))
    assert result.returncode == 1 and b"missing shared certificates sa.key, sa.pub" in result.stderr

    for name, mode in (("sa.key", 0o600), ("sa.pub", 0o644)):
        lab.put_file("cp2", f"{PKI}/{name}", lab.run_in("cp1", ["cat", f"{PKI}/{name}"]).stdout, mode)
    result = _run(lab, "cp2", "kubeadm", "join", "--config", JOIN, LAB_LACKS)
    assert result.returncode == 0, result.stderr.decode()
    assert b"Generating apiserver certificate and key" in result.stdout
    # cp2's own apiserver (its certificate covers the VIP) checks tokens in the shared etcd.
    assert https_get(cluster, "10.91.0.12", "/healthz", hostname=VIP) == (200, b"ok")
    status, body = https_get(cluster, "10.91.0.12", CONFIG_MAP, token=TOKEN)
    assert status == 200 and yaml.safe_load(body)["metadata"]["name"] == "kubeadm-config"
    assert https_get(cluster, "10.91.0.12", CONFIG_MAP, token="zzzzzz.0123456789abcdef")[0] == 401


def test_worker_join_writes_the_ca_and_starts_the_kubelet(lab: Lab, cluster: Issued) -> None:
    lab.put_file("cp3", JOIN, join_config("cp3", "10.91.0.13", control_plane=False).encode(), 0o600)
    result = _join(lab, "cp3", discovery_conf(cluster.cert, TOKEN))
    assert result.returncode == 0, result.stderr.decode()
    assert lab.run_in("cp3", ["cat", f"{PKI}/ca.crt"]).stdout == cluster.cert
    kubelet = yaml.safe_load(lab.run_in("cp3", ["cat", "/etc/kubernetes/kubelet.conf"]).stdout)
    assert kubelet["clusters"][0]["cluster"]["server"] == f"https://{CP1}:6443"
    assert _run(lab, "cp3", "systemctl", "is-active", "kubelet").stdout == b"active\n"


BAD = "apiVersion: v1\nmetadata: {name: nameless-kind}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {}\n"


def test_kubectl_apply_stores_a_folder_and_refuses_a_bad_document(lab: Lab, cluster: Issued) -> None:
    lab.put_file("cp1", f"{ADDONS}/10-dns.yaml", DNS.encode())
    lab.put_file("cp1", f"{ADDONS}/20-storage.yaml", STORAGE.encode())
    apply = ["kubectl", "--kubeconfig", ADMIN, "apply", "-f", ADDONS]  # the rollout's command
    result = _run(lab, "cp1", *apply)
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().splitlines() == [
        "configmap/coredns created",
        "deployment.apps/coredns created",
        "storageclass.storage.k8s.io/local created",
    ]
    lab.put_file("cp1", f"{ADDONS}/10-dns.yaml", DNS.replace("replicas: 2", "replicas: 3").encode())
    assert _run(lab, "cp1", *apply).stdout.decode().splitlines() == [
        "configmap/coredns unchanged",
        "deployment.apps/coredns configured",
        "storageclass.storage.k8s.io/local unchanged",
    ]
    get = ["kubectl", "--kubeconfig", ADMIN, "get", "deployment", "coredns", "-n", "kube-system", "-o", "json"]
    stored = _run(lab, "cp1", *get).stdout  # kept in etcd: what any control plane's apiserver answers
    assert json.loads(stored)["spec"]["replicas"] == 3

    lab.put_file("cp1", f"{ADDONS}/30-bad.yaml", BAD.encode())
    result = _run(lab, "cp1", *apply)
    assert result.returncode == 1
    assert b'30-bad.yaml" (document 1): kind not set' in result.stderr
    assert b'30-bad.yaml" (document 2): metadata.name not set' in result.stderr
    assert b"nothing was applied" in result.stderr
    lab.run_in("cp1", ["rm", f"{ADDONS}/30-bad.yaml"])
    assert _run(lab, "cp1", *get).stdout == stored

    wrong = discovery_conf(make_ca("kubernetes").cert, TOKEN, server=f"https://{CP1}:6443")
    lab.put_file("cp1", "/root/wrong-ca.conf", wrong)
    result = _run(
        lab, "cp1", "kubectl", "--kubeconfig", "/root/wrong-ca.conf", "apply", "-f", f"{ADDONS}/20-storage.yaml"
    )
    assert result.returncode == 1 and b"CERTIFICATE_VERIFY_FAILED" in result.stderr


def test_kubectl_get_lease_answers_from_the_static_pods(lab: Lab, cluster: Issued) -> None:
    names = ("kube-controller-manager", "kube-scheduler")
    argv = ["kubectl", "--kubeconfig", ADMIN, "get", "lease", "-n", "kube-system", *names]
    wait_for(lambda: _run(lab, "cp1", *argv).returncode == 0, 20, "cp1 to hold both leases")
    lines = _run(lab, "cp1", *argv).stdout.decode().splitlines()
    assert lines[0].split() == ["NAME", "HOLDER", "AGE"]
    assert [line.split()[0] for line in lines[1:]] == list(names)
    assert all(line.split()[1].startswith("cp1_") for line in lines[1:])

    lab.put_file("cp3", ADMIN, lab.run_in("cp1", ["cat", ADMIN]).stdout, 0o600)
    result = _run(lab, "cp3", *argv)  # a worker runs no controller-manager or scheduler
    assert result.returncode == 1
    assert b'Error from server (NotFound): leases.coordination.k8s.io "kube-scheduler" not found' in result.stderr
    assert _run(lab, "cp1", "kubectl", "--kubeconfig", ADMIN, "get", "lease", "kube-scheduler").returncode == 1
    result = _run(lab, "cp1", "kubectl", "--kubeconfig", ADMIN, "get", "widgets")
    assert result.returncode == 1 and b'error: the server doesn\'t have a resource type "widgets"' in result.stderr
