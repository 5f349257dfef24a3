"""What keeps the rollout view cheap under a flood of output: the detail log appends without laying
out the screen, the table repaints only the rows in view of the nodes that changed, and a node pane
only the lines whose content changed."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from textual.strip import Strip

from khatui.events import OutputLine, RolloutStarted, StepStarted
from khatui.rollout.progress import Board
from khatui.tui.widgets.node_table import NodeTable
from khatui.tui.widgets.output_log import OutputLog
from khatui.tui.widgets.rollout_parts import NodePane, plain_strip, text_strip


class LogApp(App[None]):
    CSS = "OutputLog { height: 7; }"

    def compose(self) -> ComposeResult:
        yield OutputLog(id="log")


def test_the_log_follows_a_stream_without_laying_out_the_screen(monkeypatch: pytest.MonkeyPatch) -> None:
    async def run() -> None:
        app = LogApp()
        async with app.run_test(size=(60, 12)) as pilot:
            log = app.query_one(OutputLog)
            await pilot.pause()
            layouts: list[Any] = []
            original = app.screen._refresh_layout

            def counted(*args: Any, **kwargs: Any) -> None:
                layouts.append(args)
                original(*args, **kwargs)

            monkeypatch.setattr(app.screen, "_refresh_layout", counted)
            for batch in range(20):
                log.write_lines([f"line {batch * 5 + i}" for i in range(5)])
                await pilot.pause()
            assert layouts == []
            assert list(log.lines) == [f"line {i}" for i in range(100)]
            assert log.scroll_y == log.max_scroll_y > 0  # following the end
            shown = [log.render_line(y).text.rstrip() for y in range(log.scrollable_content_region.height)]
            assert shown[-1] == "line 99"
            assert log.vertical_scrollbar.window_virtual_size == 100
            log.clear()
            log.write_lines(["again"])
            await pilot.pause()
            assert log.scroll_y == 0 and log.render_line(0).text.rstrip() == "again"

    asyncio.run(run())


class TableApp(App[None]):
    def __init__(self, board: Board) -> None:
        super().__init__()
        self.board = board

    def compose(self) -> ComposeResult:
        yield NodeTable(self.board)


def test_the_table_repaints_only_the_changed_rows_in_view(monkeypatch: pytest.MonkeyPatch) -> None:
    names = tuple(f"n{i:03d}" for i in range(100))
    board = Board(clock=lambda: 0.0)
    board.apply([RolloutStarted("r", "c", names, 100, "/log")])

    async def run() -> None:
        app = TableApp(board)
        async with app.run_test(size=(80, 12)) as pilot:
            table = app.query_one(NodeTable)
            await pilot.pause()
            painted: list[int] = []
            original = NodeTable.render_line

            def counted(table: NodeTable, y: int) -> Strip:
                painted.append(y)
                return original(table, y)

            monkeypatch.setattr(NodeTable, "render_line", counted)
            changed = board.apply([OutputLine(n, f"s/{n}", f"{n} says hi") for n in ("n003", "n004", "n090")])
            table.refresh_nodes(changed)
            await pilot.pause()
            assert sorted(painted) == [4, 5]  # rows of n003 and n004 (the header is row 0); n090 is out of view
            assert "n003 says hi" in original(table, 4).text

    asyncio.run(run())


class PaneApp(App[None]):
    def __init__(self, board: Board) -> None:
        super().__init__()
        self.board = board

    def compose(self) -> ComposeResult:
        yield NodePane(self.board, "n0")


def test_a_pane_repaints_only_the_lines_whose_content_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    board = Board(clock=lambda: 0.0)
    board.apply([RolloutStarted("r", "c", ("n0",), 1, "/log"), StepStarted("n0", "s/n0", "install the runtime")])

    async def run() -> None:
        app = PaneApp(board)
        async with app.run_test(size=(60, 12)) as pilot:
            pane = app.query_one(NodePane)
            await pilot.pause()
            painted: list[int] = []
            original = NodePane.render_line

            def counted(pane: NodePane, y: int) -> Strip:
                painted.append(y)
                return original(pane, y)

            monkeypatch.setattr(NodePane, "render_line", counted)
            board.apply([OutputLine("n0", "s/n0", "first"), OutputLine("n0", "s/n0", "second\tline")])
            pane.sync()
            await pilot.pause()
            assert sorted(painted) == [3, 4]  # the two output lines; head, step and bar are unchanged
            assert pane.text().splitlines()[1:] == ["install the runtime", "░" * 56, "first", "second  line"]
            painted.clear()
            pane.sync()
            await pilot.pause()
            assert painted == []  # nothing moved, nothing painted

    asyncio.run(run())


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="ascii"), max_size=90), st.integers(min_value=10, max_value=80))
def test_an_ascii_output_line_takes_the_short_way_and_paints_as_rich_would(line: str, width: int) -> None:
    base = Style(color="white", bgcolor="black")
    fast = plain_strip(line, width, base)
    text = Text(line, "dim")
    text.expand_tabs()
    text.truncate(width, overflow="ellipsis")
    slow = text_strip(text, base, Console())
    if fast is None:
        assert not line or not line.isprintable()
    else:
        assert list(fast) == list(slow) and fast.cell_length == slow.cell_length
