"""The typed stream of rollout events that every view (headless rich, TUI, journal) consumes.

Events are small frozen dataclasses emitted from the engine's worker threads through one
callable (`EventSink`); consumers must be thread-safe or hand events to their own thread (the TUI
posts them as messages, the headless view puts them on a queue). Output is redacted before it
becomes an event, so no consumer ever sees a secret.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class StepState(StrEnum):
    """Where a step stands."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True)
class RolloutStarted:
    rollout_id: str
    cluster: str
    nodes: tuple[str, ...]
    steps: int
    log_path: str


@dataclass(frozen=True)
class PhaseStarted:
    phase: str
    title: str
    nodes: tuple[str, ...]


@dataclass(frozen=True)
class StepStarted:
    node: str
    step_id: str
    title: str
    attempt: int = 1


@dataclass(frozen=True)
class OutputLine:
    node: str
    step_id: str
    line: str
    stream: str = "stdout"


@dataclass(frozen=True)
class StepFinished:
    node: str
    step_id: str
    state: StepState
    detail: str = ""
    exit_code: int | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class NodeFailed:
    """A node stopped: its later steps are skipped; nodes that do not depend on it go on."""

    node: str
    step_id: str
    command: str
    exit_code: int | None
    reason: str
    last_lines: tuple[str, ...]
    held: bool = False
    """The engine holds the node for the operator's decision: retry the step, skip the node, or give up."""


@dataclass(frozen=True)
class FailureResolved:
    """The operator answered a held failure: `retry` runs the step again, `skip` leaves the node out."""

    node: str
    step_id: str
    decision: str


@dataclass(frozen=True)
class PhaseFinished:
    phase: str
    ok: bool
    blocked: bool = False
    """True when the phase never ran because a phase it requires failed."""


@dataclass(frozen=True)
class RolloutFinished:
    rollout_id: str
    ok: bool
    summary: str
    log_path: str


Event = (
    RolloutStarted
    | PhaseStarted
    | StepStarted
    | OutputLine
    | StepFinished
    | NodeFailed
    | FailureResolved
    | PhaseFinished
    | RolloutFinished
)
EventSink = Callable[[Event], None]
