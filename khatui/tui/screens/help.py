"""F1: the keys of the screen underneath, the app's keys, and how the wizard works."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Static

from khatui.tui.screens.dialogs import DIALOG_CSS

ABOUT = (
    "Every answer goes into one cluster spec (YAML), validated as you type: problems show next to "
    "the field, the rest under the page. Next (ctrl+n) refuses while the page has an error and says "
    "why; Back (ctrl+b) keeps every answer. ctrl+s saves the spec at any point: `khatui plan` and "
    "`khatui apply` read the same file. ctrl+p opens the command palette (jump to any step)."
)


def _key(key: str) -> str:
    return key.replace("ctrl+", "^").replace("escape", "esc")


class HelpScreen(ModalScreen[None]):
    """The keys that work on `screen`, from its active bindings."""

    DEFAULT_CSS = (
        "HelpScreen { align: center middle; } HelpScreen .dialog { height: 1fr; max-height: 40; }" + DIALOG_CSS
    )
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,f1,q", "dismiss", "Close")]

    def __init__(self, screen: Screen[object]) -> None:
        super().__init__()
        self.under = screen

    def compose(self) -> ComposeResult:
        table = Table(show_header=False, box=None, padding=(0, 1), expand=True)
        table.add_column(style="bold", no_wrap=True)
        table.add_column(ratio=1)
        seen: set[str] = set()
        for key, active in self.under.active_bindings.items():
            binding = active.binding
            if not binding.description or binding.description in seen:
                continue
            seen.add(binding.description)
            table.add_row(_key(binding.key_display or key), binding.description)
        table.add_row(_key("ctrl+p"), "command palette: go to a step, save, help")
        table.add_row("tab / shift+tab", "next / previous field")
        table.add_row(_key("ctrl+q"), "quit (asks first while a rollout runs)")
        with Vertical(classes="dialog"):
            yield Label(f"Keys: {self.under.name or 'khatui'}", classes="dialog--title")
            with VerticalScroll(classes="dialog--body"):
                yield Static(table)
                yield Static(Text(ABOUT, "dim"))
