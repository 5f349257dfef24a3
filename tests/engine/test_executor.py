"""The executor against real sshd nodes: order, barriers, failures, lost connections, redaction."""

from __future__ import annotations

from pathlib import Path

from khatui.events import NodeFailed, OutputLine, PhaseFinished, RolloutFinished, StepFinished, StepState
from khatui.plan.model import Phase, Plan, Run, Step, Upload, WaitFor
from khatui.quoting.shell import Script
from tests.engine.conftest import MakeExecutor
from tests.engine.sshd import SSHDFarm


def plan_of(*phases: Phase, secrets: tuple[str, ...] = ()) -> Plan:
    return Plan("test", "hash", phases, secrets)


def stamp(farm: SSHDFarm, node: int, label: str) -> Run:
    """A command appending `label` and a nanosecond timestamp to the shared order file."""
    return Run(Script(f"echo {label} $(date +%s%N) >> {farm.nodes[0].root.parent}/order"))


def order(farm: SSHDFarm) -> list[tuple[str, int]]:
    lines = (farm.nodes[0].root.parent / "order").read_text().split("\n")
    return [(label, int(ns)) for label, ns in (line.split() for line in lines if line)]


def test_phases_are_barriers_and_steps_keep_their_order(farm: SSHDFarm, make_executor: MakeExecutor) -> None:
    (farm.nodes[0].root.parent / "order").unlink(missing_ok=True)
    first = Phase(
        "one",
        "One",
        tuple(
            Step(
                "one", n.name, f"s{k}", f"step {k}", (Run(Script(f"sleep 0.{i}")), stamp(farm, i, f"one-{n.name}-{k}"))
            )
            for i, n in enumerate(farm.nodes)
            for k in range(2)
        ),
    )
    second = Phase(
        "two",
        "Two",
        tuple(Step("two", n.name, "s", "s", (stamp(farm, 0, f"two-{n.name}"),)) for n in farm.nodes),
        requires=("one",),
    )
    executor, events = make_executor(plan_of(first, second))
    result = executor.run()
    assert result.ok, result.summary
    stamps = order(farm)
    last_of_one = max(ns for label, ns in stamps if label.startswith("one-"))
    first_of_two = min(ns for label, ns in stamps if label.startswith("two-"))
    assert last_of_one < first_of_two
    for node in farm.nodes:
        mine = [label for label, _ in stamps if label.startswith(f"one-{node.name}-")]
        assert mine == [f"one-{node.name}-0", f"one-{node.name}-1"]
    assert [e.phase for e in events.of(PhaseFinished)] == ["one", "two"]
    assert all(e.state is StepState.DONE for e in events.of(StepFinished))


def test_a_failed_node_stops_its_dependents_not_unrelated_nodes(farm: SSHDFarm, make_executor: MakeExecutor) -> None:
    bad = farm.nodes[1].name
    phase = Phase(
        "etcd",
        "etcd",
        tuple(
            step
            for n in farm.nodes
            for step in (
                Step(
                    "etcd",
                    n.name,
                    "a",
                    "a",
                    (Run(Script("echo line1; echo line2; exit 7" if n.name == bad else "echo fine")),),
                ),
                Step("etcd", n.name, "b", "b", (Run(Script("true")),)),
            )
        ),
    )
    unrelated = Phase("lb", "lb", tuple(Step("lb", n.name, "c", "c", (Run(Script("true")),)) for n in farm.nodes))
    dependent = Phase(
        "cp", "cp", tuple(Step("cp", n.name, "d", "d", (Run(Script("true")),)) for n in farm.nodes), requires=("etcd",)
    )
    executor, events = make_executor(plan_of(phase, unrelated, dependent))
    result = executor.run()
    assert not result.ok
    (failure,) = events.of(NodeFailed)
    assert (failure.node, failure.step_id, failure.exit_code) == (bad, f"etcd/{bad}/a", 7)
    assert failure.command == "echo line1; echo line2; exit 7"
    assert failure.last_lines == ("line1", "line2")
    states = {e.step_id: e.state for e in events.of(StepFinished)}
    assert states[f"etcd/{bad}/b"] is StepState.SKIPPED
    for n in farm.nodes:
        if n.name != bad:
            assert states[f"etcd/{n.name}/b"] is StepState.DONE
            assert states[f"lb/{n.name}/c"] is StepState.DONE
        assert states[f"cp/{n.name}/d"] is StepState.SKIPPED
    assert states[f"lb/{bad}/c"] is StepState.SKIPPED
    summary = events.of(RolloutFinished)[0].summary
    assert f"failed on node {bad}, step etcd/{bad}/a: command exited with 7 (exit code 7)" in summary
    assert "line2" in summary and executor.rollout.log_path in summary
    assert f"khatui resume {executor.rollout.id}" in summary
    log = Path(executor.rollout.log_path).read_text()
    assert f"{bad} etcd/{bad}/a | line2" in log


def test_lost_connection_is_retried_on_a_new_connection(farm: SSHDFarm, make_executor: MakeExecutor) -> None:
    node = farm.nodes[0]
    marker = node.root / "dropped-once"
    marker.unlink(missing_ok=True)
    # The first time, the command kills its own sshd session process: the connection drops mid-step.
    drop = f"if [ ! -e {marker} ]; then touch {marker}; kill -9 $PPID; sleep 5; fi; echo survived"
    plan = plan_of(Phase("p", "p", (Step("p", node.name, "s", "s", (Run(Script(drop)),)),)))
    executor, events = make_executor(plan)
    result = executor.run()
    assert result.ok, result.summary
    lines = [e.line for e in events.of(OutputLine)]
    assert any("connection lost" in line and "reconnecting" in line for line in lines)
    assert "survived" in lines


