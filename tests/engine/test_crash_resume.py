"""An engine process killed with SIGKILL at several points; resume finishes, no finished step reruns."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from khatui.events import StepState
from khatui.journal import Journal
from tests.conftest import ROOT
from tests.engine.sshd import SSHDFarm


def _farm_file(farm: SSHDFarm, tmp_path: Path) -> Path:
    path = tmp_path / "farm.json"
    nodes = [{"name": n.name, "host": n.host, "port": str(n.port), "root": str(n.root)} for n in farm.nodes]
    path.write_text(json.dumps({"nodes": nodes, "key": str(farm.client_key), "known_hosts": str(farm.known_hosts)}))
    return path


def _engine(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.engine.run_plan", *args], stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT
    )


@pytest.mark.parametrize("kill_after_done", [0, 2, 5, 9, 14])
def test_kill_and_resume(farm: SSHDFarm, tmp_path: Path, kill_after_done: int) -> None:
    for node in farm.nodes:
        (node.root / "effects").unlink(missing_ok=True)
    farm_file, journal_path = _farm_file(farm, tmp_path), tmp_path / "journal.db"
    first = _engine(str(farm_file), str(journal_path))
    assert first.stdout is not None
    rollout_id = first.stdout.readline().strip()
    journal = Journal(journal_path)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        done = sum(1 for s in journal.steps(rollout_id).values() if s.state is StepState.DONE)
        if done >= kill_after_done and (kill_after_done or journal.steps(rollout_id)):
            break
        time.sleep(0.01)
    first.send_signal(signal.SIGKILL)
    first.wait()
    killed_at = {k: v.state for k, v in journal.steps(rollout_id).items()}
    assert killed_at, "the engine was killed before it journaled anything"

    second = _engine(str(farm_file), str(journal_path), rollout_id)
    assert second.wait(timeout=60) == 0

    steps = journal.steps(rollout_id)
    assert len(steps) == 3 * len(farm.nodes) * 2
    assert all(s.state is StepState.DONE for s in steps.values())
    runs = journal.runs(rollout_id)
    finished_runs = Counter(step for step, _, _, result in runs if result == "done")
    assert all(count == 1 for count in finished_runs.values()), finished_runs
    finished_before_kill = {k for k, state in killed_at.items() if state is StepState.DONE}
    second_pid = {pid for _, _, pid, _ in runs} - {first.pid}
    rerun = {step for step, _, pid, _ in runs if pid in second_pid}
    assert not (rerun & finished_before_kill)
    for node in farm.nodes:
        effects = (node.root / "effects").read_text().split()
        assert len(effects) == len(set(effects)) == 6, effects
    assert journal.rollout(rollout_id).state == "done"  # type: ignore[union-attr]
