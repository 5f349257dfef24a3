"""Rollouts that outlive the operator's terminal: detach to a background process, attach to follow.

Operators often run khatui in an SSH session on a bastion; a dropped session must not kill a
half-done rollout. A detached rollout is simply `khatui resume ID` started in its own session
(setsid, no terminal), which the journal already makes safe; `attach` follows the rollout's log,
which the engine writes line by line, until the journal says the rollout ended.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from khatui import owner
from khatui.events import Outcome
from khatui.journal import Journal, RolloutRecord, open_journal
from khatui.localfs import Folder


def detach(record: RolloutRecord, extra_args: list[str]) -> int:
    """Start `khatui resume ID --yes` in the background; returns its pid."""
    out = Path(record.log_path).with_suffix(".detached.out")
    with Folder.open(out.parent) as folder, folder.append(out.name) as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "khatui", "resume", record.id, "--yes", *extra_args],
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=os.environ.copy(),
        )
    return process.pid


def resume_args(
    waivers: Iterable[str], concurrency: int | None, accept_new_host_keys: bool = False, smoke: bool = False
) -> list[str]:
    """The flags that make the background `resume` check and run the nodes as the handing process did."""
    args = ["--accept-new-host-keys"] if accept_new_host_keys else []
    args += ["--smoke"] if smoke else []
    args += [f"--waive={waiver}" for waiver in waivers]
    return args + ([f"--concurrency={concurrency}"] if concurrency else [])


def hand_over(record: RolloutRecord, extra_args: list[str]) -> int:
    """Continue `record` in a background `khatui resume` and record that process as its owner; returns its pid."""
    pid = detach(record, extra_args)
    with open_journal() as journal:
        journal.hand_over(record.id, pid)
    return pid


def process_alive(pid: int | None) -> bool:
    """True while process `pid` exists and is no zombie (the owner of a running rollout)."""
    return owner.alive(pid, time.time())


def follow(
    journal: Journal, rollout_id: str, emit: Callable[[str], None], poll: float = 0.2, from_start: bool = True
) -> RolloutRecord:
    """Print the rollout's log as it grows until the rollout is over (or its process died: the record
    returned then still says `running`, see `records.state_now`)."""
    record = journal.rollout(rollout_id)
    assert record is not None
    path = Path(record.log_path)
    position = 0 if from_start or not path.exists() else path.stat().st_size
    partial = ""
    while True:
        if path.exists():
            with open(path, encoding="utf-8", errors="replace") as handle:
                handle.seek(position)
                chunk = handle.read()
                position = handle.tell()
            *lines, partial = (partial + chunk).split("\n")
            for line in lines:
                emit(line)
        record = journal.rollout(rollout_id)
        assert record is not None
        if record.state != Outcome.RUNNING or not owner.alive(record.pid, record.updated):
            if partial:
                emit(partial)
            return record
        time.sleep(poll)
