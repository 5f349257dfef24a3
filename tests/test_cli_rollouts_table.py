"""`khatui rollouts` at 80 columns: the id (what `resume` and `attach` take) is never cut, however
long the failure message beside it."""

from __future__ import annotations

from pathlib import Path

import pytest

from khatui.journal import open_journal
from tests.conftest import CLI


def test_the_id_is_whole_beside_a_long_failure(cli: CLI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    with open_journal() as journal:
        record = journal.new_rollout("prod-stacked", "/srv/cluster.yaml", "hash", "", tmp_path)
        failure = f"rollout {record.id} failed on node control-plane-1, step etcd/control-plane-1/start-etcd: exit 1"
        journal.set_rollout_state(record.id, "failed", failure)
    run = cli("rollouts")
    assert run.code == 0
    row = next(line for line in run.out.splitlines() if record.id[:8] in line)
    cells = [cell.strip() for cell in row.split("│")]
    assert cells[:3] == [record.id, "prod-stacked", "failed"] and len(row) <= 80
    assert cells[4].startswith("failed on") and cells[4].endswith("…")  # only the failure is cut
