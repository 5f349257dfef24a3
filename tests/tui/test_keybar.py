"""At 80 columns the key bar keeps help, save and the palette in view: it packs the keys tighter,
then names the app's keys by their key alone, then leaves out the page's last keys (F1 lists them);
the step bar above names every step."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from khatui.tui.screens.base import STEPS
from khatui.tui.widgets.keybar import Item, fit
from tests.tui.test_snapshots import rollout_app, settle, start_rollout, wizard

APP = [Item("f1", "Help", "help"), Item("^s", "Save spec", "save"), Item("^p", "palette", "palette")]
PAGE = [Item(k, f"Do {k} things") for k in "abcdef"]


@pytest.mark.parametrize(("width", "page_keys"), [(200, 6), (100, 6), (80, 4), (60, 3), (40, 2), (10, 0)])
def test_fit_leaves_out_the_pages_last_keys_not_the_apps(width: int, page_keys: int) -> None:
    text = fit(PAGE, APP, width).plain
    shown = [item.key for item in PAGE if f" {item.key} Do" in text or f" {item.key}  Do" in text]
    assert shown == [item.key for item in PAGE[:page_keys]] and ("…" in text) == (page_keys < len(PAGE))
    assert " f1" in text and " ^s" in text and text.endswith(("^p", "palette"))
    assert len(text) <= width or page_keys == 0


@pytest.mark.parametrize("where", ["review", "inventory", "rollout"])
def test_save_and_palette_show_at_80x24(spec_copy: Path, where: str) -> None:
    async def run() -> None:
        app = rollout_app(spec_copy, fail="worker2", hold=True) if where == "rollout" else wizard(spec_copy, where)
        async with app.run_test(size=(80, 24)) as pilot:
            await (start_rollout(app)(pilot) if where == "rollout" else settle(pilot))
            bottom = app.screen._compositor.render_strips()[-1].text
            assert " f1" in bottom and " ^s" in bottom and " ^p" in bottom, bottom

    asyncio.run(run())


@pytest.mark.parametrize("size", [(80, 24), (160, 50)])
def test_the_step_bar_names_every_step(spec_copy: Path, size: tuple[int, int]) -> None:
    """Nine steps fit 80 columns: the separators lose their spaces rather than a step its name."""

    async def run() -> None:
        app = wizard(spec_copy, "network")
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            top = app.screen._compositor.render_strips()[0].text
            assert all(title in top for _, title in STEPS), top
            assert (" › " in top) == (size[0] > 80)

    asyncio.run(run())
