"""What this machine keeps about each rollout: its journal record and its bootstrap token.

Apart from `khatui.rollout.rollout` so that listing the journal (`khatui rollouts`, the wizard's
start screen) loads neither the engine nor the PKI.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from khatui import owner
from khatui.errors import InputError
from khatui.events import Outcome, StepState
from khatui.journal import RolloutRecord, open_journal
from khatui.localfs import PRIVATE_FILE
from khatui.userdirs import data_dir, data_folder


def state_now(record: RolloutRecord) -> str:
    """The record's state, `interrupted` for a `running` one whose process is gone (killed, crashed)."""
    if record.state == Outcome.RUNNING and not owner.alive(record.pid, record.updated):
        return Outcome.INTERRUPTED
    return record.state


def _now(record: RolloutRecord) -> RolloutRecord:
    return replace(record, state=state_now(record))


def rollouts() -> list[RolloutRecord]:
    """The rollouts in the journal, newest first, each in its state now (see `state_now`)."""
    with open_journal() as journal:
        return [_now(record) for record in journal.rollouts()]


def find_unfinished(rollout_id: str | None) -> RolloutRecord:
    """The rollout `rollout_id`, or the most recent one that did not finish (what `resume` continues)."""
    with open_journal() as journal:
        if rollout_id:
            record = journal.rollout(rollout_id)
            if record is None:
                raise InputError(f"no rollout {rollout_id!r} in the journal {journal.path} (see `khatui rollouts`)")
            return _now(record)
        for record in journal.rollouts():
            if record.state != Outcome.DONE:
                return _now(record)
    raise InputError("no unfinished rollout to resume (see `khatui rollouts`)")


def find_any(rollout_id: str | None) -> RolloutRecord:
    """The rollout `rollout_id`, or the most recent one, finished or not (what `diagnose` bundles)."""
    with open_journal() as journal:
        records = journal.rollouts()
        record = journal.rollout(rollout_id) if rollout_id else (records[0] if records else None)
    if record is None:
        raise InputError(f"no rollout {rollout_id or ''} in the journal (see `khatui rollouts`)".replace("  ", " "))
    return _now(record)


def unfinished_steps(rollout_id: str) -> frozenset[str]:
    """Steps of a rollout that failed or were running when it stopped."""
    with open_journal() as journal:
        steps = journal.steps(rollout_id)
    return frozenset(k for k, v in steps.items() if v.state in (StepState.FAILED, StepState.RUNNING))


def _token_file(rollout_id: str) -> Path:
    return data_dir() / "rollouts" / f"{rollout_id}.token"


def save_token(rollout_id: str, token: str) -> None:
    """Keep a rollout's bootstrap token (0600) so `resume` joins nodes with the token it created."""
    with data_folder("rollouts") as folder:
        folder.write({_token_file(rollout_id).name: (token.encode(), PRIVATE_FILE)})


def load_token(rollout_id: str) -> str | None:
    """The bootstrap token of a rollout, if it saved one."""
    path = _token_file(rollout_id)
    return path.read_text().strip() if path.exists() else None
