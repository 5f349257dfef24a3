"""A one-line choice: ◂ value ▸, changed with the arrow keys or by typing its first letter.

The wizard's pages hold a dozen choices each; Textual's `Select` (a current-value widget plus an
overlay option list) costs several widgets per choice and makes a page switch visibly slow at that
count. This is one widget, readable without colour, and fully keyboard driven.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget


class Chooser(Widget, can_focus=True):
    """Pick one of `options` ((label, value) pairs; a None value means "not set")."""

    DEFAULT_CSS = """
    Chooser {
        height: 1;
        width: 1fr;
        background: $boost;
    }
    Chooser:focus {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: bold;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "step(-1)", "Previous choice", show=False),
        Binding("right,space", "step(1)", "Next choice", show=False),
        Binding("home", "first", "First choice", show=False),
        Binding("end", "last", "Last choice", show=False),
    ]

    index: reactive[int] = reactive(0)

    class Changed(Message):
        """The choice changed to `value`."""

        def __init__(self, chooser: Chooser, value: str | None) -> None:
            super().__init__()
            self.chooser = chooser
            self.value = value

        @property
        def control(self) -> Chooser:
            return self.chooser

    def __init__(
        self, options: list[tuple[str, str | None]], value: str | None = None, *, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.options = options
        values = [v for _, v in options]
        self.set_reactive(Chooser.index, values.index(value) if value in values else 0)

    @property
    def value(self) -> str | None:
        return self.options[self.index][1] if self.options else None

    def render(self) -> Text:
        if not self.options:
            return Text("(nothing to choose)", "dim")
        label = self.options[self.index][0]
        text = Text.assemble(("◂ ", "dim"), label, (" ▸", "dim"))
        text.append(f"  {self.index + 1}/{len(self.options)}", "dim")
        return text

    def watch_index(self) -> None:
        self.post_message(self.Changed(self, self.value))

    def action_step(self, delta: int) -> None:
        if self.options:
            self.index = (self.index + delta) % len(self.options)

    def action_first(self) -> None:
        self.index = 0

    def action_last(self) -> None:
        self.index = max(0, len(self.options) - 1)

    def select(self, value: str | None) -> None:
        """Choose `value` (ignored when it is not an option)."""
        values = [v for _, v in self.options]
        if value in values:
            self.index = values.index(value)

    def on_key(self, event: events.Key) -> None:
        """A letter jumps to the next option starting with it."""
        char = event.character
        if not char or not char.isprintable() or char == " ":
            return
        count = len(self.options)
        for offset in range(1, count + 1):
            candidate = (self.index + offset) % count
            if self.options[candidate][0].lower().startswith(char.lower()):
                event.stop()
                self.index = candidate
                return


class Toggles(Widget, can_focus=True):
    """Items that are each on or off, in one line: ←/→ move, space toggles."""

    DEFAULT_CSS = """
    Toggles {
        height: 1;
        width: 1fr;
        background: $boost;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "move(-1)", "Previous item", show=False),
        Binding("right", "move(1)", "Next item", show=False),
        Binding("space,x", "flip", "Toggle", show=False),
    ]

    cursor: reactive[int] = reactive(0)

    class Changed(Message):
        """The items that are on changed."""

        def __init__(self, toggles: Toggles, on: list[str]) -> None:
            super().__init__()
            self.toggles = toggles
            self.on = on

        @property
        def control(self) -> Toggles:
            return self.toggles

    def __init__(self, items: list[str], on: list[str], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.items = items
        self.on = [item for item in items if item in on]

    def render(self) -> Text:
        text = Text()
        for index, item in enumerate(self.items):
            if index:
                text.append("  ")
            mark = "[x] " if item in self.on else "[ ] "
            style = "reverse" if self.has_focus and index == self.cursor else ""
            text.append(mark + item, style + (" bold" if item in self.on else ""))
        return text

    def action_move(self, delta: int) -> None:
        self.cursor = (self.cursor + delta) % len(self.items)

    def action_flip(self) -> None:
        item = self.items[self.cursor]
        on = set(self.on) ^ {item}
        self.on = [i for i in self.items if i in on]
        self.refresh()
        self.post_message(self.Changed(self, list(self.on)))

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
