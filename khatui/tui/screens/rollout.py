"""The live rollout: a pane per node (a sortable table from 50 nodes), the phase bar, the full log of
the selected node, and a failure panel.

The engine runs in one thread worker (`Services.execute`) and reports through an `EventBridge`;
this screen drains the bridge at most every `interval` seconds (5 a second by default), applies the
batch to the `Board` and repaints only the nodes that changed. The executor handed over by the
service gives pause, unpause and abort; they are thread-safe and take effect before the next action.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, VerticalScroll
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Log, Static
from textual.worker import Worker, WorkerState

from khatui.errors import KhatuiError
from khatui.events import Event, NodeFailed, RolloutFinished
from khatui.tui.board import Board, Clock
from khatui.tui.bridge import EventBridge
from khatui.tui.screens.base import width_class
from khatui.tui.screens.dialogs import ConfirmDialog
from khatui.tui.services import Services
from khatui.tui.widgets.keybar import KeyBar
from khatui.tui.widgets.node_table import NodeTable
from khatui.tui.widgets.rollout_parts import FailurePanel, NodePane, PhaseBar

if TYPE_CHECKING:
    from khatui.engine.executor import EngineOptions, Executor, RolloutResult
    from khatui.journal import RolloutRecord
    from khatui.plan.model import Plan
    from khatui.rollout.service import Observed

TABLE_FROM = 50
"""From this many nodes the panes collapse into the table."""


@dataclass
class RolloutJob:
    """A rollout recorded in the journal, its plan, and the nodes' open sessions."""

    record: RolloutRecord
    plan: Plan
    observed: Observed


