"""The executor's order and failures on the scripted fake transport, in-process: order within a node,
nodes in parallel, barriers between phases, `requires`, no-ops, redaction, reconnects, WaitFor, abort.

What SSH itself does is tested against sshd (test_executor.py and the session tests); here each node
answers as the test scripts it, and the calls' sequence numbers say what happened before what.
"""

from __future__ import annotations

import threading
from pathlib import Path

from khatui.events import NodeFailed, OutputLine, PhaseFinished, RolloutFinished, StepState
from khatui.plan.model import Upload, WaitFor
from khatui.quoting.shell import Script
from tests.engine.conftest import FAST, Background, Start
from tests.engine.fake_transport import LOST, FakeNodes, Reply, releases_lock
from tests.engine.plans import NODES, everywhere, phase, plan_of, run, states, step


# -- order, parallelism, barriers ---------------------------------------------------------------
def test_steps_keep_their_order_nodes_run_at_once_and_phases_are_barriers(
    start: Start, nodes: FakeNodes, background: Background
) -> None:
    gate = threading.Event()
    for n in NODES:
        nodes.script(n, f"first {n}", Reply(hang=gate))
    nodes.script("a", "late a", Reply(delay=0.02))
    one = phase(
        "one",
        *(
            step("one", n, f"s{k}", run(f"{'first' if k == 0 else 'late'} {n}"), run(f"then-{k} {n}"))
            for n in NODES
            for k in (0, 1)
        ),
    )
    executor, events = start(plan_of(one, everywhere("two", "second", requires=("one",))))
    future = background(executor)
    # Every node's first command is running at once before any is let go: the nodes run in parallel.
    assert all(nodes.wait_started(f"first {n}") for n in NODES)
    gate.set()
    result = future.result(timeout=10)
    assert result.ok, result.summary
    for n in NODES:
        assert nodes.runs(n) == [f"first {n}", f"then-0 {n}", f"late {n}", f"then-1 {n}", f"second {n}"]
    last_of_one = max(c.ended or 0 for c in nodes.calls if c.what.split()[0] in ("first", "late", "then-0", "then-1"))
    first_of_two = min(c.started for c in nodes.calls if c.what.startswith("second"))
    assert last_of_one < first_of_two
    assert [e.phase for e in events.of(PhaseFinished)] == ["one", "two"]
    assert all(state is StepState.DONE for state, _ in states(events).values())


def test_a_failed_node_stops_its_dependents_not_unrelated_nodes_mid_phase(start: Start, nodes: FakeNodes) -> None:
    nodes.script("b", "etcd b", Reply(7, "line1\nline2\n"))
    etcd = phase(
        "etcd",
        *(s for n in NODES for s in (step("etcd", n, "a", run(f"etcd {n}")), step("etcd", n, "b", run(f"after {n}")))),
    )
    plan = plan_of(etcd, everywhere("lb", "lb"), everywhere("cp", "cp", requires=("etcd",)))
    executor, events = start(plan)
    result = executor.run()
    assert not result.ok
    (failure,) = events.of(NodeFailed)
    assert (failure.node, failure.step_id, failure.exit_code) == ("b", "etcd/b/a", 7)
    assert (failure.command, failure.last_lines) == ("etcd b", ("line1", "line2"))
    assert nodes.runs("b") == ["etcd b"]
    assert nodes.runs("a") == ["etcd a", "after a", "lb a"]
    assert nodes.runs("c") == ["etcd c", "after c", "lb c"]
    found = states(events)
    assert found["etcd/b/b"] == (StepState.SKIPPED, "node b failed at a")
    assert found["lb/b/s"] == (StepState.SKIPPED, "node failed earlier in this rollout")
    assert {found[f"cp/{n}/s"] for n in NODES} == {(StepState.SKIPPED, "blocked: phase etcd failed")}
    assert [(e.phase, e.ok, e.blocked) for e in events.of(PhaseFinished)] == [
        ("etcd", False, False),
        ("lb", False, False),
        ("cp", False, True),
    ]
    summary = events.of(RolloutFinished)[0].summary
    assert "failed on node b, step etcd/b/a: command exited with 7 (exit code 7); command: etcd b" in summary
    assert "line2" in summary and f"khatui resume {executor.rollout.id}" in summary
    assert "b etcd/b/a | line2" in Path(executor.rollout.log_path).read_text()
    assert executor.journal.rollout(executor.rollout.id).state == "failed"  # type: ignore[union-attr]


def test_noop_steps_are_reported_with_their_reason_and_run_nothing(start: Start, nodes: FakeNodes) -> None:
    plan = plan_of(phase("p", step("p", "a", "s", noop_reason="etcd.yaml already up to date")))
    executor, events = start(plan)
    assert executor.run().ok
    assert states(events) == {"p/a/s": (StepState.SKIPPED, "etcd.yaml already up to date")}
    assert nodes.runs() == []


