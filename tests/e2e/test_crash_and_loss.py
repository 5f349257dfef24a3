"""The engine killed with SIGKILL at 5 points of a real rollout, and a node cut off mid-rollout:
`khatui resume` completes every time and the journal shows no finished step ran twice."""

from __future__ import annotations

import signal
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from khatui.events import StepState
from tests.e2e.conftest import Env, make_env


@pytest.fixture
def fresh(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Env]:
    """A new 5-node lab per test (a rollout needs empty nodes)."""
    index = request.node.callspec.params.get("kill_after", 0) if hasattr(request.node, "callspec") else 99
    yield from make_env(tmp_path_factory, f"kc{index}", f"10.94.{index % 200}.0/24", 5)


def _wait_for(env: Env, condition, timeout: float = 120) -> str:  # type: ignore[no-untyped-def]
    journal = env.journal()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            records = journal.rollouts()
            if records:
                steps = journal.steps(records[0].id)
                if condition(steps):
                    return records[0].id
            time.sleep(0.05)
    finally:
        journal.close()
    raise AssertionError("the rollout never reached the point to interrupt it")


def _assert_no_finished_step_ran_twice(env: Env, rollout_id: str, done_before: set[str]) -> None:
    journal = env.journal()
    try:
        record = journal.rollout(rollout_id)
        assert record is not None and record.state == "done", record
        runs = journal.runs(rollout_id)
        finished = Counter(step for step, _, _, result in runs if result == "done")
        assert all(count == 1 for count in finished.values()), finished
        first_pid = runs[0][2]
        rerun = {step for step, _, pid, _ in runs if pid != first_pid}
        assert not rerun & done_before, rerun & done_before
        assert all(s.state is not StepState.FAILED for s in journal.steps(rollout_id).values())
    finally:
        journal.close()


@pytest.mark.parametrize("kill_after", [1, 6, 10, 14, 18])
def test_killed_engine_resumes(fresh: Env, kill_after: int) -> None:
    engine = fresh.start("apply", str(fresh.spec), "--yes")
    rollout_id = _wait_for(fresh, lambda steps: sum(s.state is StepState.DONE for s in steps.values()) >= kill_after)
    engine.send_signal(signal.SIGKILL)
    engine.wait()
    journal = fresh.journal()
    done_before = {k for k, v in journal.steps(rollout_id).items() if v.state is StepState.DONE}
    journal.close()
    resumed = fresh.khatui("resume", rollout_id, "--yes")
    assert "done:" in resumed.stdout + resumed.stderr
    _assert_no_finished_step_ran_twice(fresh, rollout_id, done_before)


def test_node_cut_off_mid_rollout_then_resume(fresh: Env) -> None:
    engine = fresh.start("apply", str(fresh.spec), "--yes", "--concurrency", "10")
    _wait_for(fresh, lambda steps: any(k.startswith("etcd/") for k in steps))
    fresh.lab.cut_link("cp3")
    try:
        output, _ = engine.communicate(timeout=300)
    finally:
        fresh.lab.restore_link("cp3")
    assert engine.returncode == 1, output
    assert "failed on node cp3" in output
    assert "lb/lb1/proxy done" in output and "lb/lb2/proxy done" in output
    journal = fresh.journal()
    rollout_id = journal.rollouts()[0].id
    done_before = {k for k, v in journal.steps(rollout_id).items() if v.state is StepState.DONE}
    journal.close()
    resumed = fresh.khatui("resume", "--yes")
    assert "done:" in resumed.stdout + resumed.stderr
    _assert_no_finished_step_ran_twice(fresh, rollout_id, done_before)
