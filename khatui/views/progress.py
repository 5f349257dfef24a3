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

from khatui.events import (
    Event,
    NodeFailed,
    OutputLine,
    PhaseFinished,
    PhaseStarted,
    RolloutFinished,
    StepFinished,
    StepStarted,
    StepState,
)
from khatui.rollout.progress import RUNNING, Board

STATE_STYLE = {"running": "yellow", "done": "green", "failed": "bold red", "skipped": "dim", "waiting": "dim"}


class ProgressView:
    """An event sink that draws the rollout; use as a context manager around the run."""

    def __init__(self, console: Console | None = None, verbose: bool = False) -> None:
        self.console = console or Console(stderr=True)
        self.verbose = verbose
        self.board = Board()
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
        stamp = time.strftime("%H:%M:%S")  # every line carries node-given text: printed without markup
        if isinstance(event, PhaseStarted):
            self.console.print(f"{stamp} == {event.title} ({', '.join(event.nodes)})", highlight=False, markup=False)
        elif isinstance(event, StepStarted):
            self.console.print(f"{stamp} {event.node}: {event.title} ...", highlight=False, markup=False)
        elif isinstance(event, StepFinished) and (event.state is not StepState.SKIPPED or self.verbose):
            extra = f" ({event.detail})" if event.detail else ""
            self.console.print(
                f"{stamp} {event.node}: {event.step_id} {event.state}{extra}", highlight=False, markup=False
            )
        elif isinstance(event, OutputLine) and self.verbose:
            self.console.print(f"{stamp} {event.node} | {event.line}", highlight=False, markup=False)
        elif isinstance(event, PhaseFinished) and event.blocked:
            self.console.print(
                f"{stamp} == {event.phase} not started: a phase it needs failed", highlight=False, markup=False
            )
        elif isinstance(event, NodeFailed):
            self.console.print(
                f"{stamp} {event.node}: FAILED at {event.step_id}: {event.reason}",
                style="bold red",
                highlight=False,
                markup=False,
            )
        elif isinstance(event, RolloutFinished):
            self.console.print(event.summary, style="green" if event.ok else "red", highlight=False, markup=False)

    def __rich__(self) -> RenderableType:
        with self._lock:
            board = self.board
            phase = board.current_phase
            table = Table(expand=True, title=Text(phase.title if phase else ""), title_justify="left", show_edge=False)
            table.add_column("node", no_wrap=True)
            table.add_column("state", no_wrap=True)
            table.add_column("step")
            table.add_column("done", justify="right")
            table.add_column("elapsed", justify="right")
            table.add_column("last output", overflow="ellipsis", no_wrap=True, ratio=2)
            now = board.clock()
            for name, node in board.nodes.items():
                running = node.state == RUNNING and node.step_started is not None
                table.add_row(
                    Text(name),
                    Text(node.state, STATE_STYLE.get(node.state, "")),
                    Text(node.step),
                    str(node.ran),
                    f"{now - (node.step_started or now):.0f}s" if running else "",
                    Text(node.lines[-1] if node.lines else ""),
                )
            footer = Text(f"{board.finished_steps}/{board.total_steps} steps", "bold")
            return Group(table, footer)
