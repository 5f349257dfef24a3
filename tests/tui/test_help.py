"""F1: the page's own keys first, no generic cursor keys, each action once, how to close it; the
rollout view explains itself, not the wizard."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from textual.widgets import Static

from khatui.tui.screens.base import WizardStep
from khatui.tui.screens.help import HelpScreen, key_rows
from khatui.tui.screens.rollout import RolloutScreen
from tests.tui.test_snapshots import rollout_app, settle, start_rollout, wizard


def shown_text(help_screen: HelpScreen) -> str:
    return "\n".join(strip.text for strip in help_screen._compositor.render_strips())  # what the terminal shows


@pytest.mark.parametrize(("step", "first"), [("inventory", "^n"), ("preflight", "^n"), ("review", "^n")])
def test_help_lists_the_pages_keys_first_and_each_once(spec_copy: Path, step: str, first: str) -> None:
    async def run() -> None:
        app = wizard(spec_copy, step)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            screen = app.screen
            own, everywhere = key_rows(screen)
            described = [what for _, what in own + everywhere]
            assert own[0][0] == first and len(described) == len(set(described))
            assert not {"Cursor up", "Cursor down", "Page up", "Select"} & set(described)
            await pilot.press("f1")
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            text = shown_text(app.screen)
            assert "esc closes" in text and text.index(own[-1][1]) < text.index("everywhere")
            await pilot.press("escape")
            await pilot.pause()
            assert app.screen is screen

    asyncio.run(run())


def test_the_rollout_help_explains_the_rollout_not_the_wizard(spec_copy: Path) -> None:
    async def run() -> None:
        app = rollout_app(spec_copy, fail="cp2")
        async with app.run_test(size=(80, 24)) as pilot:
            await start_rollout(app)(pilot)
            assert isinstance(app.screen, RolloutScreen)
            await pilot.press("f1")
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            text = shown_text(app.screen)
            assert "Full log" in text and "Retry step" not in text  # no failure waits for an answer
            about = str(app.screen.query_one(".help--about", Static).content)
            assert "khatui resume" in about and about != WizardStep.ABOUT

    asyncio.run(run())
