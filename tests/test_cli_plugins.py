"""Commands from other distributions: found through the `khatui.commands` entry points, listed in
`khatui --help`, run like khatui's own; an optional one that is missing says how to install it."""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import EntryPoint
from types import ModuleType

import pytest

from khatui.cli import main as cli_main
from tests.conftest import CLI

PLUGIN = "tests_plugin_command"


def _register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    hello = sub.add_parser("hello", help="say hello (a plugin)")
    hello.add_argument("--name", default="world")
    hello.set_defaults(run=lambda args: print(f"hello {args.name}") or 0)


@pytest.fixture
def entry_points(monkeypatch: pytest.MonkeyPatch) -> list[EntryPoint]:
    """The entry points khatui sees (none to begin with); a module `tests_plugin_command` to name."""
    module = ModuleType(PLUGIN)
    module.SUMMARY = "say hello (a plugin)"  # type: ignore[attr-defined]
    module.register = _register  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, PLUGIN, module)
    found: list[EntryPoint] = []
    monkeypatch.setattr(cli_main, "entry_points", lambda group: [e for e in found if e.group == group])
    return found


def test_a_plugin_command_is_listed_and_runs(entry_points: list[EntryPoint], cli: CLI) -> None:
    entry_points.append(EntryPoint("hello", PLUGIN, cli_main.PLUGIN_GROUP))
    entry_points.append(EntryPoint("validate", PLUGIN, cli_main.PLUGIN_GROUP))  # never shadows khatui's own
    assert cli_main.command_table()["hello"] == (PLUGIN, "say hello (a plugin)")
    assert cli_main.command_table()["validate"][0] == "khatui.cli.spec_cmds"
    assert "say hello (a plugin)" in cli("--help").out
    assert cli("hello", "--name", "lab").out == "hello lab\n"


def test_a_missing_optional_command_says_how_to_install_it(entry_points: list[EntryPoint], cli: CLI) -> None:
    assert cli_main.command_table()["lab"] == (
        None,
        "the local lab of test nodes: not installed (`khatui lab --help` says how)",
    )
    listed = cli("--help")
    assert listed.code == 0 and "lab" in listed.out
    how = cli("lab", "--help")
    assert how.code == 0 and "bash scripts/setup" in how.out
    for argv in (["lab"], ["lab", "up", "--nodes", "3"], ["lab", "down"]):
        refused = cli(*argv)
        assert refused.code == 2 and refused.out == ""
        assert refused.err == (
            "khatui: `khatui lab`: the local lab of test nodes is not installed: it is the separate khatui-lab"
            " package: `bash scripts/setup` in a clone of khatui installs it, or `pip install ./lab` there\n"
        )


def test_the_installed_lab_provides_the_lab_command() -> None:
    """In the test set-up (scripts/setup installs khatui-lab), `lab` comes from khatui_lab.command."""
    assert cli_main.command_table()["lab"] == ("khatui_lab.command", "bring up a local multi-node lab to try khatui on")
