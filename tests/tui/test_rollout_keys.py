"""The rollout view by keyboard: the full log is the selected node's, Esc keeps the selection, and a
failure brings its node's log forward."""

from __future__ import annotations

import asyncio
from pathlib import Path

from khatui.tui.screens.rollout import RolloutScreen
from khatui.tui.widgets.node_table import NodeTable
from khatui.tui.widgets.output_log import OutputLog
from khatui.tui.widgets.rollout_parts import NodePane
from tests.tui.test_snapshots import rollout_app, start_rollout


def shown(screen: RolloutScreen) -> list[str]:
    """The lines of the detail log."""
    return list(screen.query_one(OutputLog).lines)


def test_the_full_log_is_the_selected_nodes_and_esc_keeps_it(spec_copy: Path) -> None:
    async def run() -> None:
        app = rollout_app(spec_copy, fail="cp2")
        async with app.run_test(size=(80, 24)) as pilot:
            await start_rollout(app)(pilot)
            screen = app.screen
            assert isinstance(screen, RolloutScreen)
            assert screen.selected == "cp2"  # the failed node, without a key pressed
            assert isinstance(app.focused, NodePane) and app.focused.node == "cp2"
            await pilot.press("f")
            await pilot.pause()
            assert shown(screen) == screen.board.nodes["cp2"].lines  # the failing node's log, read by keyboard
            assert isinstance(app.focused, OutputLog)
            await pilot.press("escape", "tab")
            await pilot.pause()
            assert screen.selected == "cp3"
            for key in ("enter", "escape"):
                await pilot.press(key)
                await pilot.pause()
                assert screen.selected == "cp3" and shown(screen) == screen.board.nodes["cp3"].lines
            assert not screen.has_class("-full-log")
            assert isinstance(app.focused, NodePane) and app.focused.node == "cp3"

    asyncio.run(run())


def test_a_failure_moves_the_table_cursor_to_its_node() -> None:
    async def run() -> None:
        app = rollout_app(Path(), nodes=60, fail="w010")
        async with app.run_test(size=(80, 24)) as pilot:
            await start_rollout(app)(pilot)
            screen = app.screen
            assert isinstance(screen, RolloutScreen)
            assert screen.query_one(NodeTable).selected == screen.selected == "w010"
            await pilot.press("f")
            await pilot.pause()
            assert shown(screen) == screen.board.nodes["w010"].lines
            await pilot.press("escape")
            await pilot.pause()
            assert screen.query_one(NodeTable).selected == "w010" and app.focused is screen.query_one(NodeTable)

    asyncio.run(run())
