"""The preflight matrix: every check fits 80 columns, only a failing check can be waived, a waiver keeps
every other result (the network mesh's too) and the header names what was waived."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.widgets import DataTable, Static

from khatui.preflight import mesh
from khatui.tui.screens.preflight import COLUMNS, PreflightScreen
from tests.tui.fakes import FakeServices
from tests.tui.test_snapshots import settle, wizard


def column(table: DataTable[object], check: str) -> list[str]:
    return [str(table.get_cell(row, check)) for row in table.rows]


def test_every_check_fits_80_columns(spec_copy: Path) -> None:
    async def run() -> None:
        app = wizard(spec_copy, "preflight", FakeServices())
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            table = app.screen.query_one("#matrix", DataTable)
            widths = sum(c.get_render_width(table) for c in table.columns.values())
            assert len(table.columns) == len(COLUMNS) + 1 and widths <= table.scrollable_content_region.width

    asyncio.run(run())


def test_waive_only_a_failure_and_keep_the_other_results(spec_copy: Path) -> None:
    async def run() -> None:
        app = wizard(spec_copy, "preflight", FakeServices(no_ipvs=("worker2",)))
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, PreflightScreen)
            table = screen.query_one("#matrix", DataTable)
            status = screen.query_one("#status", Static)
            net = column(table, mesh.CHECK)
            assert net == ["✓"] * 7
            await pilot.press("w")  # cp1 · os passes: nothing to waive
            await pilot.pause()
            assert screen.ctx.waivers == set()
            await pilot.press(*["down"] * 6, *["right"] * 5, "w")  # worker2 · ipvs-modules fails
            await pilot.pause()
            assert screen.ctx.waivers == {"ipvs-modules:worker2"}
            assert column(table, "ipvs-modules")[-1] == "w" and column(table, mesh.CHECK) == net
            assert "1 waived: ipvs-modules on worker2" in str(status.content)
            assert "all checks pass" not in str(status.content)
            assert not screen.blockers()
            await pilot.press("w")  # unwaive
            await pilot.pause()
            assert screen.ctx.waivers == set() and column(table, "ipvs-modules")[-1] == "✗"
            assert screen.blockers()

    asyncio.run(run())
