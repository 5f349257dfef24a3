"""Plan building, data-driven: spec + rendered files + facts -> the actions or no-op reasons of each step."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest

from khatui.facts.model import NodeFacts
from khatui.plan.compose import KUBEADM_DONE, build_plan, essential, probed_paths
from khatui.plan.model import Plan, Run, Upload, WaitFor
from khatui.render import render_cluster
from khatui.render.files import FileKind, RenderedFile
from khatui.spec.cluster import Cluster
from khatui.spec.yamlio import load_file
from tests.conftest import ROOT

TOKEN = "abcdef.0123456789abcdef"


def example(name: str) -> Cluster:
    return Cluster.model_validate(load_file(str(ROOT / "assets/examples" / name)).data)


STACKED = example("stacked-haproxy-ipvs-nfs.yaml")
EXTERNAL = example("external-etcd-cloudlb-ceph.yaml")


def files_of(cluster: Cluster) -> list[RenderedFile]:
    pki = [
        RenderedFile(n.name, "/etc/kubernetes/pki/ca.crt", b"CA CERT", FileKind.CERTIFICATE, "pki", 0o644)
        for n in cluster.spec.nodes
    ] + [
        RenderedFile(n.name, "/etc/kubernetes/pki/etcd/peer.key", b"KEY", FileKind.KEY, "pki", 0o600)
        for n in cluster.spec.nodes
        if "etcd" in n.roles
    ]
    return [*render_cluster(cluster), *pki]


def converged(cluster: Cluster, files: list[RenderedFile]) -> dict[str, NodeFacts]:
    """Facts of nodes on which every file is in place, kubeadm has run and services are active."""
    facts = {}
    for node in cluster.spec.nodes:
        hashes = {f.path: hashlib.sha256(f.data).hexdigest() for f in files if f.node == node.name}
        hashes[KUBEADM_DONE] = "0" * 64
        services = {"etcd": "active", "haproxy": "active", "keepalived": "active", "kubelet": "active"}
        facts[node.name] = NodeFacts(node.name, file_hashes=hashes, services=services)
    return facts


def step(plan: Plan, step_id: str):  # type: ignore[no-untyped-def]
    return plan.step(step_id)


def commands(plan: Plan, step_id: str) -> list[str]:
    return [a.command for a in plan.step(step_id).actions if isinstance(a, Run | WaitFor)]


def uploads(plan: Plan, step_id: str) -> list[str]:
    return [a.path for a in plan.step(step_id).actions if isinstance(a, Upload)]


def test_offline_plan_follows_the_guide_order() -> None:
    plan = build_plan(STACKED, files_of(STACKED), "h", None, TOKEN)
    assert [p.name for p in plan.phases] == [
        "pki",
        "etcd",
        "etcd-health",
        "lb",
        "control-plane-init",
        "control-plane-join",
        "workers",
        "addons",
        "verify",
    ]
    requires = {p.name: p.requires for p in plan.phases}
    assert requires["control-plane-init"] == ("etcd-health", "lb")
    assert requires["lb"] == ("pki",)
    assert (
        commands(plan, "control-plane-init/cp1/kubeadm")[-1]
        == "kubeadm init --config /etc/kubernetes/khatui/kubeadm-init.yaml"
    )
    assert (
        commands(plan, "control-plane-join/cp2/kubeadm")[-1]
        == "kubeadm join --config /etc/kubernetes/khatui/kubeadm-join.yaml"
    )
    assert commands(plan, "workers/worker1/kubeadm")[-1].startswith("kubeadm join")
    assert "kubeadm token create abcdef.0123456789abcdef --ttl 2h" in commands(plan, "control-plane-init/cp1/token")[0]
    assert plan.secrets[0] == TOKEN
    assert all(not s.is_noop for s in plan.steps())
    assert {s.node for s in plan.phases[0].steps} == {n.name for n in STACKED.spec.nodes}


def test_keys_are_secret_and_certificates_summarised() -> None:
    plan = build_plan(
        STACKED, files_of(STACKED), "h", None, TOKEN, {"/etc/kubernetes/pki/ca.crt": "certificate CN=kubernetes"}
    )
    actions = {a.path: a for a in plan.step("pki/cp1/certificates").actions if isinstance(a, Upload)}
    assert actions["/etc/kubernetes/pki/etcd/peer.key"].secret
    assert actions["/etc/kubernetes/pki/ca.crt"].summary == "certificate CN=kubernetes"
    discovery = next(a for a in plan.step("workers/worker1/kubeadm").actions if isinstance(a, Upload))
    assert discovery.secret and TOKEN.encode() in discovery.content


def test_static_pod_etcd_runs_a_standalone_kubelet_until_kubeadm() -> None:
    plan = build_plan(STACKED, files_of(STACKED), "h", None, TOKEN)
    assert "/etc/kubernetes/manifests/etcd.yaml" in uploads(plan, "etcd/cp2/etcd")
    assert "/etc/systemd/system/kubelet.service.d/20-khatui-standalone.conf" in uploads(plan, "etcd/cp2/etcd")
    assert "systemctl restart kubelet" in commands(plan, "etcd/cp2/etcd")[0]
    assert commands(plan, "control-plane-join/cp2/kubeadm")[0].startswith(
        "rm -f /etc/systemd/system/kubelet.service.d/20-khatui-standalone.conf"
    )


def test_systemd_etcd_starts_without_waiting_for_quorum() -> None:
    plan = build_plan(EXTERNAL, files_of(EXTERNAL), "h", None, TOKEN)
    assert uploads(plan, "etcd/etcd1/etcd")[
        0
    ] == "/etc/kubernetes/khatui/etcdctl.env" or "/etc/systemd/system/etcd.service" in uploads(plan, "etcd/etcd1/etcd")
    assert "systemctl restart --no-block etcd" in commands(plan, "etcd/etcd1/etcd")[0]
    assert "etcd/master1/etcd" not in {s.id for s in plan.steps()}
    assert not any(s.node.startswith("lb") for s in plan.steps() if s.phase == "lb")


def test_converged_nodes_need_nothing() -> None:
    files = files_of(STACKED)
    plan = build_plan(STACKED, files, "h", converged(STACKED, files), TOKEN)
    assert plan.changes() == 0
    reasons = {s.id: s.noop_reason for s in plan.steps() if s.is_noop}
    assert reasons["lb/lb1/proxy"] == "haproxy.cfg, keepalived.conf, khatui-check-haproxy.sh already up to date"
    assert reasons["control-plane-init/cp1/kubeadm"] == "node already initialised by kubeadm"
    assert "control-plane-init/cp1/token" not in reasons  # no node left to join: no token
    assert {s.id for s in plan.steps() if not s.is_noop} == {s.id for s in plan.steps() if s.read_only}


def test_one_changed_file_restarts_only_its_service() -> None:
    files = files_of(STACKED)
    facts = converged(STACKED, files)
    lb1 = facts["lb1"]
    facts["lb1"] = replace(lb1, file_hashes={**lb1.file_hashes, "/etc/haproxy/haproxy.cfg": "f" * 64})
    plan = build_plan(STACKED, files, "h", facts, TOKEN)
    assert plan.changes() == 1
    assert uploads(plan, "lb/lb1/proxy") == ["/etc/haproxy/haproxy.cfg"]
    assert commands(plan, "lb/lb1/proxy") == ["systemctl enable haproxy && systemctl reload-or-restart haproxy"]


def test_stopped_service_with_current_files_is_started() -> None:
    files = files_of(EXTERNAL)
    facts = converged(EXTERNAL, files)
    facts["etcd2"] = replace(facts["etcd2"], services={"etcd": "inactive"})
    plan = build_plan(EXTERNAL, files, "h", facts, TOKEN)
    assert commands(plan, "etcd/etcd2/etcd") == ["systemctl start --no-block etcd"]
    assert plan.changes() == 1


def test_redo_steps_are_never_noops() -> None:
    files = files_of(STACKED)
    plan = build_plan(
        STACKED, files, "h", converged(STACKED, files), TOKEN, redo=frozenset({"control-plane-init/cp1/prepare"})
    )
    prepare = plan.step("control-plane-init/cp1/prepare")
    assert not prepare.is_noop and prepare.check is None
    assert "sysctl -q -p /etc/sysctl.d/90-khatui-kube-proxy.conf" in commands(plan, "control-plane-init/cp1/prepare")


@pytest.mark.parametrize("cluster", [STACKED, EXTERNAL], ids=["stacked", "external"])
def test_probe_reads_contents_but_never_keys(cluster: Cluster) -> None:
    hashes, contents = probed_paths(files_of(cluster))
    assert all(KUBEADM_DONE in paths for paths in hashes.values())
    assert not any(path.endswith(".key") for paths in contents.values() for path in paths)
    assert any("/etc/kubernetes/pki/etcd/peer.key" in paths for paths in hashes.values())


def test_external_static_pod_etcd_keeps_its_standalone_kubelet() -> None:
    data = load_file(str(ROOT / "assets/examples/external-etcd-cloudlb-ceph.yaml")).data
    data["spec"]["etcd"]["runAs"] = "static-pod"
    cluster = Cluster.model_validate(data)
    files = files_of(cluster)
    plan = build_plan(cluster, files, "h", None, TOKEN)
    assert "/etc/systemd/system/kubelet.service.d/20-khatui-standalone.conf" in uploads(plan, "etcd/etcd1/etcd")
    assert "systemctl restart kubelet" in commands(plan, "etcd/etcd1/etcd")[0]
    facts = converged(cluster, files)
    assert build_plan(cluster, files, "h", facts, TOKEN).step("etcd/etcd1/etcd").is_noop


def test_a_kubeadm_cut_off_halfway_is_rerun_past_its_preflight() -> None:
    files = files_of(STACKED)
    plan = build_plan(STACKED, files, "h", None, TOKEN, redo=frozenset({"control-plane-init/cp1/kubeadm"}))
    assert commands(plan, "control-plane-init/cp1/kubeadm")[-1].endswith(
        "kubeadm-init.yaml --ignore-preflight-errors=all"
    )
    assert commands(plan, "control-plane-join/cp2/kubeadm")[-1].endswith("kubeadm-join.yaml")


def test_a_spec_change_elsewhere_does_not_touch_unchanged_files() -> None:
    """Every rendered config's header names the spec's digest; only the bodies decide."""
    files = files_of(STACKED)
    facts = converged(STACKED, files)
    facts = {
        name: replace(f, file_contents={x.path: x.data for x in files if x.node == name and x.kind is not FileKind.KEY})
        for name, f in facts.items()
    }
    data = load_file(str(ROOT / "assets/examples/stacked-haproxy-ipvs-nfs.yaml")).data
    data["spec"]["dns"]["replicas"] = 5
    changed = Cluster.model_validate(data)
    plan = build_plan(changed, files_of(changed), "h2", facts, TOKEN)
    assert plan.changes() == 1
    assert uploads(plan, "addons/cp1/addons") == ["/etc/kubernetes/khatui/addons/30-coredns.yaml"]


def test_nodes_a_rollout_cannot_skip() -> None:
    """etcd members and the first control plane are essential; workers, other masters and one of two lb nodes are not."""
    stacked = essential(STACKED)
    assert set(stacked) == {"cp1", "cp2", "cp3"}
    assert stacked["cp1"].startswith("an etcd member") and stacked["cp2"].startswith("an etcd member")
    external = essential(EXTERNAL)
    assert set(external) == {"etcd1", "etcd2", "etcd3", "master1"}
    assert external["master1"] == "the first control plane: every other node joins through it"
    data = load_file(str(ROOT / "assets/examples/stacked-haproxy-ipvs-nfs.yaml")).data
    data["spec"]["nodes"] = [n for n in data["spec"]["nodes"] if n["name"] != "lb2"]
    one_lb = essential(Cluster.model_validate(data))
    assert one_lb["lb1"] == "the only load balancer node: the API address depends on it"
    assert build_plan(STACKED, render_cluster(STACKED), "h").essential == stacked
