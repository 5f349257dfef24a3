"""The headless rollout view: a live per-node table on a terminal, plain lines otherwise.

The engine calls `ProgressView.__call__` from its worker threads; the view only stores state under a
lock, and rich's `Live` redraws it a few times a second from its own thread, so output bursts from
hundreds of nodes never slow the engine. Without a terminal (CI, a pipe, `--detach` logs) each step
start, end and failure is one plain line instead.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field

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
    RolloutStarted,
    StepFinished,
    StepStarted,
    StepState,
)

STATE_STYLE = {"running": "yellow", "done": "green", "failed": "bold red", "skipped": "dim", "waiting": "dim"}


@dataclass
class NodeRow:
    """What the table shows for one node."""

    state: str = "waiting"
    step: str = ""
    started: float = 0.0
    done_steps: int = 0
    last_line: str = ""
    lines: deque[str] = field(default_factory=lambda: deque(maxlen=5))


class ProgressView:
    """An event sink that draws the rollout; use as a context manager around the run."""

    def __init__(self, console: Console | None = None, verbose: bool = False) -> None:
        self.console = console or Console(stderr=True)
        self.verbose = verbose
        self.rows: dict[str, NodeRow] = {}
        self.phase = ""
        self.total_steps = 0
        self.finished_steps = 0
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
            self._apply(event)
        if self._live is None:
            self._plain(event)

    def _apply(self, event: Event) -> None:
        if isinstance(event, RolloutStarted):
            self.rows = {node: NodeRow() for node in event.nodes}
            self.total_steps = event.steps
        elif isinstance(event, PhaseStarted):
            self.phase = event.title
        elif isinstance(event, StepStarted):
            row = self.rows.setdefault(event.node, NodeRow())
            row.state, row.step, row.started = "running", event.title, time.monotonic()
        elif isinstance(event, OutputLine):
            row = self.rows.setdefault(event.node, NodeRow())
            row.last_line = event.line
            row.lines.append(event.line)
        elif isinstance(event, StepFinished):
            self.finished_steps += 1
            row = self.rows.setdefault(event.node, NodeRow())
            if event.state is StepState.FAILED:
                row.state = "failed"
            elif row.state != "failed":
                row.done_steps += event.state is StepState.DONE
                row.state = "waiting"

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
            table = Table(expand=True, title=Text(self.phase), title_justify="left", show_edge=False)
            table.add_column("node", no_wrap=True)
            table.add_column("state", no_wrap=True)
            table.add_column("step")
            table.add_column("done", justify="right")
            table.add_column("elapsed", justify="right")
            table.add_column("last output", overflow="ellipsis", no_wrap=True, ratio=2)
            now = time.monotonic()
            for node, row in self.rows.items():
                elapsed = f"{now - row.started:.0f}s" if row.state == "running" else ""
                table.add_row(
                    Text(node),
                    Text(row.state, STATE_STYLE.get(row.state, "")),
                    Text(row.step),
                    str(row.done_steps),
                    elapsed,
                    Text(row.last_line),
                )
            footer = Text(f"{self.finished_steps}/{self.total_steps} steps", "bold")
            return Group(table, footer)
