"""What every wizard step shares: the frame, next/back, and showing the spec's problems.

A step owns some YAML paths (`owns`). Each edit goes to the wizard state, which re-validates the
whole spec; the step then gives every field the problems at its path and lists the rest it owns.
Next refuses while the step owns an error and says which; Back always works and loses nothing,
because the answers live in the state, not in the screen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static

from khatui.spec.problems import Path, Problem, Severity
from khatui.tui.context import WizardContext
from khatui.tui.state import WizardState
from khatui.tui.widgets.chrome import ProblemPanel, StepBar
from khatui.tui.widgets.field import BoundField
from khatui.tui.widgets.keybar import KeyBar

if TYPE_CHECKING:
    from khatui.rollout.rollout import Rollout

STEPS: list[tuple[str, str]] = [
    ("start", "Start"),
    ("inventory", "Nodes"),
    ("etcd", "etcd/PKI"),
    ("loadbalancer", "LB/proxy"),
    ("network", "CNI"),
    ("dns", "Network"),
    ("persistence", "Storage"),
    ("preflight", "Preflight"),
    ("review", "Review"),
]
"""The wizard's steps in order: (screen name, title)."""


WIDE = 110
"""Terminals at least this wide get the `-wide` screen class (see KhatuiApp.HORIZONTAL_BREAKPOINTS)."""


def width_class(width: int) -> str:
    """The screen class for a terminal `width` columns wide."""
    return "-wide" if width >= WIDE else "-narrow"


def neighbour(step: str, offset: int) -> str | None:
    """The step `offset` places after `step` (None past either end)."""
    names = [name for name, _ in STEPS]
    index = names.index(step) + offset
    return names[index] if 0 <= index < len(names) else None


class Navigate(Message):
    """Asks the app to show the wizard step `step`."""

    def __init__(self, step: str) -> None:
        super().__init__()
        self.step = step


class RolloutRequested(Message):
    """A rollout was recorded in the journal and is to be shown live."""

    def __init__(self, rollout: Rollout) -> None:
        super().__init__()
        self.rollout = rollout


class WizardStep(Screen[None]):
    """A wizard step: a step bar, a title, the step's body, its problems and the key footer."""

    STEP: ClassVar[str] = ""
    HEADING: ClassVar[str] = ""
    HINT: ClassVar[str] = ""
    """One line under the heading: what this step is for."""
    ALL_CLEAR: ClassVar[str] = "✓ no problems on this page"
    """What the problem line says when there is none ('' hides the line)."""
    ABOUT: ClassVar[str] = (
        "Every answer goes into one cluster spec (YAML), validated as you type: problems show next to "
        "the field, the rest under the page. Next (ctrl+n) refuses while the page has an error and says "
        "why; Back (ctrl+b) keeps every answer. ctrl+s saves the spec at any point: `khatui plan` and "
        "`khatui apply` read the same file. ctrl+p opens the command palette (jump to any step)."
    )
    """How the wizard works, under the keys in F1's help."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+n", "next", "Next"),
        Binding("ctrl+b", "back", "Back"),
    ]

    def __init__(self, ctx: WizardContext) -> None:
        # The width class is set now, not on the first resize: changing a class on a mounted
        # screen restyles every widget of it (a visible delay on a page of forty fields).
        super().__init__(name=self.STEP, classes=width_class(self.app.size.width))
        self.ctx = ctx

    @property
    def state(self) -> WizardState:
        return self.ctx.state

    def compose(self) -> ComposeResult:
        yield StepBar(STEPS, self.STEP, str(self.state.get(("metadata", "name")) or ""))
        yield Static(self.HEADING, classes="step-heading")
        if self.HINT:
            yield Static(self.HINT, classes="step-hint")
        with VerticalScroll(classes="step-body", can_focus=False):
            yield from self.body()
        yield ProblemPanel()
        yield KeyBar()

    def body(self) -> ComposeResult:
        """The step's own widgets."""
        yield from ()

    def on_mount(self) -> None:
        self.show_problems()

    # -- problems ---------------------------------------------------------------------------------
    def owns(self, path: Path) -> bool:
        """True when a problem at `path` is this step's to show and to fix."""
        return False

    def owned(self) -> list[Problem]:
        """The problems this step owns, errors first."""
        return [p for p in self.state.problems() if self.owns(p.path)]

    def blockers(self) -> list[str]:
        """Why Next must refuse ([] when it may go on)."""
        return [
            f"{p.field}: {p.message}" if p.path else p.message for p in self.owned() if p.severity is Severity.ERROR
        ]

    def show_problems(self) -> None:
        """Give every field its problems; list the owned ones no field shows."""
        shown: set[Problem] = set()
        for field in self.query(BoundField):
            problems = self.state.problems_at(field.path)
            field.show(problems)
            shown.update(problems)
        owned = self.owned()
        rest = [p for p in owned if p not in shown]
        inline = [p for p in owned if p in shown]
        errors = sum(1 for p in inline if p.severity is Severity.ERROR)
        panel = self.query_one(ProblemPanel)
        panel.show(rest, all_clear=self.ALL_CLEAR, inline=(errors, len(inline) - errors))
        panel.display = bool(rest or self.ALL_CLEAR)

    @on(BoundField.Changed)
    def _field_changed(self, event: BoundField.Changed) -> None:
        if self.state.get(event.path) == event.value:
            return  # a control announcing its initial value: nothing changed
        self.state.set(event.path, event.value)
        self.changed(event.path)
        self.show_problems()

    def changed(self, path: Path) -> None:
        """Called after an answer at `path` was written (redraw what depends on it)."""

    # -- navigation -------------------------------------------------------------------------------
    def action_next(self) -> None:
        reasons = self.blockers()
        if reasons:
            more = f" (+{len(reasons) - 1} more)" if len(reasons) > 1 else ""
            self.notify(f"{reasons[0]}{more}", title="Cannot continue yet", severity="error")
            self.focus_first_problem()
            return
        target = neighbour(self.STEP, 1)
        if target is not None:
            self.post_message(Navigate(target))

    def action_back(self) -> None:
        target = neighbour(self.STEP, -1)
        if target is not None:
            self.post_message(Navigate(target))

    def focus_first_problem(self) -> None:
        """Put the cursor on the first field with an error, if any."""
        for field in self.query(BoundField):
            if field.has_error:
                field.focus_control()
                return
