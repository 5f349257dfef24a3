"""A rollout whose process was killed with -9: a real child process records a rollout and takes the
node lock (the real lock script, on a local shell, in a private folder), is killed, and then
`rollouts`, `attach` and the lock all say it is gone and how to continue it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from khatui.engine import rollout_lock
from khatui.engine.transport import CommandResult, LineCallback
from khatui.rollout import records
from tests.conftest import CLI, ROOT

CHILD = """
import sys, time
from khatui.engine import rollout_lock
from khatui.engine.executor import log_dir
from khatui.journal import open_journal
from tests.rollout.test_interrupted import LocalShell, use_lock_folder

use_lock_folder(sys.argv[1])
with open_journal() as journal:
    record = journal.new_rollout("lab", "/nowhere/cluster.yaml", "hash", "spec\\n", log_dir(journal.path))
with open(record.log_path, "a") as log:
    log.write("12:00:00 == Certificates (cp1)\\n")
assert rollout_lock.take(LocalShell(), "cp1", record.id, 0, 0.0) is None
print(record.id, flush=True)
time.sleep(600)
"""


class LocalShell:
    """A `Transport` that runs commands on this machine's shell (the lock script is plain sh)."""

    def run(self, command: str, on_line: LineCallback | None = None, timeout: float | None = None) -> CommandResult:
        done = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=timeout, check=False)
        return CommandResult(done.returncode, done.stdout, done.stderr)

    def upload(self, path: str, content: bytes, mode: int, owner: str) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


def use_lock_folder(parent: str) -> None:
    """Point the lock script at `parent` instead of /var/lib/khatui (shared with the engine tests)."""
    rollout_lock.LOCK_PARENT, rollout_lock.LOCK_DIR = parent, f"{parent}/rollout.lock"


@dataclass
class Owner:
    process: subprocess.Popen[str]
    rollout_id: str

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()


@pytest.fixture
def owner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Owner]:
    parent = str(tmp_path / "node-lib")
    monkeypatch.setattr(rollout_lock, "LOCK_PARENT", parent)
    monkeypatch.setattr(rollout_lock, "LOCK_DIR", f"{parent}/rollout.lock")
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-c", CHILD, parent], stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT
    )
    assert process.stdout is not None
    found = Owner(process, process.stdout.readline().strip())
    assert found.rollout_id, "the child did not record its rollout"
    yield found
    if process.poll() is None:
        found.kill()


def test_a_killed_rollout_is_listed_as_interrupted_with_the_resume_command(owner: Owner, cli: CLI) -> None:
    assert cli("rollouts", "--output", "json").out.count('"state": "running"') == 1  # alive: running
    owner.kill()
    table = cli("rollouts")
    assert table.code == 0
    row = next(line for line in table.out.splitlines() if owner.rollout_id in line)
    assert "interrupted" in row and "running" not in row
    assert "its process is gone" in row
    assert f"rollout {owner.rollout_id} was interrupted; continue it: khatui resume {owner.rollout_id}" in table.out
    assert json.loads(cli("rollouts", "--output", "json").out)[0]["state"] == "interrupted"
    assert records.find_unfinished(None).state == "interrupted"


def test_attach_to_a_killed_rollout_replays_it_and_says_how_to_resume(owner: Owner, cli: CLI) -> None:
    owner.kill()
    run = cli("attach", owner.rollout_id)
    assert run.code == 1
    lines = run.out.splitlines()
    assert f"following rollout {owner.rollout_id} (interrupted)" in lines[0]
    assert "12:00:00 == Certificates (cp1)" in lines
    assert f"pid {owner.process.pid}) is gone" in run.out
    assert lines[-1].startswith(f"rollout {owner.rollout_id} interrupted after ")
    assert lines[-1].endswith(f"; continue it: khatui resume {owner.rollout_id}")


def test_the_lock_of_a_killed_rollout_names_it_gone_and_its_own_resume_takes_it_over(owner: Owner) -> None:
    shell = LocalShell()
    alive = rollout_lock.take(shell, "cp1", owner.rollout_id, 0, 0.0)
    assert alive is not None and f"rollout {owner.rollout_id} still runs on this machine" in alive.reason
    other = rollout_lock.take(shell, "cp1", "other-rollout", 0, 0.0)
    assert other is not None and "whose process is gone" not in other.reason
    owner.kill()
    refused = rollout_lock.take(shell, "cp1", "other-rollout", 0, 0.0)
    assert refused is not None
    assert f"locked by rollout {owner.rollout_id}, whose process is gone" in refused.reason
    assert f"`khatui resume {owner.rollout_id}` continues it" in refused.reason
    assert rollout_lock.take(shell, "cp1", owner.rollout_id, 0, 0.0) is None
