"""The verification's judges on recorded `kubectl get -o json` and `etcdctl member list -w json` outputs
(tests/plan/readiness/, shaped as kubectl 1.31 and etcdctl 3.5 print them): what each reports missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from khatui.plan.readiness import ClusterWorking, EtcdMembers, Workload

RECORDED = Path(__file__).parent / "readiness"
CNI = (
    "KubeletNotReady: container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
    "message:Network plugin returns error: cni plugin not initialized"
)
CLUSTER = ClusterWorking(
    nodes=("cp1", "w1"),
    workloads=(Workload("DaemonSet", "kube-system", "kube-proxy"), Workload("Deployment", "kube-system", "coredns")),
    control_planes=("cp1",),
)


@pytest.mark.parametrize(
    ("recorded", "missing"),
    [
        ("cluster-working.json", []),
        (
            "no-pod-network.json",
            [f"node cp1 NotReady ({CNI})", f"node w1 NotReady ({CNI})", "deployment kube-system/coredns 0/2 available"],
        ),
        (
            "missing-node.json",
            [
                "node w1 not registered",
                "daemonset kube-system/kube-proxy missing",
                "lease kube-system/kube-controller-manager is held by w1_11111111-2222-3333-4444-555555555555, "
                "not by a control plane",
                "lease kube-system/kube-scheduler has no holder",
            ],
        ),
    ],
)
def test_cluster_judge_names_what_is_missing(recorded: str, missing: list[str]) -> None:
    assert CLUSTER((RECORDED / recorded).read_text()) == missing


@pytest.mark.parametrize(
    ("output", "missing"),
    [
        ("", ["the output is not JSON"]),
        ("error: You must be logged in to the server (Unauthorized)", ["the output is not JSON"]),
        ('{"kind": "Status"}', ["the output is not a kubectl List"]),
        ("[]", ["the output is not a kubectl List"]),
    ],
)
def test_an_unreadable_output_is_a_problem_not_an_exception(output: str, missing: list[str]) -> None:
    assert CLUSTER(output) == missing


def test_a_daemonset_scheduled_nowhere_is_not_available() -> None:
    output = '{"items": [{"kind": "DaemonSet", "metadata": {"namespace": "kube-system", "name": "kube-proxy"}, "status": {}}]}'
    judge = ClusterWorking((), (Workload("DaemonSet", "kube-system", "kube-proxy"),), ())
    assert judge(output)[0] == "daemonset kube-system/kube-proxy runs on no node"


@pytest.mark.parametrize(
    ("names", "missing"),
    [
        (
            ("cp1", "cp2", "cp3"),
            ["etcd member https://10.0.0.13:2380 is not started", "etcd member cp3 is not in the member list"],
        ),
        (("cp1",), ["etcd member cp2 is not in the spec", "etcd member https://10.0.0.13:2380 is not started"]),
    ],
)
def test_etcd_members_are_exactly_the_spec_and_started(names: tuple[str, ...], missing: list[str]) -> None:
    assert sorted(EtcdMembers(names)((RECORDED / "etcd-one-unstarted.json").read_text())) == sorted(missing)


def test_a_learner_is_not_a_full_member() -> None:
    output = '{"members": [{"name": "cp1", "clientURLs": ["https://a:2379"], "isLearner": true}]}'
    assert EtcdMembers(("cp1",))(output) == ["etcd member cp1 is still a learner"]


def test_etcd_judge_refuses_what_is_not_a_member_list() -> None:
    assert EtcdMembers(("cp1",))("Error: context deadline exceeded") == ["the etcdctl output is not JSON"]
    assert EtcdMembers(("cp1",))("{}") == ["the etcdctl output lists no members"]
