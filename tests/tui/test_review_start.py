"""Review plans against the nodes however it is reached (the palette too); only preflight's offline
preview plans without facts, and then Start is shown disabled until `r` plans against the nodes.
The palette lists the steps in wizard order."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.command import CommandList
from textual.widgets import RichLog, Static

from khatui.tui.screens.base import STEPS
from khatui.tui.screens.dialogs import ConfirmDialog
from khatui.tui.screens.review import ReviewScreen
from khatui.tui.widgets.keybar import KeyBar
from tests.tui.fakes import FakeServices
from tests.tui.test_snapshots import settle, wizard


def test_the_palette_lists_the_steps_in_wizard_order(spec_copy: Path) -> None:
    async def run() -> None:
        app = wizard(spec_copy, "inventory", FakeServices())
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("ctrl+p")
            await settle(pilot)
            options = app.screen.query_one(CommandList)
            prompts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
            steps = [f"Go to: {n} {title}" for n, (_, title) in enumerate(STEPS, 1)]
            assert [p.splitlines()[0] for p in prompts[: len(steps)]] == steps

    asyncio.run(run())


def test_review_from_the_palette_is_the_real_plan_and_can_start(spec_copy: Path) -> None:
    async def run() -> None:
        app = wizard(spec_copy, "inventory", FakeServices())
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("ctrl+p", *"review", "enter")
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, ReviewScreen)
            assert app.ctx.observation_current() and not screen.blockers()
            assert "offline" not in str(screen.query_one("#summary", Static).content)
            assert screen.active_bindings["enter"].enabled
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, ConfirmDialog)

    asyncio.run(run())


def test_the_offline_preview_cannot_start_and_r_plans_against_the_nodes(spec_copy: Path) -> None:
    async def run() -> None:
        app = wizard(spec_copy, "preflight", FakeServices())
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            app.ctx.forget_observation()  # as when the nodes could not be reached
            await pilot.press("o")
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, ReviewScreen)
            assert "offline" in str(screen.query_one("#summary", Static).content)
            assert not screen.active_bindings["enter"].enabled  # shown, dimmed: starting is refused
            assert "Start rollout" in screen.query_one(KeyBar).render().plain
            await pilot.press("enter")
            await pilot.pause()
            assert app.screen is screen
            await pilot.press("r")
            await settle(pilot)
            assert "offline" not in str(screen.query_one("#summary", Static).content)
            assert app.ctx.observation_current() and screen.active_bindings["enter"].enabled

    asyncio.run(run())


def test_certificates_show_whole_names_and_dates_at_80_columns(spec_copy: Path) -> None:
    async def run() -> None:
        app = wizard(spec_copy, "preflight", FakeServices())
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("ctrl+n")
            await settle(pilot)
            lines = [strip.text for strip in app.screen.query_one("#preview", RichLog).lines]
            rollout = app.ctx.rollout
            assert rollout is not None
            for (node, path), summary in rollout.desired.cert_summaries.items():
                expiry = summary.rpartition(" expires ")[2]
                name = path.removeprefix("/etc/kubernetes/pki/")
                assert any(f" {name}" in line and f"  expires {expiry}" in line for line in lines), (name, lines)
                if path.endswith("etcd/peer.crt"):  # a node's own leaf: named with its node
                    assert any(f" {name} ({node})  expires" in line for line in lines), (node, lines)

    asyncio.run(run())
