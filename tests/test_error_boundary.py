"""The one error boundary, as an operator meets it: every bad file ends in one line and an exit code,
never a traceback or a hang; a bug in khatui ends in one line naming a crash log."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from khatui.events import StepState
from khatui.journal import Journal
from tests.conftest import ROOT

EXAMPLE = ROOT / "assets" / "examples" / "stacked-haproxy-ipvs-nfs.yaml"


def khatui(*args: str, env: dict[str, str] | None = None, code: str = "") -> subprocess.CompletedProcess[str]:
    """Run the CLI in a fresh interpreter (after `code`, to plant a bug); a hang fails the test."""
    script = f"import sys\n{code}\nfrom khatui.cli.main import main\nsys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        timeout=120,
        check=False,
    )


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line of a failed run (asserting there is no traceback)."""
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_an_unforeseen_error_prints_one_line_and_logs_the_traceback(tmp_path: Path) -> None:
    done = khatui("init", code="import khatui.cli.spec_cmds as m\nm._init = lambda args: 1 / 0")
    assert done.returncode == 1
    line = one_line(done)
    assert line.startswith("khatui: internal error: ZeroDivisionError: division by zero (traceback in ")
    log = Path(line.removesuffix(")").rsplit("traceback in ", 1)[1])
    assert log.parent == Path(os.environ["KHATUI_DATA_DIR"]) / "logs"
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert "Traceback" in log.read_text() and "ZeroDivisionError" in log.read_text()


