"""The headless rollout view: a live per-node table on a terminal, plain lines otherwise.

The engine calls `ProgressView.__call__` from its worker threads; the view only applies the event
to its `Board` (the projection the TUI draws from too) under a lock, and rich's `Live` redraws it a
few times a second from its own thread, so output bursts from hundreds of nodes never slow the
engine. Without a terminal (CI, a pipe, `--detach` logs) each step start, end and failure is one
plain line instead.
"""

from __future__ import annotations

import threading
import time

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from khatui.events import Event, NodeFailed, OutputLine, RolloutFinished, StepFinished, StepState, describe
from khatui.plan.model import Plan
from khatui.rollout.progress import RUNNING, Board

STATE_STYLE = {"running": "yellow", "done": "green", "failed": "bold red", "skipped": "dim", "waiting": "dim"}


class ProgressView:
    """An event sink that draws the rollout; use as a context manager around the run."""

    def __init__(self, console: Console | None = None, verbose: bool = False, plan: Plan | None = None) -> None:
        """`plan`: the plan being run, so each node's step count is known and a finished node shows done."""
        self.console = console or Console(stderr=True)
        self.verbose = verbose
        self.board = Board(plan)
        """What the table shows: the same projection of the events as the TUI's."""
        self._lock = threading.Lock()
        self._live: Live | None = None

    @property
    def is_live(self) -> bool:
        """True when drawing a live table (a terminal), False when printing plain lines."""
        return self._live is not None

    def __enter__(self) -> ProgressView:
        if self.console.is_terminal:
            self._live = Live(self, console=self.console, refresh_per_second=4, transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)

    def __call__(self, event: Event) -> None:
        with self._lock:
            self.board.apply((event,))
        if self._live is None:
            self._plain(event)

    def _plain(self, event: Event) -> None:
        """One line per event (the rollout log's wording), skipped steps and output only with --verbose."""
        quiet = isinstance(event, OutputLine) or (isinstance(event, StepFinished) and event.state is StepState.SKIPPED)
        if quiet and not self.verbose:
            return
        style = ""
        if isinstance(event, NodeFailed):
            style = "bold red"
        elif isinstance(event, RolloutFinished):
            style = "green" if event.ok else "red"
        stamp = time.strftime("%H:%M:%S")  # every line carries node-given text: printed without markup
        self.console.print(f"{stamp} {describe(event)}", style=style, highlight=False, markup=False)

    def __rich__(self) -> RenderableType:
        with self._lock:
            board = self.board
            phase = board.current_phase
            table = Table(expand=True, title=Text(phase.title if phase else ""), title_justify="left", show_edge=False)
            table.add_column("node", no_wrap=True)
            table.add_column("state", no_wrap=True)
            table.add_column("step")
            table.add_column("done", justify="right")  # up-to-date (skipped) steps count: they need nothing
            table.add_column("ran", justify="right")
            table.add_column("elapsed", justify="right")
            table.add_column("last output", overflow="ellipsis", no_wrap=True, ratio=2)
            now = board.clock()
            for name, node in board.nodes.items():
                running = node.state == RUNNING and node.step_started is not None
                table.add_row(
                    Text(name),
                    Text(node.state, STATE_STYLE.get(node.state, "")),
                    Text(node.step),
                    f"{node.done}/{node.total}" if node.total else str(node.done),
                    str(node.ran),
                    f"{now - (node.step_started or now):.0f}s" if running else "",
                    Text(node.lines[-1] if node.lines else ""),
                )
            footer = Text(f"{board.finished_steps}/{board.total_steps} steps", "bold")
            return Group(table, footer)
