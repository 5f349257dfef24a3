"""Keyboard-only driving helpers for Pilot tests: every move is a key press, as an operator would."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widget import Widget

from khatui.spec.problems import Path
from khatui.tui.app import KhatuiApp
from khatui.tui.widgets.field import BoundField


def field_of(widget: Widget | None) -> BoundField | None:
    """The field `widget` belongs to."""
    node = widget
    while node is not None:
        if isinstance(node, BoundField):
            return node
        parent = node.parent
        node = parent if isinstance(parent, Widget) else None
    return None


async def focus(pilot: Pilot[int], path: Path, limit: int = 60) -> None:
    """Press tab until the field at `path` has the focus."""
    for _ in range(limit):
        field = field_of(pilot.app.focused)
        if field is not None and field.path == path:
            return
        await pilot.press("tab")
    raise AssertionError(f"no field {path} reached with tab (focus: {pilot.app.focused!r})")


async def focus_widget(pilot: Pilot[int], selector: str, limit: int = 60) -> None:
    """Press tab until the widget matching `selector` has the focus."""
    for _ in range(limit):
        focused = pilot.app.focused
        if focused is not None and focused in list(pilot.app.screen.query(selector)):
            return
        await pilot.press("tab")
    raise AssertionError(f"no widget {selector} reached with tab")


async def type_into(pilot: Pilot[int], path: Path, text: str) -> None:
    """Focus the field at `path`, clear it, type `text`."""
    await focus(pilot, path)
    await pilot.press("end", "ctrl+u", *text)


async def step(pilot: Pilot[int], key: str = "ctrl+n") -> str:
    """Press next (or back) and return the name of the screen shown then."""
    await pilot.press(key)
    await pilot.pause()
    return str(pilot.app.screen.name)


def app_of(pilot: Pilot[int]) -> KhatuiApp:
    assert isinstance(pilot.app, KhatuiApp)
    return pilot.app
