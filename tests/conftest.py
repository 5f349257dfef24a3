"""Shared fixtures: every test gets a private khatui data dir and HOME, never the operator's; `cli` runs
khatui in-process. The test tiers (sshd, lab, e2e) come from the plugin tests/tiers.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from khatui.cli.main import main

pytest_plugins = ("tests.tiers", "pytester")  # pytester: tests/test_tiers.py
ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "assets" / "examples").glob("*.yaml"))


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("KHATUI_DATA_DIR", str(home / "khatui-data"))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)


@dataclass
class Run:
    """Outcome of one in-process `khatui` invocation."""

    code: int
    out: str
    err: str


CLI = Callable[..., Run]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> CLI:
    """Run `khatui ARGS...` in-process; returns exit code, stdout and stderr."""

    def run(*args: str | Path) -> Run:
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:  # argparse errors and --help
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run