def test_connection_that_never_comes_back_fails_the_node(farm: SSHDFarm, make_executor: MakeExecutor) -> None:
    node = farm.nodes[2]
    farm.stop(node)
    try:
        plan = plan_of(Phase("p", "p", tuple(Step("p", n.name, "s", "s", (Run(Script("true")),)) for n in farm.nodes)))
        executor, events = make_executor(plan)
        result = executor.run()
    finally:
        farm.start(node)
    assert not result.ok
    (failure,) = events.of(NodeFailed)
    assert failure.node == node.name
    assert "cannot connect" in failure.reason and "after 4 attempts" in failure.reason
    done = {e.step_id for e in events.of(StepFinished) if e.state is StepState.DONE}
    assert done == {f"p/{n.name}/s" for n in farm.nodes if n is not node}


def test_uploads_are_atomic_with_mode_and_content(farm: SSHDFarm, make_executor: MakeExecutor) -> None:
    node = farm.nodes[0]
    target = node.root / "etc" / "khatui" / "file.conf"
    plan = plan_of(
        Phase(
            "p",
            "p",
            (
                Step(
                    "p",
                    node.name,
                    "s",
                    "s",
                    (
                        Upload(str(target), b"one\n", 0o640),
                        Upload(str(target), b"two\n", 0o600, secret=True),
                    ),
                ),
            ),
        )
    )
    executor, _ = make_executor(plan)
    assert executor.run().ok
    assert target.read_bytes() == b"two\n"
    assert target.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["file.conf"]


def test_wait_for_polls_until_ready_or_times_out(farm: SSHDFarm, make_executor: MakeExecutor) -> None:
    node = farm.nodes[0]
    flag = node.root / "ready"
    flag.unlink(missing_ok=True)
    ok = plan_of(
        Phase(
            "p",
            "p",
            (
                Step(
                    "p",
                    node.name,
                    "s",
                    "s",
                    (
                        Run(Script(f"(sleep 0.5; touch {flag}) > /dev/null 2>&1 &")),
                        WaitFor(Script(f"test -e {flag}"), timeout=10, interval=0.1),
                    ),
                ),
            ),
        )
    )
    assert make_executor(ok)[0].run().ok
    never = plan_of(
        Phase(
            "p",
            "p",
            (Step("p", node.name, "s", "s", (WaitFor(Script("echo not yet >&2; false"), timeout=0.5, interval=0.1),)),),
        )
    )
    executor, events = make_executor(never)
    assert not executor.run().ok
    (failure,) = events.of(NodeFailed)
    assert failure.reason == "not ready after 0 s: not yet" or failure.reason.startswith("not ready after")


def test_secrets_are_redacted_everywhere(farm: SSHDFarm, make_executor: MakeExecutor) -> None:
    node = farm.nodes[0]
    secret = "hunter2-very-secret"
    plan = plan_of(
        Phase("p", "p", (Step("p", node.name, "s", "s", (Run(Script(f"echo the password is {secret}; exit 3")),)),)),
        secrets=(secret,),
    )
    executor, events = make_executor(plan)
    assert not executor.run().ok
    assert any(e.line == "the password is ********" for e in events.of(OutputLine))
    everything = repr(events.events) + Path(executor.rollout.log_path).read_text()
    everything += repr(executor.journal.steps(executor.rollout.id)) + repr(
        executor.journal.rollout(executor.rollout.id)
    )
    assert secret not in everything


def test_noop_steps_are_reported_with_their_reason(farm: SSHDFarm, make_executor: MakeExecutor) -> None:
    node = farm.nodes[0]
    plan = plan_of(Phase("p", "p", (Step("p", node.name, "s", "s", noop_reason="etcd.yaml already up to date"),)))
    executor, events = make_executor(plan)
    assert executor.run().ok
    (finished,) = events.of(StepFinished)
    assert (finished.state, finished.detail) == (StepState.SKIPPED, "etcd.yaml already up to date")


def test_a_node_locked_by_another_rollout_is_refused(farm: SSHDFarm, make_executor: MakeExecutor) -> None:
    import subprocess

    from khatui.engine.executor import LOCK_DIR

    subprocess.run(
        ["sh", "-c", f"mkdir -p {LOCK_DIR} && echo 'other-rollout ophost 4242' > {LOCK_DIR}/owner"], check=True
    )
    try:
        plan = plan_of(
            Phase("a", "a", tuple(Step("a", n.name, "s", "s", (Run(Script("true")),)) for n in farm.nodes)),
            Phase(
                "b",
                "b",
                tuple(Step("b", n.name, "s", "s", (Run(Script("true")),)) for n in farm.nodes),
                requires=("a",),
            ),
        )
        executor, events = make_executor(plan)
        result = executor.run()
    finally:
        subprocess.run(["rm", "-rf", LOCK_DIR], check=True)
    assert not result.ok
    failures = events.of(NodeFailed)
    assert {f.node for f in failures} == {n.name for n in farm.nodes}
    assert "locked by rollout other-rollout ophost 4242" in failures[0].reason
    assert all(e.state is StepState.SKIPPED for e in events.of(StepFinished))
    assert [e.ok for e in events.of(PhaseFinished)] == [False, False]


def test_the_lock_is_released_and_taken_over_by_the_same_rollout(
    farm: SSHDFarm, make_executor: MakeExecutor, tmp_path: Path
) -> None:
    from khatui.engine.executor import LOCK_DIR

    check = tmp_path / "held"
    plan = plan_of(
        Phase("a", "a", (Step("a", farm.nodes[0].name, "s", "s", (Run(Script(f"cat {LOCK_DIR}/owner > {check}")),)),))
    )
    executor, _ = make_executor(plan)
    assert executor.run().ok
    assert check.read_text().split()[0] == executor.rollout.id
    assert not Path(LOCK_DIR).exists()
