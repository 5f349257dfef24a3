"""At 80 columns the probe's verdict shows for every node, and the highlighted node's result in full
under the table (the OS, root or not, the host key; or why it failed)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.tui.fakes import FakeServices
from tests.tui.test_snapshots import settle, wizard


def test_probe_results_are_readable_at_80x24(spec_copy: Path) -> None:
    async def run() -> None:
        app = wizard(spec_copy, "inventory", FakeServices(unreachable=("cp2",)))
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("P")
            await settle(pilot)
            shown = [strip.text for strip in app.screen._compositor.render_strips()]
            rows = {line.split()[0]: line for line in shown if line.split()[:1] and line.split()[0] in app.ctx.probes}
            assert "✓ root" in rows["cp1"] and "✗ failed" in rows["cp2"]
            assert any("cp1: ✓ Debian GNU/Linux 12 (bookworm), commands run as root" in line for line in shown)
            await pilot.press("down")
            await pilot.pause()
            shown = [strip.text for strip in app.screen._compositor.render_strips()]
            assert any("cp2: ✗ cannot connect: timed out" in line for line in shown)

    asyncio.run(run())
