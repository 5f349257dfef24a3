"""EngineServices.detach: the wizard's hand-over records the background process as the rollout's owner."""

from __future__ import annotations

from pathlib import Path

import pytest

from khatui.engine.executor import log_dir
from khatui.journal import RolloutRecord
from khatui.rollout import background
from khatui.rollout.service import open_journal
from khatui.tui.services import EngineServices


def test_detach_starts_resume_and_hands_the_rollout_over(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[tuple[str, list[str]]] = []

    def fake_detach(record: RolloutRecord, extra: list[str]) -> int:
        started.append((record.id, extra))
        return 424242

    monkeypatch.setattr(background, "detach", fake_detach)
    journal = open_journal()
    try:
        record = journal.new_rollout("c", str(tmp_path / "spec.yaml"), "hash", "", log_dir(journal.path))
        journal.set_rollout_state(record.id, "aborted", "aborted by the operator")
    finally:
        journal.close()
    assert EngineServices().detach(record, ["--waive=swap:n1"]) == 424242
    assert started == [(record.id, ["--waive=swap:n1"])]
    journal = open_journal()
    try:
        after = journal.rollout(record.id)
    finally:
        journal.close()
    assert after is not None and after.state == "running" and after.pid == 424242
