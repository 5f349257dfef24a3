"""Write the README's screenshots (SVG, from Textual) of the main screens to assets/screenshots/.

    .venv/bin/python -m tests.tui.screenshots

Same fixed data as the snapshot tests (fake core answers, fixed clocks), so they only change when
the screens do.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input

from tests.conftest import ROOT
from tests.tui.conftest import EXAMPLE
from tests.tui.fakes import FakeServices, record
from tests.tui.test_snapshots import from_preflight, rollout_app, settle, start_rollout, wizard

OUT = ROOT / "assets" / "screenshots"

Shot = tuple[str, Callable[[Path], object], tuple[int, int], Callable[[Pilot[int]], Awaitable[None]] | None]


async def take(
    name: str, app: object, size: tuple[int, int], before: Callable[[Pilot[int]], Awaitable[None]] | None
) -> None:
    async with app.run_test(size=size) as pilot:  # type: ignore[attr-defined]
        await settle(pilot)
        if before is not None:
            await before(pilot)
        await settle(pilot)
        app.save_screenshot(str(OUT / f"{name}.svg"))  # type: ignore[attr-defined]


async def edit_node(pilot: Pilot[int]) -> None:
    await pilot.press("e")


async def main() -> None:
    Input.cursor_blink = False  # type: ignore[assignment]
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["KHATUI_DATA_DIR"] = tmp
        spec = Path(tmp) / "cluster.yaml"
        shutil.copy(EXAMPLE, spec)
        services = FakeServices(records=[record(), record("20250614-090000-def456", "done")], no_ipvs=("worker2",))
        for step in ("inventory", "etcd", "loadbalancer", "preflight"):
            await take(f"wizard-{step}", wizard(spec, step, services), (80, 24), None)
        passing = FakeServices()
        await take("wizard-review", wizard(spec, "preflight", passing), (80, 24), from_preflight)
        await take("wizard-node-form", wizard(spec, "inventory", services), (80, 24), edit_node)
        app = rollout_app(spec, fail="cp2")
        await take("rollout-panes", app, (120, 36), start_rollout(app))
        app = rollout_app(Path(), nodes=200)
        await take("rollout-200-nodes", app, (120, 36), start_rollout(app))
    print(f"wrote {len(list(OUT.glob('*.svg')))} screenshots to {OUT}")


if __name__ == "__main__":
    asyncio.run(main())
