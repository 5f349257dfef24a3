"""Resume and the rollout lock on the fake transport: what a continued rollout runs again, and the
lock taken before the first phase, refused with its owner named, taken over by the same rollout,
released after the last phase. The lock's script itself runs on a real shell in test_executor.py."""

from __future__ import annotations

import pytest

from khatui.engine.executor import log_dir
from khatui.engine.rollout_lock import LOCK_DIR
from khatui.events import NodeFailed, OutputLine, PhaseFinished, StepStarted, StepState
from khatui.journal import Journal
from khatui.plan.model import Upload
from khatui.quoting.shell import Script
from tests.engine.conftest import Start
from tests.engine.fake_transport import LOST, FakeNodes, Reply, releases_lock, takes_lock
from tests.engine.plans import NODES, everywhere, phase, plan_of, run, states, step


# -- resume -------------------------------------------------------------------------------------
def test_resume_reruns_only_what_is_not_done_and_in_place(start: Start, nodes: FakeNodes, journal: Journal) -> None:
    upload = Upload("/etc/khatui/a.conf", b"x\n")
    plan = plan_of(
        phase(
            "p",
            step("p", "a", "trusted", run("trusted")),
            step("p", "a", "upload", upload),
            step("p", "a", "checked", run("checked"), check=Script("checked-in-place")),
            step("p", "a", "gone", run("gone"), check=Script("gone-in-place")),
            step("p", "a", "failed", run("failed")),
            step("p", "a", "never", run("never")),
        )
    )
    nodes.script("a", "failed", Reply(1), Reply(0))
    nodes.script("a", "gone-in-place", Reply(1))
    first, _ = start(plan)
    assert not first.run().ok
    assert nodes.runs() == ["trusted", "checked", "gone", "failed"]
    nodes.calls.clear()

    again, events = start(plan, rollout_id=first.rollout.id)
    result = again.run()
    assert result.ok, result.summary
    # The checks decide for steps that have one; a command-only step recorded done is trusted; an
    # upload, the failed step (a redo) and the steps never reached run again.
    assert nodes.runs() == ["checked-in-place", "gone-in-place", "gone", "failed", "never"]
    assert len(nodes.of("/etc/khatui/a.conf")) == 1
    found = states(events)
    assert (
        found["p/a/trusted"] == found["p/a/checked"] == (StepState.DONE, "done earlier in this rollout; still in place")
    )
    assert {e.step_id for e in events.of(StepStarted)} == {"p/a/upload", "p/a/gone", "p/a/failed", "p/a/never"}
    assert journal.rollout(first.rollout.id).state == "done"  # type: ignore[union-attr]


def test_a_step_cut_off_while_running_runs_again_on_resume(start: Start, nodes: FakeNodes, journal: Journal) -> None:
    plan = plan_of(
        phase("p", step("p", "a", "cut", run("cut")), step("p", "a", "checked", run("checked"), check=Script("ok?")))
    )
    first, _ = start(plan)
    rollout = first.rollout.id
    first.run()
    for step_id in ("p/a/cut", "p/a/checked"):  # as a process killed mid-step leaves them
        journal.set_step(rollout, step_id, "p", "a", StepState.RUNNING)
    nodes.calls.clear()
    again, _ = start(plan, rollout_id=rollout)
    assert again.run().ok
    assert nodes.runs() == ["cut", "ok?"]


# -- the rollout lock ---------------------------------------------------------------------------
def test_the_lock_is_taken_first_and_released_last_on_every_node(start: Start, nodes: FakeNodes) -> None:
    nodes.script("b", "work b", Reply(1))
    executor, _ = start(plan_of(everywhere("p", "work")))
    executor.run()
    for n in NODES:
        mine = [c for c in nodes.calls if c.node == n]
        assert takes_lock(mine[0].what) and executor.rollout.id in mine[0].what
        assert releases_lock(mine[-1].what)
        assert (mine[0].ended or 0) < min(c.started for c in nodes.calls if not takes_lock(c.what))


def test_a_node_locked_by_another_rollout_is_refused_with_the_owner_named(start: Start, nodes: FakeNodes) -> None:
    nodes.script("b", takes_lock, Reply(75, "other-rollout ophost 4242\n"))
    plan = plan_of(everywhere("one", "one"), everywhere("two", "two", requires=("one",)))
    executor, events = start(plan)
    result = executor.run()
    assert not result.ok
    (failure,) = events.of(NodeFailed)
    assert (failure.node, failure.step_id, failure.command) == ("b", "lock", "take the rollout lock")
    assert failure.reason == (
        f"locked by rollout other-rollout ophost 4242 (rollout id, host, pid, start); if that rollout is gone, remove {LOCK_DIR} on b"
    )
    assert nodes.runs("b") == [] and nodes.runs("a") == ["one a"]
    assert [e.ok for e in events.of(PhaseFinished)] == [False, False]
    assert sorted(c.node for c in nodes.calls if releases_lock(c.what)) == ["a", "c"]


def test_the_same_rollout_takes_its_lock_over_on_resume(start: Start, nodes: FakeNodes, journal: Journal) -> None:
    record = journal.new_rollout("test", "spec.yaml", "hash", "", log_dir(journal.path))
    nodes.script("a", takes_lock, Reply(75, f"{record.id} crashed-host 99\n"))
    executor, events = start(plan_of(everywhere("p", "work")), rollout_id=record.id)
    assert executor.run().ok
    assert events.of(NodeFailed) == []
    assert nodes.runs("a") == ["work a"]


@pytest.mark.parametrize(
    ("reply", "exit_code", "reason"),
    [
        (Reply(1, stderr="read-only file system\n"), 1, "cannot take the rollout lock: read-only file system"),
        (LOST, None, "b: connection lost (after 4 attempts)"),
    ],
)
def test_a_lock_that_cannot_be_taken_fails_the_node(
    start: Start, nodes: FakeNodes, reply: Reply, exit_code: int | None, reason: str
) -> None:
    nodes.script("b", takes_lock, reply)
    executor, events = start(plan_of(everywhere("p", "work")))
    assert not executor.run().ok
    (failure,) = events.of(NodeFailed)
    assert (failure.node, failure.exit_code, failure.reason) == ("b", exit_code, reason)
    assert not [e for e in events.of(OutputLine) if "reconnecting" in e.line]
    assert nodes.runs("b") == []