def test_secrets_are_redacted_in_events_log_and_journal(start: Start, nodes: FakeNodes) -> None:
    secret = "hunter2-very-secret"
    nodes.script("a", f"echo {secret}", Reply(3, f"the password is {secret}\n"))
    executor, events = start(plan_of(phase("p", step("p", "a", "s", run(f"echo {secret}"))), secrets=(secret,)))
    assert not executor.run().ok
    assert any(e.line == "the password is ********" for e in events.of(OutputLine))
    journal = executor.journal
    everything = repr(events.events) + Path(executor.rollout.log_path).read_text()
    everything += repr(journal.steps(executor.rollout.id)) + repr(journal.rollout(executor.rollout.id))
    assert secret not in everything


# -- reconnects and WaitFor ---------------------------------------------------------------------
def test_a_lost_connection_is_retried_and_an_upload_too(start: Start, nodes: FakeNodes) -> None:
    nodes.script("a", "work a", LOST, Reply(stdout="survived\n"))
    nodes.script("a", "/etc/khatui/file.conf", LOST, Reply())
    upload = Upload("/etc/khatui/file.conf", b"one\n", 0o640, "root:kube")
    executor, events = start(plan_of(phase("p", step("p", "a", "s", run("work a"), upload))))
    result = executor.run()
    assert result.ok, result.summary
    assert len(nodes.of("work a")) == 2 and len(nodes.of("/etc/khatui/file.conf")) == 2
    assert nodes.files[("a", "/etc/khatui/file.conf")] == (b"one\n", 0o640, "root:kube")
    lines = [e.line for e in events.of(OutputLine)]
    assert lines.count("khatui: a: connection lost; reconnecting in 0 s") == 2
    assert "survived" in lines and "khatui: wrote /etc/khatui/file.conf" in lines


def test_a_connection_that_stays_lost_fails_the_node_after_every_attempt(start: Start, nodes: FakeNodes) -> None:
    nodes.script("b", "true b", LOST)
    executor, events = start(plan_of(everywhere("p", "true")))
    assert not executor.run().ok
    (failure,) = events.of(NodeFailed)
    assert (failure.node, failure.reason) == ("b", "b: connection lost (after 4 attempts)")
    assert len(nodes.of("true b")) == 1 + FAST.retries
    assert {n for n in NODES if states(events)[f"p/{n}/s"][0] is StepState.DONE} == {"a", "c"}


def test_wait_for_polls_until_ready(start: Start, nodes: FakeNodes) -> None:
    nodes.script("a", "ready?", Reply(1), Reply(1), Reply(0))
    executor, _ = start(plan_of(phase("p", step("p", "a", "s", WaitFor(Script("ready?"), timeout=10, interval=0.001)))))
    assert executor.run().ok
    assert nodes.runs("a") == ["ready?"] * 3


def test_wait_for_times_out_with_the_probes_last_line(start: Start, nodes: FakeNodes) -> None:
    nodes.script("a", "ready?", Reply(1, stderr="still starting\nnot yet\n"))
    wait = WaitFor(Script("ready?"), timeout=0.05, interval=0.001)
    executor, events = start(plan_of(phase("p", step("p", "a", "s", wait))))
    assert not executor.run().ok
    (failure,) = events.of(NodeFailed)
    assert (failure.command, failure.exit_code, failure.reason) == ("ready?", 1, "not ready after 0 s: not yet")


# -- abort --------------------------------------------------------------------------------------
def test_abort_lets_the_running_command_finish_and_starts_nothing_more(
    start: Start, nodes: FakeNodes, background: Background
) -> None:
    gate = threading.Event()
    nodes.script("a", "slow a", Reply(hang=gate))
    plan = plan_of(phase("one", step("one", "a", "s", run("slow a"))), everywhere("two", "two"))
    executor, events = start(plan)
    future = background(executor)
    assert nodes.wait_started("slow a")
    executor.abort()
    gate.set()
    result = future.result(timeout=10)
    assert (result.ok, result.aborted, result.failures) == (False, True, [])
    assert nodes.runs() == ["slow a"]
    assert {states(events)[f"two/{n}/s"] for n in NODES} == {(StepState.SKIPPED, "aborted")}
    assert events.of(PhaseFinished)[-1].blocked
    assert "aborted; `khatui resume" in result.summary
    assert executor.journal.rollout(executor.rollout.id).state == "aborted"  # type: ignore[union-attr]
    assert sorted(c.node for c in nodes.calls if releases_lock(c.what)) == list(NODES)


def test_abort_between_actions_fails_the_step_as_aborted(
    start: Start, nodes: FakeNodes, background: Background
) -> None:
    gate = threading.Event()
    nodes.script("a", "slow a", Reply(hang=gate))
    executor, events = start(plan_of(phase("one", step("one", "a", "s", run("slow a"), run("next a")))))
    future = background(executor)
    assert nodes.wait_started("slow a")
    executor.abort()
    gate.set()
    result = future.result(timeout=10)
    assert result.aborted and nodes.runs() == ["slow a"]
    assert [(f.step_id, f.reason, f.command) for f in result.failures] == [
        ("one/a/s", "aborted by the operator", "run next a")
    ]