class RolloutScreen(Screen[None]):
    """The live view of one rollout."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f,enter", "full_log", "Full log"),
        Binding("escape", "close_log", "Back to nodes", show=False),
        Binding("p", "pause", "Pause/resume"),
        Binding("a", "abort", "Abort"),
        Binding("ctrl+b", "back", "Back", show=False),
    ]

    def __init__(
        self,
        job: RolloutJob,
        services: Services,
        options: EngineOptions | None,
        clock: Clock = time.monotonic,
        interval: float = 0.2,
        table_from: int = TABLE_FROM,
        on_painted: Callable[[list[Event]], None] | None = None,
    ) -> None:
        super().__init__(name="rollout", classes=width_class(self.app.size.width))
        self.job = job
        self.services = services
        self.options = options
        self.interval = interval
        self.board = Board(job.plan, clock)
        self.bridge = EventBridge(self)
        self.executor: Executor | None = None
        self.executor_ready = threading.Event()
        """Set once the engine handed over its executor (pause and abort work from then on)."""
        self.result: RolloutResult | None = None
        self.selected: str | None = next(iter(self.board.nodes), None)
        self.tabular = len(self.board.nodes) >= table_from
        self.on_painted = on_painted
        self.quit_when_done = False
        self._written = 0
        self._last_drain = 0.0
        self._drain_timer: Timer | None = None

    # -- layout -------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield PhaseBar(self.board, id="phase")
        if self.tabular:
            yield NodeTable(self.board, id="nodes")
        else:
            with VerticalScroll(id="nodes"), Grid(id="panes"):
                for name in self.board.nodes:
                    yield NodePane(self.board, name)
        yield FailurePanel(id="failure")
        yield Static("", id="log-title")
        yield Log(id="log", max_lines=None, auto_scroll=True)
        yield KeyBar()

    def on_mount(self) -> None:
        self.show_log(self.selected)
        self.set_interval(1.0, self.tick)
        if self.tabular:
            self.query_one(NodeTable).focus()
        else:
            self.query(NodePane).first().focus()
        self.run_engine()

    @property
    def running(self) -> bool:
        """True while the engine worker has not returned."""
        return self.result is None and any(
            w.name == "rollout" and w.node is self and not w.is_finished for w in self.workers
        )

    # -- the engine ---------------------------------------------------------------------------------
    @work(thread=True, name="rollout", group="rollout", exclusive=True, exit_on_error=False)
    def run_engine(self) -> RolloutResult:
        from khatui.engine.executor import EngineOptions

        job = self.job
        options = self.options or EngineOptions()
        return self.services.execute(job.record, job.plan, job.observed, self.bridge, options, self._executor)

    def _executor(self, executor: Executor) -> None:
        """Called from the worker thread before the run starts."""
        self.executor = executor
        self.executor_ready.set()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.name != "rollout" or not event.worker.is_finished:
            return
        if event.state is WorkerState.SUCCESS:
            self.result = event.worker.result
        else:
            error = event.worker.error
            message = error.message if isinstance(error, KhatuiError) else f"{type(error).__name__}: {error}"
            from khatui.engine.executor import RolloutResult

            self.result = RolloutResult(self.job.record.id, False, summary=f"the rollout stopped: {message}")
            self.notify(message, title="Rollout stopped", severity="error", timeout=30)
        self.drain()
        if self.quit_when_done:
            code = 0 if self.result is not None and self.result.ok else 1
            self.app.exit(code, return_code=code)

    # -- events: coalesced ----------------------------------------------------------------------------
    @on(EventBridge.Arrived)
    def _arrived(self, message: EventBridge.Arrived) -> None:
        message.stop()
        wait = self._last_drain + self.interval - time.monotonic()
        if wait <= 0:
            self.drain()
        elif self._drain_timer is None:
            self._drain_timer = self.set_timer(wait, self.drain)

    def drain(self) -> None:
        """Apply every pending event and repaint what changed."""
        if self._drain_timer is not None:
            self._drain_timer.stop()
            self._drain_timer = None
        self._last_drain = time.monotonic()
        events = self.bridge.drain()
        if not events:
            return
        changed = self.board.apply(events)
        self.query_one(PhaseBar).refresh()
        if self.tabular:
            table = self.query_one(NodeTable)
            if table.sort_key == "name":
                table.refresh()
            else:
                table.resort()
        else:
            for pane in self.query(NodePane):
                if pane.node in changed:
                    pane.refresh()
        if self.selected in changed:
            self.append_log()
        if any(isinstance(e, NodeFailed | RolloutFinished) for e in events):
            self.query_one(FailurePanel).show_board(self.board)
        finished = next((e for e in events if isinstance(e, RolloutFinished)), None)
        if finished is not None:
            self.notify(
                finished.summary.splitlines()[0], severity="information" if finished.ok else "error", timeout=15
            )
        if self.on_painted is not None:
            self.call_after_refresh(self.on_painted, events)

    def tick(self) -> None:
        """Once a second: elapsed times of running nodes move on."""
        if self.board.finished is not None:
            return
        self.query_one(PhaseBar).refresh()
        if self.tabular:
            self.query_one(NodeTable).refresh()
        else:
            for pane in self.query(NodePane):
                if self.board.nodes[pane.node].state == "running":
                    pane.refresh()

    # -- the detail pane ----------------------------------------------------------------------------
    def show_log(self, node: str | None) -> None:
        """Show the whole output of `node` so far, then follow it."""
        self.selected = node
        log = self.query_one("#log", Log)
        log.clear()
        self._written = 0
        title = Text(f"output of {node}" if node else "no node", "bold")
        title.append("  (f: full screen)", "dim")
        self.query_one("#log-title", Static).update(title)
        self.append_log()

    def append_log(self) -> None:
        if self.selected is None:
            return
        lines = self.board.nodes[self.selected].lines
        if len(lines) > self._written:
            self.query_one("#log", Log).write_lines(lines[self._written :])
            self._written = len(lines)

    @on(events.DescendantFocus)
    def _focused(self, event: events.DescendantFocus) -> None:
        widget = event.widget
        if isinstance(widget, NodePane) and widget.node != self.selected:
            self.show_log(widget.node)

    @on(NodeTable.Highlighted)
    def _highlighted(self, event: NodeTable.Highlighted) -> None:
        if event.node != self.selected:
            self.show_log(event.node)

    # -- keys -----------------------------------------------------------------------------------------
    def action_full_log(self) -> None:
        self.toggle_class("-full-log")

    def action_close_log(self) -> None:
        self.remove_class("-full-log")

    def action_pause(self) -> None:
        executor = self.executor
        if executor is None or not self.running:
            self.notify("no rollout is running", severity="warning")
            return
        self.board.paused = not self.board.paused
        if self.board.paused:
            executor.pause()
            self.notify("paused: no new action starts (running commands finish); p resumes")
        else:
            executor.unpause()
            self.notify("resumed")
        self.query_one(PhaseBar).refresh()

    def action_abort(self) -> None:
        if self.executor is None or not self.running:
            self.notify("no rollout is running", severity="warning")
            return

        def answered(yes: bool | None) -> None:
            if yes and self.executor is not None:
                self.executor.abort()
                self.notify("aborting: running commands finish, no new step starts")

        body = (
            "No new step starts; commands already running finish. The journal keeps every finished "
            f"step: `khatui resume {self.job.record.id}` continues later."
        )
        self.app.push_screen(ConfirmDialog("Abort the rollout?", body, yes="Abort", no="Keep going"), answered)

    def abort_and_quit(self) -> None:
        """Abort, and quit once the engine has stopped."""
        self.quit_when_done = True
        if self.executor is not None:
            self.executor.abort()
        self.notify("aborting; khatui quits when the running commands have finished", timeout=30)

    def action_back(self) -> None:
        if self.running:
            self.notify("the rollout is running: abort it (a) first", severity="warning")
            return
        self.dismiss(None)
