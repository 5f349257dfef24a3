"""The keys of the focused context in one line of text, like Textual's `Footer` but one widget.

`Footer` recomposes a widget per key on every focus change; with a form of many fields that is a
recompose per tab press. This bar re-renders one line of text instead.
"""

from __future__ import annotations

from rich.text import Text
from textual.screen import Screen
from textual.widget import Widget


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
        text = Text(no_wrap=True, overflow="ellipsis")
        seen: set[str] = set()
        for active in self.screen.active_bindings.values():
            binding = active.binding
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            key = self.app.get_key_display(binding)
            text.append(f" {key} ", "bold reverse" if active.enabled else "dim reverse")
            text.append(f" {binding.description} ", "" if active.enabled else "dim")
        text.append(" ^p ", "bold reverse")
        text.append(" palette")
        return text
