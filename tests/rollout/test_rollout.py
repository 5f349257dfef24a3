"""The one `Rollout`: the secrets it masks, resume (reopen) from the journal, the hand-over to a
background run, and the one event projection both views draw from."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from rich.console import Console

from khatui.engine.executor import EngineOptions, log_dir
from khatui.events import Event, OutputLine, RolloutStarted, StepFinished, StepStarted, StepState
from khatui.journal import RolloutRecord, open_journal
from khatui.plan.model import Plan, Upload
from khatui.rollout import background, records
from khatui.rollout.desired import Desired, load_desired
from khatui.rollout.nodes import Observed
from khatui.rollout.rollout import Rollout, RolloutOptions
from khatui.spec.validate import validate_file
from khatui.views.progress import ProgressView
from tests.conftest import ROOT
from tests.spec.test_mirror_key import ARMORED
from tests.tui.fakes import facts_for

EXAMPLE = ROOT / "assets" / "examples" / "stacked-haproxy-ipvs-nfs.yaml"
PASSWORD = "sudo-pw-of-cp1"


def desired(tmp_path: Path, text: str | None = None) -> Desired:
    """The example (its first node's sudo password from $CP1_PW), without rendered files."""
    data = yaml.safe_load(EXAMPLE.read_text())
    data["spec"]["nodes"][0].setdefault("ssh", {})["sudoPasswordEnv"] = "CP1_PW"
    path = tmp_path / "cluster.yaml"
    path.write_text(text or yaml.safe_dump(data, sort_keys=False))
    report = validate_file(str(path))
    assert report.cluster is not None, report.problems
    return Desired(report.cluster, str(path), path.read_text(), "hash-now", str(tmp_path), [], {})


def test_the_plan_masks_the_token_and_once_observed_the_sudo_passwords(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CP1_PW", PASSWORD)
    rollout = Rollout(desired(tmp_path))
    offline = rollout.make_plan()
    assert len(offline.secrets) == 1  # the bootstrap token; no node is reached offline
    rollout.observed = Observed({}, facts_for(rollout.desired.cluster), {})
    assert rollout.make_plan().secrets[1:] == (PASSWORD,) == tuple(rollout.secrets())


def test_reopen_takes_the_token_the_steps_to_redo_and_the_spec_change(tmp_path: Path) -> None:
    now = desired(tmp_path)
    with open_journal() as journal:
        record = journal.new_rollout("c", now.spec_path, "hash-then", "spec: then\n", log_dir(journal.path))
        journal.set_step(record.id, "etcd/cp1/start", "etcd", "cp1", StepState.FAILED)
        journal.set_step(record.id, "etcd/cp2/start", "etcd", "cp2", StepState.RUNNING)
        journal.set_step(record.id, "pki/cp1/files", "pki", "cp1", StepState.DONE)
    records.save_token(record.id, "abcdef.0123456789abcdef")
    rollout = Rollout.reopen(record)
    assert rollout.record == record and rollout.token == "abcdef.0123456789abcdef"
    assert rollout.redo == {"etcd/cp1/start", "etcd/cp2/start"}
    assert rollout.spec_diff.startswith("--- spec at start\n+++ spec now\n") and "-spec: then" in rollout.spec_diff


@pytest.mark.parametrize(
    ("options", "args"),
    [
        (RolloutOptions(), []),  # the wizard: the engine's defaults, host keys already pinned
        (
            RolloutOptions(accept_new_host_keys=True, waivers=("swap", "ipvs-modules:w1"), engine=EngineOptions(7)),
            ["--accept-new-host-keys", "--waive=swap", "--waive=ipvs-modules:w1", "--concurrency=7"],
        ),
    ],
)
def test_hand_over_resumes_in_the_background_as_this_process_would_and_records_the_owner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, options: RolloutOptions, args: list[str]
) -> None:
    started: list[tuple[str, list[str]]] = []

    def fake_detach(record: RolloutRecord, extra: list[str]) -> int:
        started.append((record.id, extra))
        return 424242

    monkeypatch.setattr(background, "detach", fake_detach)
    with open_journal() as journal:
        record = journal.new_rollout("c", str(tmp_path / "spec.yaml"), "hash", "", log_dir(journal.path))
        journal.set_rollout_state(record.id, "aborted", "aborted by the operator")
    rollout = Rollout(desired(tmp_path), options)
    rollout.record = record
    assert rollout.hand_over() == 424242
    assert started == [(record.id, args)]
    with open_journal() as journal:
        after = journal.rollout(record.id)
    assert after is not None and after.state == "running" and after.pid == 424242


def test_control_before_the_run_is_harmless_and_an_early_abort_is_kept(tmp_path: Path) -> None:
    """An abort that comes before the engine started (a quit right after the start) still stops it."""
    rollout = Rollout(desired(tmp_path))
    rollout.pause()
    rollout.unpause()
    assert rollout.decide("cp1", "retry") == "the rollout is not running"
    rollout.abort()
    with open_journal() as journal:
        rollout.record = journal.new_rollout("c", str(tmp_path / "spec.yaml"), "hash", "", log_dir(journal.path))
    rollout.plan, rollout.observed = Plan("c", "hash", ()), Observed({}, {}, {})
    events: list[Event] = []
    result = rollout.execute(events.append)
    assert result.aborted and not result.ok and rollout.ready.is_set()


def test_the_headless_table_draws_the_shared_board() -> None:
    view = ProgressView(Console(file=io.StringIO(), width=120))
    for event in (
        RolloutStarted("r", "c", ("cp1", "cp2"), 2, "/log"),
        StepStarted("cp1", "pki/cp1/files", "write the PKI files"),
        OutputLine("cp1", "pki/cp1/files", "wrote 12 files"),
        StepFinished("cp1", "pki/cp1/files", StepState.DONE),
        StepStarted("cp2", "pki/cp2/files", "write the PKI files"),
    ):
        view(event)
    board = view.board
    assert (board.nodes["cp1"].state, board.nodes["cp1"].ran, board.nodes["cp1"].lines) == (
        "waiting",
        1,
        ["wrote 12 files"],
    )
    assert board.nodes["cp2"].state == "running" and board.finished_steps == 1
    console = Console(width=120, record=True)
    console.print(view)
    text = console.export_text()
    assert "wrote 12 files" in text and "running" in text and "1/2 steps" in text


def test_the_package_mirror_key_is_read_next_to_the_spec_and_uploaded_by_the_plan(tmp_path: Path) -> None:

    data = yaml.safe_load(EXAMPLE.read_text())
    data["spec"]["install"] = {"packages": {"mirror": {"url": "http://mirror.local/debian", "key": "mirror.asc"}}}
    (tmp_path / "mirror.asc").write_bytes(ARMORED)
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    loaded = load_desired(str(path), str(tmp_path / "pki"))
    assert loaded.mirror_key == ARMORED
    rollout = Rollout(loaded)
    facts = {name: replace(f, os_codename="bookworm") for name, f in facts_for(loaded.cluster).items()}
    rollout.observed = Observed({}, facts, {})
    (mirror,) = [s for s in rollout.make_plan().steps() if s.id == "packages/cp1/mirror"]
    uploads = {a.path: a.content for a in mirror.actions if isinstance(a, Upload)}
    assert uploads["/etc/apt/keyrings/khatui-mirror.asc"] == ARMORED
