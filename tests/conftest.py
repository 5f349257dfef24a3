"""Shared fixtures: every test gets a private khatui data dir and HOME, never the operator's."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "assets" / "examples").glob("*.yaml"))


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("KHATUI_DATA_DIR", str(home / "khatui-data"))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
