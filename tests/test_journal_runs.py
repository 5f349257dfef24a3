"""A step's finished run and its done state are one write: a killed engine never leaves a run recorded
done while its step still reads as cut off (which resume would run again: CI caught it, a sysctl step
recorded twice in test_killed_engine_resumes[1])."""

from __future__ import annotations

from pathlib import Path

from khatui.events import StepState
from khatui.journal import Journal


def test_a_run_ends_done_with_its_step_in_one_transaction(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.db")
    try:
        record = journal.new_rollout("c", "spec.yaml", "hash", "spec: {}", tmp_path)
        journal.set_step(record.id, "p/n1/s", "p", "n1", StepState.RUNNING)
        run = journal.start_run(record.id, "p/n1/s", 1)
        assert journal.runs(record.id)[0][3] is None
        journal.set_step(record.id, "p/n1/s", "p", "n1", StepState.DONE, ended_run=(run, "done"))
        assert journal.runs(record.id)[0][3] == "done"
        assert journal.steps(record.id)["p/n1/s"].state is StepState.DONE
    finally:
        journal.close()
