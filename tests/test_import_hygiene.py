"""The core never loads textual: only khatui.tui may. Proven in a fresh interpreter per module."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import khatui

CORE_MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(khatui.__path__, "khatui.")
    if not info.name.startswith(("khatui.tui", "khatui.__main__"))
)


def test_there_are_core_modules() -> None:
    assert "khatui.spec" in CORE_MODULES and "khatui.cli.main" in CORE_MODULES


@pytest.mark.parametrize("module", CORE_MODULES)
def test_core_module_does_not_load_textual(module: str) -> None:
    code = f"import sys, {module}; bad = [m for m in sys.modules if m.split('.')[0] == 'textual']; print(bad)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
