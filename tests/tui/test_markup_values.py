"""Spec and journal text in the wizard is shown as it is: markup in a node name, a user or a cluster
name neither crashes a screen (`ops[/]x`) nor plants a link or an action (`[link=...]`, `[@click=...]`)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml
from rich.text import Text
from textual.widgets import DataTable, Label, SelectionList

from khatui.tui.app import make_app
from khatui.tui.screens.node_form import NodeForm
from tests.tui.conftest import fixed_clock, fixed_monotonic
from tests.tui.fakes import FakeServices, record

NAME = "[link=http://x]y[/link]"
USER = "ops[/]x"
ACTION = "[@click=app.quit]q[/]"


def hostile(spec_copy: Path) -> Path:
    data = yaml.safe_load(spec_copy.read_text())
    first = data["spec"]["nodes"][0]
    first["name"], first.setdefault("ssh", {})["user"] = NAME, USER
    data["spec"]["nodes"][1]["name"] = ACTION
    spec_copy.write_text(yaml.safe_dump(data, sort_keys=False))
    return spec_copy


def cells(table: DataTable[object]) -> list[str]:
    return [
        str(cell.plain if isinstance(cell, Text) else cell)
        for row in range(table.row_count)
        for cell in table.get_row_at(row)
    ]


def test_markup_in_node_names_and_users_is_shown_as_text(spec_copy: Path) -> None:
    async def scenario() -> None:
        app = make_app(str(hostile(spec_copy)), services=FakeServices(), start="inventory", clock=fixed_monotonic)
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.pause()
            shown = cells(app.screen.query_one("#nodes", DataTable))
            assert any(NAME in cell for cell in shown) and any(USER in cell for cell in shown)
            app.notify(f"saved {USER} {NAME}")
            await pilot.press("e")  # edit the first node: its name is in the dialog's title
            await pilot.pause()
            assert isinstance(app.screen, NodeForm)
            assert NAME in str(app.screen.query_one(".dialog--title", Label).content)
            assert app.is_running  # `[@click=app.quit]` was never an action

    asyncio.run(scenario())


@pytest.mark.parametrize("start", ["etcd", "loadbalancer"])
def test_the_steps_listing_nodes_by_name_show_markup_as_text(spec_copy: Path, start: str) -> None:
    async def scenario() -> None:
        app = make_app(str(hostile(spec_copy)), services=FakeServices(), start=start, clock=fixed_monotonic)
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.pause()
            prompts = [str(option.prompt) for option in app.screen.query_one(SelectionList).options]
            assert any(NAME in prompt for prompt in prompts) and any(ACTION in prompt for prompt in prompts)

    asyncio.run(scenario())


def test_markup_in_journal_records_is_shown_as_text() -> None:
    async def scenario() -> None:
        services = FakeServices(records=[record(cluster=USER), record("20250614-090000-def456", "done", NAME)])
        app = make_app(services=services, wall_clock=fixed_clock, clock=fixed_monotonic)
        async with app.run_test(size=(160, 50)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            shown = cells(app.screen.query_one("#rollouts", DataTable))
            assert USER in shown and NAME in shown

    asyncio.run(scenario())
