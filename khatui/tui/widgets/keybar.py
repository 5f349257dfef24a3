"""The keys of the focused context in one line of text, like Textual's `Footer` but one widget.

`Footer` recomposes a widget per key on every focus change; with a form of many fields that is a
recompose per tab press. This bar re-renders one line of text instead.

At 80 columns a page's keys and the app's (help, save, palette) do not always fit: then the bar
packs them tighter (as nano does) and names the app's keys in a word, then by their keys alone, and
if that is still too wide it leaves out the page's last keys (F1 lists them all), never the app's.
"""

from __future__ import annotations

from typing import NamedTuple

from rich.text import Text
from textual.app import App
from textual.screen import Screen
from textual.widget import Widget


class Item(NamedTuple):
    """One key of the bar."""

    key: str
    description: str
    short: str = ""
    """The description in a word, for a narrow bar (the app's keys)."""
    enabled: bool = True


PALETTE = Item("^p", "palette", "palette")
SHORT = {"help": "help", "save": "save"}
"""The app's actions by one word, for a narrow bar."""


def line(page: list[Item], app: list[Item], tight: int = 0, elided: bool = False) -> Text:
    """The bar's text: the page's keys, then the app's. `tight` 1: no padding around a key (as nano
    does) and the app's keys in a word; 2: the app's keys without a word."""
    text = Text(no_wrap=True, overflow="ellipsis")

    def add(item: Item, word: str) -> None:
        style = "bold reverse" if item.enabled else "dim reverse"
        text.append(f" {item.key} " if not tight else item.key, style)
        if word:
            text.append(f" {word} " if not tight else f" {word}", "" if item.enabled else "dim")
        text.append(" " if tight else "")

    if tight:
        text.append(" ")
    for item in page:
        add(item, item.description)
    if elided:
        text.append("… ", "dim")
    for item in app:
        add(item, "" if tight == 2 else (item.short or item.description) if tight else item.description)
    text.rstrip()
    return text


def fit(page: list[Item], app: list[Item], width: int) -> Text:
    """The widest form of the bar that fits `width` columns: as roomy as it fits, then tighter, then
    without the page's last keys (F1 lists them all)."""
    for tight in (0, 1, 2):
        text = line(page, app, tight)
        if text.cell_len <= width:
            return text
    shown = list(page)
    while shown and text.cell_len > width:
        shown.pop()
        text = line(shown, app, 2, elided=True)
    return text


class KeyBar(Widget):
    """Shown keys of the screen's active bindings, then F1 for the rest."""

    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-foreground;
    }
    """

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        self.refresh()

    def render(self) -> Text:
        page: list[Item] = []
        app: list[Item] = []
        seen: set[str] = set()
        for active in self.screen.active_bindings.values():
            binding = active.binding
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            key = self.app.get_key_display(binding)
            short = SHORT.get(binding.action, binding.description)
            (app if isinstance(active.node, App) else page).append(
                Item(key, binding.description, short, active.enabled)
            )
        return fit(page, [*app, PALETTE], self.size.width)
