"""F1: the keys of the screen underneath, its own first, then the keys that work everywhere, then
what the screen is for.

The keys come from the screen's active bindings, but only those khatui defines (on the screen, the
app or one of khatui's widgets): Textual's generic cursor and scrolling keys are the same on every
page and would push the page's own keys below the fold. One row per action, with all its keys.
"""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Static

from khatui.tui.screens.dialogs import DIALOG_CSS

EVERYWHERE = [
    ("tab / shift+tab", "next / previous field"),
    ("ctrl+p", "command palette: go to a step, save, help"),
    ("ctrl+q", "quit (asks first while a rollout runs)"),
]
"""Keys no binding of khatui's lists but that work on every screen."""


def _key(key: str) -> str:
    return key.replace("ctrl+", "^").replace("escape", "esc")


def khatui_actions(node: DOMNode) -> set[str]:
    """The actions bound by khatui's own classes of `node` (not by the Textual classes under them)."""
    actions: set[str] = set()
    for cls in type(node).__mro__:
        bindings = cls.__dict__.get("BINDINGS")
        if bindings and cls.__module__.startswith("khatui."):
            actions.update(b.action for b in Binding.make_bindings(bindings))
    return actions


def key_rows(screen: Screen[object]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(keys of `screen` and its widgets, keys of the app): one (keys, description) row per action."""
    rows: dict[tuple[bool, str], tuple[list[str], str]] = {}
    for key, active in screen.active_bindings.items():
        binding, node = active.binding, active.node
        if not binding.description or binding.action not in khatui_actions(node):
            continue
        keys, _ = rows.setdefault((isinstance(node, App), binding.action), ([], binding.description))
        shown = _key(binding.key_display or key)
        if shown not in keys:
            keys.append(shown)
    own = [(" / ".join(keys), what) for (app, _), (keys, what) in rows.items() if not app]
    app = [(" / ".join(keys), what) for (is_app, _), (keys, what) in rows.items() if is_app]
    listed = {keys for keys, _ in own + app}
    app += [(_key(keys), what) for keys, what in EVERYWHERE if _key(keys) not in listed]
    return own, app


class HelpScreen(ModalScreen[None]):
    """The keys that work on `screen`, from its active bindings."""

    DEFAULT_CSS = (
        "HelpScreen { align: center middle; } HelpScreen .dialog { height: auto; max-height: 100%; }"
        "HelpScreen .dialog--body { max-height: 100%; }" + DIALOG_CSS
    )
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,f1,q", "dismiss", "Close")]

    def __init__(self, screen: Screen[object]) -> None:
        super().__init__()
        self.under = screen

    def compose(self) -> ComposeResult:
        own, everywhere = key_rows(self.under)
        table = Table(show_header=False, box=None, padding=(0, 1), expand=True)
        table.add_column(style="bold", no_wrap=True)
        table.add_column(ratio=1)
        for keys, what in own:
            table.add_row(keys, what)
        table.add_section()
        table.add_row(Text("everywhere", "dim italic"), "")
        for keys, what in everywhere:
            table.add_row(keys, what)
        title = str(getattr(self.under, "HEADING", "") or self.under.name or "khatui")
        about = str(getattr(self.under, "ABOUT", ""))
        with Vertical(classes="dialog"):
            yield Label(Text.assemble((f"Keys: {title}", "bold"), ("   esc closes", "dim")), classes="dialog--title")
            with VerticalScroll(classes="dialog--body"):
                yield Static(table)
                if about:
                    yield Static(Text(about, "dim"), classes="help--about")
