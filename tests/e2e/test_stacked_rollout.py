"""A full HA rollout on a 5-node lab: 3 stacked control planes (etcd as systemd units), 2 haproxy +
keepalived nodes with a VIP. Then idempotency, failures of the running cluster, and host keys."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.e2e.conftest import Env, make_env

SUBNET = "10.93.0"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    yield from make_env(tmp_path_factory, "kes", f"{SUBNET}.0/24", 5)


@pytest.fixture(scope="module")
def rolled_out(env: Env) -> Env:
    result = env.khatui("apply", str(env.spec), "--yes")
    assert "done:" in result.stdout + result.stderr
    return env


def etcdctl(env: Env, *args: str, cert: bool = True, endpoints: str | None = None) -> subprocess.CompletedProcess[str]:
    endpoints = endpoints or ",".join(f"https://{SUBNET}.{i}:2379" for i in (11, 12, 13))
    command = ["etcdctl", f"--endpoints={endpoints}", f"--cacert={env.pki('ca/etcd.crt')}", "--command-timeout=5s"]
    if cert:
        command += [
            f"--cert={env.pki('nodes/cp1/etcd-healthcheck-client.crt')}",
            f"--key={env.pki('nodes/cp1/etcd-healthcheck-client.key')}",
        ]
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, env={"ETCDCTL_API": "3", "PATH": "/usr/bin:/bin"}, timeout=30
    )


def test_etcd_cluster_is_healthy_and_requires_client_certificates(rolled_out: Env) -> None:
    health = etcdctl(rolled_out, "endpoint", "health")
    assert health.returncode == 0, health.stderr
    assert health.stderr.count("is healthy") + health.stdout.count("is healthy") == 3
    members = etcdctl(rolled_out, "member", "list")
    assert sorted(re.findall(r", (cp\d),", members.stdout)) == ["cp1", "cp2", "cp3"]
    refused = etcdctl(rolled_out, "endpoint", "health", cert=False)
    assert refused.returncode != 0
    assert (
        "bad certificate" in refused.stderr or "certificate required" in refused.stderr or "unhealthy" in refused.stderr
    )


def test_api_answers_through_the_vip_with_a_verified_certificate(rolled_out: Env) -> None:
    assert rolled_out.https_get(f"{SUBNET}.100", 6443, "/healthz", rolled_out.pki("ca/kubernetes.crt")) == "ok"


def test_files_on_the_nodes_are_the_rendered_ones(rolled_out: Env, tmp_path: Path) -> None:
    out = tmp_path / "render"
    rolled_out.khatui("render", str(rolled_out.spec), "--out", str(out))
    rows = [line.split("\t") for line in (out / "khatui-files.tsv").read_text().splitlines()[1:]]
    assert rows
    for node, path, *_, digest in rows:
        on_node = rolled_out.sh(node, f"sha256sum {path}").stdout.split()
        assert on_node and on_node[0] == digest, f"{node}:{path} differs from the rendered file"


NETWORK_NOT_READY = (
    "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
    "message:Network plugin returns error: cni plugin not initialized"
)
"""What a real kubelet on containerd says without a CNI configuration (kubelet_status.network_errors)."""


def _nodes(env: Env) -> dict[str, dict[str, str]]:
    """Node name -> its Ready condition, as `kubectl get nodes` on cp1 shows them ({} until it answers)."""
    done = env.sh("cp1", "kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes -o json")
    if done.returncode != 0:
        return {}
    items = json.loads(done.stdout)["items"]
    return {
        item["metadata"]["name"]: next(c for c in item["status"]["conditions"] if c["type"] == "Ready")
        for item in items
        if any(c["type"] == "Ready" for c in (item.get("status") or {}).get("conditions") or [])
    }


def test_every_node_registers_not_ready_without_a_pod_network(rolled_out: Env) -> None:
    spec = yaml.safe_load(rolled_out.spec.read_text())["spec"]
    kubelets = sorted(n["name"] for n in spec["nodes"] if {"control-plane", "worker"} & set(n["roles"]))
    assert kubelets == ["cp1", "cp2", "cp3"]
    deadline = time.monotonic() + 60
    while sorted(_nodes(rolled_out)) != kubelets and time.monotonic() < deadline:
        time.sleep(1)
    nodes = _nodes(rolled_out)
    assert sorted(nodes) == kubelets, rolled_out.sh("cp2", "journalctl -u kubelet --no-pager | tail -20").stdout
    for name, ready in nodes.items():
        assert (ready["status"], ready["reason"], ready["message"]) == (
            "False",
            "KubeletNotReady",
            NETWORK_NOT_READY,
        ), name
    table = rolled_out.sh("cp2", "kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes").stdout
    assert [line.split()[:2] for line in table.splitlines()[1:]] == [[n, "NotReady"] for n in kubelets]
    for joined in ("cp2", "cp3"):  # TLS-bootstrapped: a signed client certificate, no bootstrap file left
        assert rolled_out.sh(joined, "test -e /etc/kubernetes/bootstrap-kubelet.conf").returncode == 1
        subject = rolled_out.sh(
            joined, "openssl x509 -noout -subject -in /var/lib/kubelet/pki/kubelet-client-current.pem"
        )
        assert f"CN = system:node:{joined}" in subject.stdout
    conf = yaml.safe_load(rolled_out.sh("cp1", "cat /etc/kubernetes/kubelet.conf").stdout)  # kubelet-finalize
    assert conf["users"][0]["user"]["client-certificate"] == "/var/lib/kubelet/pki/kubelet-client-current.pem"


def _pids(env: Env) -> dict[str, str]:
    found = {}
    for node in ("cp1", "cp2", "cp3", "lb1", "lb2"):
        for unit in ("etcd", "haproxy", "keepalived", "kubelet"):
            pid = env.sh(node, f"systemctl show -p MainPID --value {unit}").stdout.strip()
            if pid and pid != "0":
                found[f"{node}/{unit}"] = pid
    return found


def test_second_plan_and_apply_change_nothing(rolled_out: Env) -> None:
    before = _pids(rolled_out)
    assert {"cp1/etcd", "cp1/kubelet", "lb1/haproxy", "lb2/keepalived"} <= set(before)
    plan = rolled_out.khatui("plan", str(rolled_out.spec), "--no-diff")
    assert "nothing would change: all 5 nodes are converged" in plan.stdout
    again = rolled_out.khatui("apply", str(rolled_out.spec), "--yes")
    assert "nothing would change" in again.stdout
    assert _pids(rolled_out) == before


def test_plan_lists_the_running_etcd_members_of_every_member(rolled_out: Env) -> None:
    plan = json.loads(rolled_out.khatui("plan", str(rolled_out.spec), "--output", "json").stdout)
    cells = {c["node"]: c for c in plan["preflight"] if c["check"] == "etcd-members"}
    for node in ("cp1", "cp2", "cp3"):
        assert cells[node]["status"] == "pass", cells[node]
        running = re.search(r"running: ([^(;]+) \(as in the spec\)", cells[node]["evidence"])
        assert running and sorted(running.group(1).split(", ")) == ["cp1", "cp2", "cp3"], cells[node]
    assert cells["lb1"]["evidence"] == "not an etcd member"


def test_a_changed_spec_rolls_out_detached_and_attach_follows_it(rolled_out: Env, tmp_path: Path) -> None:
    data = yaml.safe_load(rolled_out.spec.read_text())
    data["spec"]["dns"] = {"replicas": 3}
    spec = tmp_path / "changed.yaml"
    spec.write_text(yaml.safe_dump(data, sort_keys=False))
    plan = rolled_out.khatui("plan", str(spec), "--no-diff")
    assert "1 change on 1 node; 4 nodes already converged" in plan.stdout
    detached = rolled_out.khatui("apply", str(spec), "--yes", "--detach")
    match = re.search(r"rollout (\S+) runs in the background \(pid (\d+)\)", detached.stdout)
    assert match, detached.stdout
    followed = rolled_out.khatui("attach", match.group(1), timeout=180)
    assert "addons/cp1/addons" in followed.stdout and f"rollout {match.group(1)} done in " in followed.stdout
    assert "replicas: 3" in rolled_out.sh("cp1", "cat /etc/kubernetes/khatui/addons/30-coredns.yaml").stdout


def test_diagnose_bundles_logs_without_keys(rolled_out: Env, tmp_path: Path) -> None:
    import tarfile

    out = tmp_path / "bundle.tar.gz"
    rolled_out.khatui("diagnose", "-o", str(out))
    with tarfile.open(out) as tar:
        names = tar.getnames()
        texts = {n: tar.extractfile(n).read().decode() for n in names if tar.getmember(n).isfile()}  # type: ignore[union-attr]
    assert any(n.endswith("/report.txt") for n in names)
    logs = next(text for name, text in texts.items() if name.endswith("nodes/cp1/logs.txt"))
    assert "etcd" in logs
    assert any(n.endswith("rendered/lb1/etc/haproxy/haproxy.cfg") for n in names)
    assert any(n.endswith("certificates.json") for n in names)
    assert not any("PRIVATE KEY" in text for text in texts.values())
    assert out.stat().st_mode & 0o777 == 0o600


def test_quorum_survives_a_member_loss(rolled_out: Env) -> None:
    import time

    rolled_out.sh("cp3", "systemctl kill -s KILL etcd; systemctl stop etcd")
    try:
        endpoints = f"https://{SUBNET}.11:2379,https://{SUBNET}.12:2379"
        # If cp3 led, the two others elect a new leader first (a few seconds); then writes succeed.
        deadline = time.monotonic() + 30
        while True:
            put = etcdctl(rolled_out, "put", "/khatui/e2e", "still-writable", endpoints=endpoints)
            if put.returncode == 0 or time.monotonic() > deadline:
                break
        assert put.returncode == 0 and "OK" in put.stdout, put.stderr
        got = etcdctl(rolled_out, "get", "/khatui/e2e", "--print-value-only", endpoints=endpoints)
        assert got.stdout.strip() == "still-writable"
    finally:
        rolled_out.sh("cp3", "systemctl start --no-block etcd")


def _vip_holder(env: Env) -> str | None:
    for node in ("lb1", "lb2"):
        if f"{SUBNET}.100/" in env.sh(node, "ip -o addr show dev eth0").stdout:
            return node
    return None


def test_vip_moves_when_the_master_lb_stops(rolled_out: Env) -> None:
    import time

    holder = _vip_holder(rolled_out)
    assert holder in ("lb1", "lb2")
    other = "lb2" if holder == "lb1" else "lb1"
    rolled_out.sh(holder, "systemctl stop keepalived")
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and _vip_holder(rolled_out) != other:
            time.sleep(0.2)
        assert _vip_holder(rolled_out) == other
        assert rolled_out.https_get(f"{SUBNET}.100", 6443, "/healthz", rolled_out.pki("ca/kubernetes.crt")) == "ok"
    finally:
        rolled_out.sh(holder, "systemctl start keepalived")


def test_changed_host_key_is_refused(rolled_out: Env, tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    known = tmp_path / "known_hosts"
    lines = Path(rolled_out.lab.known_hosts).read_text().splitlines()
    other = tmp_path / "other"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    fake = Path(f"{other}.pub").read_text().split()[:2]
    known.write_text(
        "\n".join(
            f"{line.split()[0]} {fake[0]} {fake[1]}" if line.startswith(f"{SUBNET}.14") else line for line in lines
        )
        + "\n"
    )
    spec.write_text(rolled_out.spec.read_text().replace(str(rolled_out.lab.known_hosts), str(known)))
    result = rolled_out.khatui("plan", str(spec), check=False)
    assert result.returncode != 0
    assert "lb1" in result.stdout + result.stderr and "HOST KEY CHANGED" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_wrong_client_key_is_a_clear_error(rolled_out: Env, tmp_path: Path) -> None:
    key = tmp_path / "wrong"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    spec = tmp_path / "spec.yaml"
    spec.write_text(rolled_out.spec.read_text().replace(str(rolled_out.lab.identity_file), str(key)))
    result = rolled_out.khatui("plan", str(spec), check=False)
    assert result.returncode != 0
    assert "SSH authentication as 'root' failed" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
