"""Checked and unchecked boxes differ in their glyph, not only in colour (NO_COLOR, monochrome)."""

from __future__ import annotations

import asyncio

import pytest
from textual.app import App, ComposeResult
from textual.widgets.selection_list import Selection

from khatui.tui.widgets.checklist import CheckList


class ListApp(App[None]):
    def compose(self) -> ComposeResult:
        yield CheckList(Selection("cp1", 0, True), Selection("cp2", 1, False), compact=True)


@pytest.mark.parametrize("no_color", ["", "1"])
def test_a_box_reads_checked_or_unchecked_without_colour(monkeypatch: pytest.MonkeyPatch, no_color: str) -> None:
    monkeypatch.setenv("NO_COLOR", no_color)

    async def run() -> None:
        app = ListApp()
        async with app.run_test(size=(30, 5)) as pilot:
            checklist = app.query_one(CheckList)
            checklist.focus()
            await pilot.pause()
            assert [checklist.render_line(y).text.rstrip() for y in (0, 1)] == ["[x] cp1", "[ ] cp2"]
            await pilot.press("down", "space")  # space toggles the highlighted one
            await pilot.pause()
            assert checklist.render_line(1).text.rstrip() == "[x] cp2" and checklist.selected == [0, 1]

    asyncio.run(run())
