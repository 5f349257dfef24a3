"""A dialog editing one item of a list in the spec (a node, a storage class) as a draft.

The draft is validated in place, inside a copy of the whole spec (`WizardState.trial_item`), so the
form sees the same problems `khatui validate` would, duplicates with other items included, before
anything is stored. Save (ctrl+s) refuses while the draft has an error that is its own to fix.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label

from khatui.spec.problems import Path, Problem, Severity
from khatui.spec.validate import Report
from khatui.tui.screens.dialogs import DIALOG_CSS
from khatui.tui.state import WizardState, get_path, set_path
from khatui.tui.widgets.chrome import ProblemPanel
from khatui.tui.widgets.field import BoundField


class ItemForm(ModalScreen[dict[str, Any] | None]):
    """Edit `item` (index `index` of the list at `list_path`, or a new one when None)."""

    DEFAULT_CSS = (
        """
    ItemForm { align: center middle; }
    ItemForm .dialog { height: 1fr; max-height: 30; }
    ItemForm .dialog--body { height: 1fr; max-height: 100%; margin: 0; }
    """
        + DIALOG_CSS
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save"),
        Binding("escape", "cancel", "Cancel"),
    ]
    TITLE_TEXT: ClassVar[str] = "Edit"

    def __init__(self, state: WizardState, list_path: Path, index: int | None, item: dict[str, Any]) -> None:
        super().__init__()
        self.state = state
        self.list_path = list_path
        self.index = index
        self.draft: dict[str, Any] = copy.deepcopy(item)
        self.title_text = self.TITLE_TEXT
        self.report: Report | None = None
        self.problems: list[Problem] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog--title", markup=False)  # may hold a node name
            with VerticalScroll(classes="dialog--body", id="form-fields"):
                yield from self.fields()
            yield ProblemPanel()
            with Horizontal(classes="dialog--buttons"):
                yield Button("Save (^s)", id="save", variant="primary", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)

    def fields(self) -> ComposeResult:
        """The draft's fields, with paths relative to the item."""
        yield from ()

    def on_mount(self) -> None:
        self.revalidate()
        first = self.query(BoundField).first()
        first.focus_control()

    @on(BoundField.Changed)
    def _changed(self, event: BoundField.Changed) -> None:
        event.stop()
        if get_path(self.draft, event.path) == event.value:
            return  # a control announcing its initial value
        set_path(self.draft, event.path, event.value)
        self.after_change(event.path)
        self.revalidate()

    def after_change(self, path: Path) -> None:
        """Called after the draft changed at `path`."""

    def revalidate(self) -> None:
        """Validate the draft in the spec and show its problems."""
        report, item_path = self.state.trial_item(self.list_path, self.index, self.draft)
        self.report = report
        depth = len(item_path)
        self.problems = [replace(p, path=p.path[depth:]) for p in report.problems if p.path[:depth] == item_path]
        shown: set[Problem] = set()
        for field in self.query(BoundField):
            mine = [p for p in self.problems if p.path[: len(field.path)] == field.path]
            field.show(mine)
            shown.update(mine)
        errors = sum(1 for p in self.problems if p in shown and p.severity is Severity.ERROR)
        warnings = sum(1 for p in self.problems if p in shown) - errors
        self.query_one(ProblemPanel).show(
            [p for p in self.problems if p not in shown], all_clear="✓ no problems", inline=(errors, warnings)
        )

    def blocking(self) -> list[Problem]:
        """The draft's errors that must be fixed before saving."""
        return [p for p in self.problems if p.severity is Severity.ERROR]

    def action_save(self) -> None:
        self.revalidate()
        errors = self.blocking()
        if errors:
            first = errors[0]
            self.notify(f"{first.field}: {first.message}", title="Cannot save yet", severity="error")
            for field in self.query(BoundField):
                if field.path == first.path[: len(field.path)]:
                    field.focus_control()
                    break
            return
        self.dismiss(self.draft)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.action_cancel()
