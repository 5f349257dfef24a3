"""The TUI reaches the engine only through the rollout: no module under khatui/tui imports
khatui.engine (an ast walk; the import-linter contracts in pyproject say the same for CI)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import khatui

TUI = Path(khatui.__file__).parent / "tui"


def imported(path: Path) -> list[str]:
    """Every module `path` imports (absolute; khatui uses no relative imports)."""
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import"
            names += [node.module or ""] + [f"{node.module}.{alias.name}" for alias in node.names]
    return names


@pytest.mark.parametrize("path", sorted(TUI.rglob("*.py")), ids=lambda p: str(p.relative_to(TUI)))
def test_the_tui_does_not_import_the_engine(path: Path) -> None:
    engine = [name for name in imported(path) if name == "khatui.engine" or name.startswith("khatui.engine.")]
    assert engine == [], f"{path} imports {engine}"


def test_the_walk_sees_an_engine_import(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from khatui.engine.executor import Executor\nimport khatui.engine.ssh\nfrom khatui import engine\n"
    )
    assert {"khatui.engine.executor", "khatui.engine.ssh", "khatui.engine"} <= set(imported(probe))
