"""A verification that finds the cluster not working: its judge's findings become the failure, and
the rollout ends `incomplete` (every step ran), not `failed`; on the scripted fake transport."""

from __future__ import annotations

from khatui.events import NodeFailed, Outcome, RolloutFinished
from khatui.plan.model import Phase, WaitFor
from khatui.plan.readiness import ClusterWorking
from khatui.quoting.shell import Script
from tests.engine.conftest import Start
from tests.engine.fake_transport import FakeNodes, Reply
from tests.engine.plans import everywhere, plan_of, step

READY = '{"items": [{"kind": "Node", "metadata": {"name": "a"}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}]}'
NOT_READY = READY.replace('"True"}', '"False", "reason": "KubeletNotReady", "message": "cni plugin not initialized"}')
JUDGE = ClusterWorking(nodes=("a", "b"), workloads=(), control_planes=(), leases=())


def test_a_judged_wait_polls_until_its_judge_finds_nothing_missing(start: Start, nodes: FakeNodes) -> None:
    nodes.script("a", "get", Reply(0, NOT_READY), Reply(1, stderr="connection refused"), Reply(0, READY))
    wait = WaitFor(Script("get"), timeout=10, interval=0.001, judge=ClusterWorking(("a",), (), (), leases=()))
    executor, _ = start(plan_of(Phase("verify", "v", (step("verify", "a", "cluster", wait),), verifies=True)))
    assert executor.run().ok
    assert nodes.runs("a") == ["get"] * 3


def test_a_failed_verification_leaves_the_rollout_incomplete_naming_what_is_missing(
    start: Start, nodes: FakeNodes
) -> None:
    nodes.script("a", "get", Reply(0, NOT_READY))
    wait = WaitFor(Script("get"), timeout=0.05, interval=0.001, judge=JUDGE)
    verify = Phase("verify", "v", (step("verify", "a", "cluster", wait),), verifies=True)
    executor, events = start(plan_of(everywhere("p", "true"), verify))
    result = executor.run()
    (failure,) = events.of(NodeFailed)
    assert failure.exit_code is None
    assert failure.reason == (
        "not ready after 0 s: node a NotReady (KubeletNotReady: cni plugin not initialized); node b not registered"
    )
    (finished,) = events.of(RolloutFinished)
    assert (result.ok, finished.state) == (False, Outcome.INCOMPLETE)
    assert finished.summary.startswith(f"rollout {result.rollout_id} incomplete: every step ran")
    assert "verify/a/cluster: not ready after 0 s: node a NotReady" in finished.summary


def test_a_failure_outside_the_verification_still_fails_the_rollout(start: Start, nodes: FakeNodes) -> None:
    nodes.script("a", "get", Reply(0, NOT_READY))
    nodes.script("b", "true b", Reply(1))
    wait = WaitFor(Script("get"), timeout=0.05, interval=0.001, judge=JUDGE)
    verify = Phase("verify", "v", (step("verify", "a", "cluster", wait),), verifies=True)
    executor, events = start(plan_of(everywhere("p", "true"), verify))
    executor.run()
    assert events.of(RolloutFinished)[0].state is Outcome.FAILED
