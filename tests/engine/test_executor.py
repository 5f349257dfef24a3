"""The executor against real sshd nodes: the integration tier.

What SSH itself does to a rollout: a connection dropped mid-command, a node that refuses connections,
uploads over SFTP, and the rollout lock's script on a real shell. The executor's decisions (order,
barriers, holds, retries, abort, resume) are tested on the fake transport in test_executor_decisions.py.
"""

from __future__ import annotations

from pathlib import Path

from khatui.events import NodeFailed, OutputLine, PhaseFinished, StepFinished, StepState
from khatui.plan.model import Phase, Plan, Run, Step, Upload
from khatui.quoting.shell import Script
from tests.engine.conftest import MakeExecutor
from tests.engine.sshd import SSHDFarm


def plan_of(*phases: Phase) -> Plan:
    return Plan("test", "hash", phases)


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


def test_a_node_locked_by_another_rollout_is_refused(farm: SSHDFarm, make_executor: MakeExecutor) -> None:
    import subprocess

    from khatui.engine.rollout_lock import LOCK_DIR

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
    from khatui.engine.rollout_lock import LOCK_DIR

    check = tmp_path / "held"
    plan = plan_of(
        Phase("a", "a", (Step("a", farm.nodes[0].name, "s", "s", (Run(Script(f"cat {LOCK_DIR}/owner > {check}")),)),))
    )
    executor, _ = make_executor(plan)
    assert executor.run().ok
    assert check.read_text().split()[0] == executor.rollout.id
    assert not Path(LOCK_DIR).exists()
