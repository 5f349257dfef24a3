"""Fixtures for the TUI tests: no cursor blink, fixed clocks, fake or real core services."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Input

from tests.conftest import ROOT
from tests.tui.fakes import NOW, FakeServices

EXAMPLE = ROOT / "assets" / "examples" / "stacked-haproxy-ipvs-nfs.yaml"


@pytest.fixture(autouse=True)
def _no_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    """A blinking cursor would make screenshots depend on timing."""
    monkeypatch.setattr(Input, "cursor_blink", False)


@pytest.fixture
def services() -> FakeServices:
    return FakeServices()


@pytest.fixture
def spec_copy(tmp_path: Path) -> Iterator[Path]:
    """The stacked example, copied where the wizard may save over it."""
    path = tmp_path / "cluster.yaml"
    path.write_text(EXAMPLE.read_text())
    yield path


def fixed_clock() -> float:
    return NOW


def fixed_monotonic() -> float:
    return 1000.0