def test_the_crash_log_goes_to_the_temporary_folder_when_the_data_dir_is_unusable(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("a file, not a folder")
    (tmp_path / "tmp").mkdir()
    env = {"KHATUI_DATA_DIR": str(tmp_path / "data"), "TMPDIR": str(tmp_path / "tmp")}
    done = khatui("init", env=env, code="import khatui.cli.spec_cmds as m\nm._init = lambda args: {}['x']")
    assert done.returncode == 1
    assert one_line(done).startswith(f"khatui: internal error: KeyError: 'x' (traceback in {tmp_path / 'tmp'}/")
    assert len(list((tmp_path / "tmp").glob("khatui-crash-*.log"))) == 1


def _special(kind: str, tmp_path: Path) -> str:
    if kind == "fifo":
        os.mkfifo(tmp_path / "spec.yaml")
        return str(tmp_path / "spec.yaml")
    if kind == "directory":
        return str(tmp_path)
    if kind == "missing":
        return str(tmp_path / "nothing.yaml")
    return "/dev/zero"


SPEC_COMMANDS = [
    ["validate"],
    ["plan", "--offline"],
    ["plan", "--offline", "--output", "json"],
    ["render", "--out", "OUT"],
    ["certs", "generate"],
    ["certs", "list"],
]


@pytest.mark.parametrize("kind", ["fifo", "/dev/zero", "directory", "missing"])
@pytest.mark.parametrize("command", SPEC_COMMANDS, ids=lambda c: " ".join(c))
def test_a_spec_that_is_not_a_regular_file_is_refused_at_once(kind: str, command: list[str], tmp_path: Path) -> None:
    spec = _special(kind, tmp_path)
    args = [str(tmp_path / "out") if arg == "OUT" else arg for arg in command]
    done = khatui(*args, spec)
    assert done.returncode == 2
    line = one_line(done)
    assert line.startswith(f"khatui: {spec}: ")
    expected = {
        "fifo": "cannot read: Is a named pipe (FIFO), not a regular file",
        "/dev/zero": "cannot read: Is a character device, not a regular file",
        "directory": "cannot read: Is a directory, not a regular file",
        "missing": "cannot read: No such file or directory",
    }[kind]
    assert expected in line


def _real_journal(path: Path) -> None:
    journal = Journal(path)
    for _ in range(20):
        record = journal.new_rollout("c", "/spec.yaml", "hash", "y" * 4000, path.parent)
        for step in range(10):
            journal.set_step(record.id, f"s{step}", "phase", "node", StepState.DONE, "x" * 300)
    journal.close()


def _broken_data_dir(kind: str, tmp_path: Path) -> tuple[Path, str]:
    """A data dir whose journal khatui cannot use, and what the one line must say."""
    data = tmp_path / "data"
    journal = data / "journal.db"
    if kind == "data dir is a file":
        data.write_text("x")
        return data, "is a file, not a folder"
    data.mkdir()
    if kind == "journal is a directory":
        journal.mkdir()
        return data, "not a regular file"
    if kind == "not sqlite":
        journal.write_bytes(os.urandom(8192))
        return data, "file is not a database"
    foreign = {
        "foreign sqlite": ("CREATE TABLE invoices (id INTEGER, total REAL)", "something else (tables: invoices)"),
        "foreign columns": ("CREATE TABLE rollouts (id TEXT)", "its table rollouts has columns id"),
    }
    if kind in foreign:
        db = sqlite3.connect(journal)
        db.execute(foreign[kind][0])
        db.commit()
        db.close()
        return data, foreign[kind][1]
    _real_journal(journal)
    whole = journal.read_bytes()
    journal.write_bytes(whole[: {"truncated header": 100, "truncated": len(whole) // 2}[kind]])
    return data, "database disk image is malformed"


JOURNAL_KINDS = [
    "data dir is a file",
    "journal is a directory",
    "not sqlite",
    "foreign sqlite",
    "foreign columns",
    "truncated header",
    "truncated",
]


@pytest.mark.parametrize("kind", JOURNAL_KINDS)
@pytest.mark.parametrize(
    "command", [["rollouts"], ["rollouts", "--output", "json"], ["resume"], ["attach"], ["diagnose"]]
)
def test_an_unusable_journal_is_one_line_and_left_untouched(kind: str, command: list[str], tmp_path: Path) -> None:
    data, reason = _broken_data_dir(kind, tmp_path)
    journal = data / "journal.db"
    before = journal.read_bytes() if journal.is_file() else None
    done = khatui(*command, env={"KHATUI_DATA_DIR": str(data)})
    assert done.returncode == 2
    line = one_line(done)
    assert line.startswith(f"khatui: {journal}: cannot use the rollout journal: ")
    assert reason in line and "move it aside" in line
    if before is not None:
        assert journal.read_bytes() == before
    assert done.stdout == ""


def test_a_new_journal_is_created_and_a_good_one_still_opens(tmp_path: Path) -> None:
    _real_journal(tmp_path / "journal.db")
    journal = Journal(tmp_path / "journal.db")
    assert len(journal.rollouts()) == 20
    journal.close()
    empty = tmp_path / "empty" / "journal.db"
    empty.parent.mkdir()
    empty.touch()  # an empty file is an empty database: nothing to lose, the journal fills it
    Journal(empty).close()
    assert sqlite3.connect(empty).execute("SELECT count(*) FROM rollouts").fetchone() == (0,)


def test_a_crash_inside_the_wizard_is_one_line_not_textuals_traceback_with_locals() -> None:
    plant = (
        "from textual.app import App\n"
        "_run = App.run\n"
        "App.run = lambda self, **kw: _run(self, headless=True)\n"
        "import khatui.tui.app as tui\n"
        "def boom(self): secret = 'hunter2'; raise ValueError('boom')\n"
        "tui.KhatuiApp.on_mount = boom\n"
        "import khatui.cli.wizard_cmd as wizard\n"
        "wizard.run = lambda args: wizard.launch(None)\n"
    )
    done = khatui("wizard", code=plant)
    assert done.returncode == 1
    line = one_line(done)
    assert line.startswith("khatui: internal error: ValueError: boom (traceback in ")
    assert "hunter2" not in done.stderr + done.stdout


def test_a_ca_file_that_is_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    """`certs` does not check local files before it reads the CA files (validate and plan do)."""
    data = yaml.safe_load(EXAMPLE.read_text())
    data["spec"].setdefault("pki", {}).setdefault("ca", {})["etcd"] = {
        "mode": "import",
        "certFile": "ca.crt",
        "keyFile": "ca.key",
    }
    spec = tmp_path / "cluster.yaml"
    spec.write_text(yaml.safe_dump(data, sort_keys=False))
    os.mkfifo(tmp_path / "ca.crt")
    (tmp_path / "ca.key").write_text("not a key")
    (tmp_path / "ca.key").chmod(0o600)
    done = khatui("certs", "generate", str(spec))
    assert done.returncode == 2
    assert (
        one_line(done)
        == f"khatui: {tmp_path / 'ca.crt'}: cannot read the etcd CA certificate: Is a named pipe (FIFO), not a regular file"
    )
