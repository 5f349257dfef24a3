"""Held failures on the fake transport: a failed node waits for the operator to retry, skip or give up,
while the other nodes go on; an abort gives up every held one."""

from __future__ import annotations

from concurrent.futures import Future

from khatui.engine.executor import Executor, RolloutResult
from khatui.engine.holds import HoldDecision
from khatui.events import FailureResolved, NodeFailed, OutputLine, StepStarted, StepState
from tests.engine.conftest import Background, Start
from tests.engine.fake_transport import FakeNodes, Reply
from tests.engine.plans import NODES, everywhere, phase, plan_of, run, states, step
from tests.engine.recorder import Recorder

Held = tuple[Executor, Recorder, Future[RolloutResult]]


def hold_b(start: Start, nodes: FakeNodes, background: Background, *replies: Reply, **essential: str) -> Held:
    """Run a two-phase plan whose step x fails on node b (answering `replies` in turn, else exit 1),
    with failures held; returns once b's failure is held."""
    nodes.script("b", "x b", *(replies or (Reply(1),)))
    one = phase(
        "one", *(s for n in NODES for s in (step("one", n, "x", run(f"x {n}")), step("one", n, "y", run(f"y {n}"))))
    )
    executor, events = start(plan_of(one, everywhere("two", "two"), essential=essential), hold_failures=True)
    future = background(executor)
    held = events.wait_for(NodeFailed)
    assert (held.node, held.step_id, held.held) == ("b", "one/b/x", True)
    return executor, events, future


def test_a_held_failure_retried_runs_the_step_again(start: Start, nodes: FakeNodes, background: Background) -> None:
    executor, events, future = hold_b(start, nodes, background, Reply(1), Reply(0))
    # The other nodes go on while b waits.
    assert nodes.wait_started("y a") and nodes.wait_started("y c")
    assert executor.decide("b", HoldDecision.RETRY) is None
    result = future.result(timeout=10)
    assert result.ok, result.summary
    assert nodes.runs("b") == ["x b", "x b", "y b", "two b"]
    assert [(e.node, e.step_id, e.decision) for e in events.of(FailureResolved)] == [("b", "one/b/x", "retry")]
    assert [e.attempt for e in events.of(StepStarted) if e.step_id == "one/b/x"] == [1, 2]
    assert any(e.line == "khatui: running x again (attempt 2)" for e in events.of(OutputLine))
    runs = [(s, attempt, result) for s, attempt, _, result in executor.journal.runs(executor.rollout.id)]
    assert [r for r in runs if r[0] == "one/b/x"] == [("one/b/x", 1, "failed"), ("one/b/x", 2, "done")]


def test_a_held_failure_skipped_leaves_the_node_out(start: Start, nodes: FakeNodes, background: Background) -> None:
    executor, events, future = hold_b(start, nodes, background)
    assert executor.decide("b", HoldDecision.SKIP) is None
    result = future.result(timeout=10)
    assert (result.ok, result.failures, result.skipped) == (False, [], ["b"])
    assert nodes.runs("b") == ["x b"]
    assert nodes.runs("a") == ["x a", "y a", "two a"]
    skipped = (StepState.SKIPPED, "node b skipped by the operator")
    assert [states(events)[s] for s in ("one/b/x", "one/b/y", "two/b/s")] == [skipped] * 3
    assert "finished without b (skipped by the operator)" in result.summary
    assert executor.journal.rollout(executor.rollout.id).state == "incomplete"  # type: ignore[union-attr]


def test_an_essential_node_cannot_be_skipped_and_giving_up_fails_it(
    start: Start, nodes: FakeNodes, background: Background
) -> None:
    executor, events, future = hold_b(start, nodes, background, b="it is the only etcd member")
    assert executor.decide("b", HoldDecision.SKIP) == "b cannot be skipped: it is the only etcd member"
    assert executor.decide("a", HoldDecision.GIVE_UP) == "no failure of a is waiting for a decision"
    assert executor.decide("b", HoldDecision.GIVE_UP) is None
    assert executor.decide("b", HoldDecision.RETRY) == "no failure of b is waiting for a decision"
    result = future.result(timeout=10)
    assert not result.ok and result.skipped == []
    assert [(f.node, f.held) for f in result.failures] == [("b", False)]
    assert states(events)["one/b/y"] == (StepState.SKIPPED, "node b failed at x")
    assert [e.decision for e in events.of(FailureResolved)] == ["give-up"]


def test_abort_gives_up_a_held_failure(start: Start, nodes: FakeNodes, background: Background) -> None:
    executor, events, future = hold_b(start, nodes, background)
    executor.abort()
    result = future.result(timeout=10)
    assert result.aborted and not result.ok
    assert [e.decision for e in events.of(FailureResolved)] == ["give-up"]
    assert {states(events)[f"two/{n}/s"] for n in NODES} == {(StepState.SKIPPED, "aborted")}
