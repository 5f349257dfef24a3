"""Step 1: a new cluster, a spec file to open, or a rollout from the journal to continue."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Button, DataTable, Input, Label
from textual.worker import Worker, WorkerState

from khatui.errors import KhatuiError
from khatui.tui.screens.base import Navigate, WizardStep
from khatui.tui.screens.dialogs import ConfirmDialog
from khatui.tui.state import WizardState, warm_up
from khatui.tui.widgets.chrome import ProblemPanel
from khatui.tui.widgets.plain_table import PlainTable

if TYPE_CHECKING:
    from khatui.journal import RolloutRecord
    from khatui.rollout.rollout import Rollout


def age(seconds: float) -> str:
    """'3 min', '5 h', '2 d'."""
    if seconds < 3600:
        return f"{max(0, int(seconds // 60))} min"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86400)} d"


def failing_node(record: RolloutRecord) -> str:
    """The node named by the failure summary ('' when none)."""
    text = record.failure or ""
    marker = "failed on node "
    if marker in text:
        return text.split(marker, 1)[1].split(",", 1)[0]
    return ""


class ResumeRequested(Message):
    """The operator confirmed continuing a rollout: the app shows it live."""

    def __init__(self, rollout: Rollout) -> None:
        super().__init__()
        self.rollout = rollout


class StartScreen(WizardStep):
    """New, open, or resume."""

    STEP = "start"
    HEADING = "Start"
    HINT = "Describe a new cluster, open a spec file, or continue a stopped rollout."
    ALL_CLEAR = ""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "new", "New cluster"),
        Binding("o", "open", "Open spec"),
        Binding("r", "rollouts", "Rollouts"),
    ]

    records: list[RolloutRecord] = []

    def show_problems(self) -> None:
        """The start screen edits no answer: no problem line (and no validation before the first frame)."""
        self.query_one(ProblemPanel).display = False

    def body(self) -> ComposeResult:
        with Horizontal(classes="start-row"):
            yield Button("New cluster (n)", id="new", variant="primary", compact=True)
        with Horizontal(classes="start-row"):
            yield Label("Open a spec file (o)", classes="start-label")
            yield Input(placeholder="path/to/cluster.yaml, then enter", id="open", compact=True)
        yield Label("Rollouts in the journal (r, enter continues one)", classes="start-label")
        table = PlainTable(id="rollouts", cursor_type="row", zebra_stripes=True)
        yield table

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one("#rollouts", DataTable)
        # Fixed widths: rows arrive from a worker after the first frame.
        for label, width in (("id", 22), ("cluster", 16), ("state", 8), ("age", 6), ("failing node", 14)):
            table.add_column(label, width=width)
        self.query_one("#new", Button).focus()
        self.call_after_refresh(self.load_rollouts)  # the journal and the spec models load after the first frame
        self.call_after_refresh(self.warm_up)

    @work(thread=True, name="warm-up", group="warm-up", exit_on_error=False)
    def warm_up(self) -> None:
        """The spec models load while the operator reads this screen."""
        warm_up()

    @work(thread=True, name="journal", group="start", exclusive=True, exit_on_error=False)
    def load_rollouts(self) -> list[RolloutRecord]:
        return self.ctx.services.rollouts()

    @work(thread=True, name="resume", group="start", exclusive=True, exit_on_error=False)
    def prepare_resume(self, rollout_id: str) -> Rollout:
        options = self.ctx.rollout_options(getattr(self.app, "gate", None), with_waivers=False)
        return self.ctx.services.resume(rollout_id, options)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state is WorkerState.ERROR:
            error = worker.error
            message = error.message if isinstance(error, KhatuiError) else f"{type(error).__name__}: {error}"
            self.notify(message, title=f"{worker.name} failed", severity="error", timeout=10)
        elif event.state is WorkerState.SUCCESS and isinstance(worker.result, list):
            self._show_rollouts(worker.result)
        elif event.state is WorkerState.SUCCESS and worker.name == "resume" and worker.result is not None:
            self._confirm_resume(worker.result)

    def _show_rollouts(self, records: list[RolloutRecord]) -> None:
        self.records = records
        table = self.query_one("#rollouts", DataTable)
        table.clear()
        now = self.ctx.wall_clock()
        style = {"done": "green", "failed": "red", "running": "yellow", "aborted": "yellow", "incomplete": "yellow"}
        for record in records:
            table.add_row(
                record.id,
                record.cluster,
                Text(record.state, style.get(record.state, "")),
                age(now - record.started),
                failing_node(record),
                key=record.id,
            )
        if not records:
            table.add_row("(no rollouts yet)", "", "", "", "")

    def _confirm_resume(self, rollout: Rollout) -> None:
        observed, record = rollout.observed, rollout.record
        assert observed is not None and record is not None
        if observed.unreachable or observed.blocking:
            names = sorted(observed.unreachable) + sorted({f"{c.check}:{c.node}" for c in observed.blocking})
            rollout.close()
            self.notify(
                "preflight failed: " + ", ".join(names[:5]) + "; fix the nodes, then try again",
                title="Cannot resume",
                severity="error",
                timeout=10,
            )
            return
        body = f"Continue rollout {record.id} ({record.state}) of {record.spec_path}?"
        if rollout.spec_diff:
            body += "\n\nThe spec changed since it started:\n" + rollout.spec_diff

        def answered(yes: bool | None) -> None:
            if yes:
                self.post_message(ResumeRequested(rollout))
            else:
                rollout.close()

        self.app.push_screen(ConfirmDialog("Resume rollout", body, yes="Resume"), answered)

    # -- actions ------------------------------------------------------------------------------------
    def action_new(self) -> None:
        self.ctx.state = WizardState()
        self.ctx.forget_observation()
        self.post_message(Navigate("inventory"))

    def action_open(self) -> None:
        self.query_one("#open", Input).focus()

    def action_rollouts(self) -> None:
        self.query_one("#rollouts", DataTable).focus()

    def action_next(self) -> None:
        self.post_message(Navigate("inventory"))

    @on(Button.Pressed, "#new")
    def _new(self) -> None:
        self.action_new()

    @on(Input.Submitted, "#open")
    def _open(self, event: Input.Submitted) -> None:
        path = Path(os.path.expanduser(event.value.strip()))
        try:
            self.ctx.state = WizardState.from_file(path)
        except KhatuiError as exc:
            self.notify(exc.message, title="Cannot open", severity="error", timeout=10)
            return
        self.ctx.forget_observation()
        self.post_message(Navigate("inventory"))

    @on(DataTable.RowSelected, "#rollouts")
    def _resume(self, event: DataTable.RowSelected) -> None:
        rollout_id = event.row_key.value
        if not rollout_id:
            return
        records = {r.id: r for r in self._records()}
        record = records.get(rollout_id)
        elsewhere = record is not None and record.state == "running" and record.pid not in (None, os.getpid())
        from khatui.rollout.background import process_alive

        if elsewhere and record is not None and process_alive(record.pid):
            self.notify(
                f"rollout {rollout_id} is running in process {record.pid}; attaching to another process "
                "is not available yet (follow its log: " + record.log_path + ")",
                title="Cannot attach",
                severity="warning",
                timeout=10,
            )
            return
        self.notify(f"connecting to the nodes of rollout {rollout_id} …", timeout=4)
        self.prepare_resume(rollout_id)

    def _records(self) -> list[RolloutRecord]:
        return list(self.records)
