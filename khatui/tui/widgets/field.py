"""Form fields bound to one YAML path of the spec, showing the spec's own problems there inline.

A field never validates by itself: it turns what was typed into a YAML value (a number when it
parses as one, a list from comma-separated text, nothing when empty so the default applies) and
posts `Changed`; the screen writes it into the wizard state, the core validates the whole spec, and
the screen hands each field the problems at its path (`show`). So the messages are exactly those of
`khatui validate`, and a field cannot disagree with the spec.
"""

from __future__ import annotations

from typing import Any, Literal

from textual import on
from textual.app import ComposeResult
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Label, Static

from khatui.spec.problems import Path, Problem, Severity
from khatui.tui.state import format_value, parse_list
from khatui.tui.widgets.chooser import Chooser, Toggles

Kind = Literal["text", "int", "list"]


def to_value(kind: Kind, text: str) -> Any:
    """What typed text means in YAML: None when empty (the default applies)."""
    text = text.strip()
    if not text:
        return None
    if kind == "int":
        try:
            return int(text)
        except ValueError:
            return text  # kept as typed: the spec's validation explains what is wrong
    if kind == "list":
        return parse_list(text) or None
    return text


class BoundField(Widget):
    """Base of the fields: a label, a control, and a line for the problems at `path`."""

    DEFAULT_CSS = """
    BoundField {
        layout: grid;
        grid-size: 2;
        grid-columns: 22 1fr;
        grid-rows: auto;
        height: auto;
        width: 1fr;
    }
    BoundField > .field--label {
        height: 1;
        color: $text-muted;
    }
    BoundField > .field--problem {
        column-span: 2;
        display: none;
        padding-left: 22;
        height: auto;
        color: $text-error;
    }
    BoundField.-problem > .field--problem {
        display: block;
    }
    BoundField.-warning > .field--problem {
        color: $text-warning;
    }
    BoundField > Input.-textual-compact, BoundField > Chooser {
        width: 1fr;
    }
    """

    class Changed(Message):
        """The operator changed the answer at `path` to `value` (None: use the default)."""

        def __init__(self, field: BoundField, path: Path, value: Any) -> None:
            super().__init__()
            self.field = field
            self.path = path
            self.value = value

        @property
        def control(self) -> BoundField:
            return self.field

    def __init__(self, label: str, path: Path, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.label = label
        self.path = path
        self._problems: list[Problem] = []
        self._mounted = False
        self._line: Static | None = None

    def compose(self) -> ComposeResult:
        # Two widgets per field (label, control); the problem line is mounted the first time there
        # is a problem. A page holds dozens of fields and every widget costs its mount and styling.
        yield Label(self.label, classes="field--label")
        yield self.control_widget()

    def control_widget(self) -> Widget:
        """The widget the operator edits."""
        raise NotImplementedError

    def on_mount(self) -> None:
        self._mounted = True
        self.show(self._problems)

    def show(self, problems: list[Problem]) -> None:
        """Show the problems at this field's path (errors first)."""
        self._problems = problems
        if not self._mounted:
            return  # shown on mount
        errors = [p for p in problems if p.severity is Severity.ERROR]
        shown = errors or problems
        self.set_class(bool(shown), "-problem")
        self.set_class(bool(shown) and not errors, "-warning")
        text = "\n".join(p.message for p in shown[:2])
        if self._line is None:
            if not shown:
                return
            self._line = Static(text, classes="field--problem", markup=False)
            self.mount(self._line)
        elif str(self._line.content) != text:
            self._line.update(text)
        for widget in self.query("Input"):
            widget.set_class(bool(errors), "-invalid")

    @property
    def has_error(self) -> bool:
        return self.has_class("-problem") and not self.has_class("-warning")

    def focus_control(self) -> None:
        """Move the focus to the control."""
        self.query("Input, Chooser, Toggles").first().focus()


class TextField(BoundField):
    """Free text, a number, or a comma-separated list."""

    def __init__(
        self,
        label: str,
        path: Path,
        value: Any = None,
        *,
        kind: Kind = "text",
        placeholder: str = "",
        id: str | None = None,
    ) -> None:
        super().__init__(label, path, id=id)
        self.kind: Kind = kind
        self.initial = format_value(value)
        self.placeholder = placeholder

    def control_widget(self) -> Widget:
        return Input(self.initial, placeholder=self.placeholder, compact=True, select_on_focus=False)

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.Changed(self, self.path, to_value(self.kind, event.value)))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.screen.focus_next()

    def set_text(self, value: Any) -> None:
        """Replace the text without posting `Changed` (the state already holds it)."""
        control = self.query_one(Input)
        with control.prevent(Input.Changed):
            control.value = format_value(value)


class ChoiceField(BoundField):
    """One of a fixed set of values; `blank` names what no choice means (the default)."""

    def __init__(
        self,
        label: str,
        path: Path,
        options: list[tuple[str, str]],
        value: Any = None,
        *,
        blank: str | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(label, path, id=id)
        choices: list[tuple[str, str | None]] = list(options)
        if blank is not None or value not in [v for _, v in options]:
            choices.insert(0, (blank or "(choose)", None))
        self.options = choices
        self.initial = value

    def control_widget(self) -> Widget:
        return Chooser(self.options, self.initial)

    @on(Chooser.Changed)
    def _changed(self, event: Chooser.Changed) -> None:
        event.stop()
        self.post_message(self.Changed(self, self.path, event.value))

    def choose(self, value: str | None) -> None:
        """Select `value` as if the operator had."""
        self.query_one(Chooser).select(value)


class FlagField(BoundField):
    """A yes/no answer; the default is written as nothing."""

    def __init__(self, label: str, path: Path, value: Any = None, *, default: bool = False) -> None:
        super().__init__(label, path)
        self.initial = bool(default if value is None else value)
        self.default = default

    def control_widget(self) -> Widget:
        return Chooser([("no", "no"), ("yes", "yes")], "yes" if self.initial else "no")

    @on(Chooser.Changed)
    def _changed(self, event: Chooser.Changed) -> None:
        event.stop()
        value = event.value == "yes"
        self.post_message(self.Changed(self, self.path, None if value == self.default else value))


class TogglesField(BoundField):
    """Several on/off items in one line (a node's roles); the value lists the items on."""

    def __init__(self, label: str, path: Path, items: list[str], on: list[str]) -> None:
        super().__init__(label, path)
        self.items = items
        self.initial = [item for item in items if item in on]

    def control_widget(self) -> Widget:
        return Toggles(self.items, self.initial)

    @on(Toggles.Changed)
    def _changed(self, event: Toggles.Changed) -> None:
        event.stop()
        self.post_message(self.Changed(self, self.path, event.on or None))
