"""The live rollout: a pane per node (a sortable table from 50 nodes), the phase bar, the full log of
the selected node, and a failure panel.

The engine runs in one thread worker (`Rollout.execute`) and reports through an `EventBridge`;
this screen drains the bridge, applies the batch to the `Board` and repaints only what changed: the
rows or panes of the nodes that changed, the phase bar when progress moved, the log's new lines.
Drains are spaced so that the UI thread spends about `DRAIN_BUDGET` of a core at most: the next one
comes after the CPU time the thread spends per drain (the drain, the frame it causes, whatever else
ran; averaged over the last few), divided by the budget, within [`MIN_INTERVAL`, `MAX_INTERVAL`].
A quiet rollout is shown within 1/30 s; a flood of output is coalesced into fewer, larger batches
instead of saturating the loop.

Once the run has started (`Rollout.ready`), the rollout takes pause, unpause, abort and the answers to held
failures (the engine holds a failed node for the operator: retry the step, skip the node where the
plan allows it, or give up); all are thread-safe and take effect before the next action. Quitting
mid-rollout can detach: the engine stops starting actions, and once the running commands end,
`khatui resume` takes the rollout over in a background process (what `apply --detach` does), which
`khatui attach` follows.
"""

from __future__ import annotations

import time
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
from khatui.events import FailureResolved, NodeFailed, OutputLine, RolloutFinished
from khatui.rollout.progress import Board, Clock
from khatui.tui.bridge import EventBridge
from khatui.tui.screens.base import width_class
from khatui.tui.screens.dialogs import ConfirmDialog
from khatui.tui.widgets.keybar import KeyBar
from khatui.tui.widgets.node_table import NodeTable
from khatui.tui.widgets.output_log import OutputLog
from khatui.tui.widgets.rollout_parts import FailurePanel, NodePane, PhaseBar, shown_failure

if TYPE_CHECKING:
    from khatui.rollout.rollout import Rollout, RolloutResult

TABLE_FROM = 50
"""From this many nodes the panes collapse into the table."""
DRAIN_BUDGET = 0.22
"""Share of a core the UI thread may spend; drains are spaced to stay within it. Set for issue 7's
flood (200 nodes x 20 lines/s): with the engine's threads the process stays under 30% of a core
while lines reach the screen within 100 ms at p95 (benchmarks/README.md, bench_tui)."""
MIN_INTERVAL, MAX_INTERVAL = 1 / 30, 0.2
"""Bounds of the seconds between two drains (the upper one was the fixed pacing before)."""


class RolloutScreen(Screen[None]):
    """The live view of one rollout."""

    ABOUT: ClassVar[str] = (
        "A pane (from 50 nodes a row) per node: arrows or tab pick one, its output shows below and f "
        "(or enter) shows it full screen, esc goes back. A failed step holds its node while the others "
        "go on: r retries, x skips the node where the plan allows it, g gives up on it. The journal "
        "keeps every finished step: after an abort or a failure, `khatui resume ID` continues; ctrl+q "
        "asks whether to abort or hand the rollout over to a background process."
    )

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f,enter", "full_log", "Full log"),
        Binding("escape", "close_log", "Back to nodes", show=False),
        Binding("p", "pause", "Pause/resume"),
        Binding("r", "decide('retry')", "Retry step"),
        Binding("x", "decide('skip')", "Skip node"),
        Binding("g", "decide('give-up')", "Give up node"),
        Binding("a", "abort", "Abort"),
        Binding("ctrl+b", "back", "Back", show=False),
    ]

    def __init__(
        self,
        rollout: Rollout,
        clock: Clock = time.monotonic,
        interval: float | None = None,
        table_from: int = TABLE_FROM,
    ) -> None:
        super().__init__(name="rollout", classes=width_class(self.app.size.width))
        self.rollout = rollout
        """Recorded in the journal and planned, its nodes' sessions open; the screen runs it."""
        assert rollout.record is not None and rollout.plan is not None
        self.record = rollout.record
        self.fixed_interval = interval
        """Seconds between drains when given; else they follow `DRAIN_BUDGET`."""
        self.interval = interval or MIN_INTERVAL
        """Seconds from one drain to the next."""
        self.board = Board(rollout.plan, clock)
        self.bridge = EventBridge(self)
        self.result: RolloutResult | None = None
        self.selected: str | None = next(iter(self.board.nodes), None)
        self.tabular = len(self.board.nodes) >= table_from
        self.quit_when_done = False
        self.detach_when_done = False
        self._written = 0
        self._last_drain = 0.0
        self._drain_cpu = time.thread_time()
        self._drain_cost = 0.0
        self._repainted: set[str] = set()
        """Nodes a drain repainted since the last tick."""
        self._drain_timer: Timer | None = None
        self.panes: dict[str, NodePane] = {}
        """Node -> its pane (none from `table_from` nodes): a drain repaints the changed ones."""

    # -- layout -------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield PhaseBar(self.board, id="phase")
        if self.tabular:
            yield NodeTable(self.board, id="nodes")
        else:
            with VerticalScroll(id="nodes"), Grid(id="panes"):
                for name in self.board.nodes:
                    self.panes[name] = NodePane(self.board, name)
                    yield self.panes[name]
        yield FailurePanel(id="failure")
        yield Static("", id="log-title")
        yield OutputLog(id="log")
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
        return self.rollout.execute(self.bridge, hold_failures=True)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.name != "rollout" or not event.worker.is_finished:
            return
        if event.state is WorkerState.SUCCESS:
            self.result = event.worker.result
        else:
            error = event.worker.error
            message = error.message if isinstance(error, KhatuiError) else f"{type(error).__name__}: {error}"
            from khatui.rollout.rollout import RolloutResult

            self.result = RolloutResult(self.record.id, False, summary=f"the rollout stopped: {message}")
            self.notify(message, title="Rollout stopped", severity="error", timeout=30)
        self.drain()
        if self.detach_when_done:
            self.hand_over()
        elif self.quit_when_done:
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
        self._last_drain, cpu = time.monotonic(), time.thread_time()
        if self.fixed_interval is None:
            self._drain_cost += (cpu - self._drain_cpu - self._drain_cost) / 4
            self.interval = min(MAX_INTERVAL, max(MIN_INTERVAL, self._drain_cost / DRAIN_BUDGET))
        self._drain_cpu = cpu
        events = self.bridge.drain()
        if not events:
            return
        changed = self.board.apply(events)
        self._repainted |= changed
        if not all(isinstance(e, OutputLine) for e in events):
            self.query_one(PhaseBar).refresh()
        if self.tabular:
            table = self.query_one(NodeTable)
            if table.sort_key == "name":
                table.refresh_nodes(changed)
            else:
                table.resort()
        else:
            for name in changed & self.panes.keys():  # a node outside the plan has no pane
                self.panes[name].sync()
        if self.selected in changed:
            self.append_log()
        shown = shown_failure(self.board)
        if shown is not None and any(isinstance(e, NodeFailed) for e in events):
            self.select(shown.node)  # the failed node's log, where r/x/g act
        if any(isinstance(e, NodeFailed | FailureResolved | RolloutFinished) for e in events):
            self.query_one(FailurePanel).show_board(self.board)
            self.refresh_bindings()
        finished = next((e for e in events if isinstance(e, RolloutFinished)), None)
        if finished is not None:
            self.notify(
                finished.summary.splitlines()[0], severity="information" if finished.ok else "error", timeout=15
            )

    def tick(self) -> None:
        """Once a second: elapsed times move on (nodes a drain repainted meanwhile already show it)."""
        if self.board.finished is not None:
            return
        moving = {name for name, node in self.board.nodes.items() if node.started is not None and node.ended is None}
        stale, self._repainted = moving - self._repainted, set()
        if self.tabular:
            self.query_one(NodeTable).refresh_nodes(stale)
        else:
            for name in stale & self.panes.keys():
                self.panes[name].sync()

    # -- the detail pane ----------------------------------------------------------------------------
    def show_log(self, node: str | None) -> None:
        """Show the whole output of `node` so far, then follow it."""
        self.selected = node
        log = self.query_one("#log", Log)
        log.clear()
        self._written = 0
        self.show_log_title()
        self.append_log()

    def show_log_title(self) -> None:
        title = Text(f"output of {self.selected}" if self.selected else "no node", "bold")
        title.append("  (f/esc: back to the nodes)" if self.has_class("-full-log") else "  (f: full screen)", "dim")
        self.query_one("#log-title", Static).update(title)

    def append_log(self) -> None:
        if self.selected is None:
            return
        lines = self.board.nodes[self.selected].lines
        if len(lines) > self._written:
            self.query_one("#log", Log).write_lines(lines[self._written :])
            self._written = len(lines)

    def select(self, node: str) -> None:
        """Show `node`'s log and put the cursor on it (its pane, its row); kept while the log is full."""
        if node != self.selected:
            self.show_log(node)
        if self.has_class("-full-log"):
            return
        if self.tabular:
            table = self.query_one(NodeTable)
            if node in table.order:
                table.cursor = table.order.index(node)
            table.focus()
        else:
            pane = next((p for p in self.query(NodePane) if p.node == node), None)
            if pane is not None:
                pane.focus(scroll_visible=False)
                self.call_after_refresh(pane.scroll_visible, animate=False)  # once the failure panel took its room

    @on(events.DescendantFocus)
    def _focused(self, event: events.DescendantFocus) -> None:
        widget = event.widget
        if isinstance(widget, NodePane) and widget.node != self.selected and not self.has_class("-full-log"):
            self.show_log(widget.node)

    @on(NodeTable.Highlighted)
    def _highlighted(self, event: NodeTable.Highlighted) -> None:
        if event.node != self.selected and not self.has_class("-full-log"):
            self.show_log(event.node)

    # -- keys -----------------------------------------------------------------------------------------
    def action_full_log(self) -> None:
        """The selected node's log over the whole screen (the log takes the focus: arrows scroll it)."""
        if self.has_class("-full-log"):
            self.action_close_log()
            return
        self.query_one("#log", Log).focus()
        self.add_class("-full-log")
        self.show_log_title()

    def action_close_log(self) -> None:
        """Back to the nodes, the cursor on the node whose log was shown."""
        if not self.has_class("-full-log"):
            return
        self.remove_class("-full-log")
        self.show_log_title()
        if self.selected is not None:
            self.select(self.selected)

    def action_pause(self) -> None:
        if not self.rollout.ready.is_set() or not self.running:
            self.notify("no rollout is running", severity="warning")
            return
        self.board.paused = not self.board.paused
        if self.board.paused:
            self.rollout.pause()
            self.notify("paused: no new action starts (running commands finish); p resumes")
        else:
            self.rollout.unpause()
            self.notify("resumed")
        self.query_one(PhaseBar).refresh()

    def action_abort(self) -> None:
        if not self.rollout.ready.is_set() or not self.running:
            self.notify("no rollout is running", severity="warning")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.rollout.abort()
                self.notify("aborting: running commands finish, no new step starts")

        body = (
            "No new step starts; commands already running finish. The journal keeps every finished "
            f"step: `khatui resume {self.record.id}` continues later."
        )
        self.app.push_screen(ConfirmDialog("Abort the rollout?", body, yes="Abort", no="Keep going"), answered)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Retry, skip and give up are shown only while a failure waits for an answer."""
        if action == "decide":
            return bool(self.board.held)
        return True

    def action_decide(self, answer: str) -> None:
        """Answer a held failure: the selected node's, else the first one waiting."""
        held = {f.node: f for f in self.board.held}
        if not self.rollout.ready.is_set() or not held:
            self.notify("no failure is waiting for a decision", severity="warning")
            return
        node = self.selected if self.selected in held else next(iter(held))
        refused = self.rollout.decide(node, answer)
        if refused:
            self.notify(refused, severity="warning", timeout=10)
            return
        done = {"retry": "running the step again", "skip": "left out; resume rolls it out later", "give-up": "failed"}
        self.notify(f"{node}: {done[answer]}")

    def detach_and_quit(self) -> None:
        """Hand the rollout to a background process and quit: no new action starts here; once the
        running commands are done, `khatui resume` continues it in its own session."""
        self.detach_when_done = True
        self.rollout.abort()
        self.notify("handing over: khatui quits when the running commands have finished", timeout=30)

    def hand_over(self) -> None:
        """Start the background run and quit, saying how to follow it."""
        record = self.record
        try:
            pid = self.rollout.hand_over()
        except KhatuiError as exc:
            self.notify(exc.message, title="Not handed over", severity="error", timeout=30)
            return
        message = f"rollout {record.id} continues in the background (pid {pid}); follow it: khatui attach {record.id}"
        self.app.exit(0, return_code=0, message=message)

    def abort_and_quit(self) -> None:
        """Abort, and quit once the engine has stopped."""
        self.quit_when_done = True
        self.rollout.abort()
        self.notify("aborting; khatui quits when the running commands have finished", timeout=30)

    def action_back(self) -> None:
        if self.running:
            self.notify("the rollout is running: abort it (a) first", severity="warning")
            return
        self.dismiss(None)
