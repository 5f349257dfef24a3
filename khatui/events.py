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


class Outcome(StrEnum):
    """Where a rollout stands: the one word every view (CLI, TUI, journal) says for it."""

    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    ABORTED = "aborted"
    INCOMPLETE = "incomplete"
    """Finished without the nodes the operator skipped after a failure."""
    INTERRUPTED = "interrupted"
    """Recorded as running, but the process that ran it is gone (killed, crashed, machine rebooted)."""


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
    left_out: bool = False
    """Not run because its node or a phase it needs stopped (or the rollout was aborted), not because
    it was already up to date: the node is not done."""


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
    outcome: Outcome | None = None
    """How it ended (None: `done` when ok, else `failed`)."""

    @property
    def state(self) -> Outcome:
        """How the rollout ended, in the word every view uses."""
        return self.outcome or (Outcome.DONE if self.ok else Outcome.FAILED)


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


def describe(event: Event) -> str:
    """The event as one readable line (the rollout log, `attach`, the headless view without a terminal);
    a rollout's end is its summary, which may span lines."""
    if isinstance(event, OutputLine):
        return f"{event.node} {event.step_id} | {event.line}"
    if isinstance(event, StepStarted):
        return f"{event.node}: {event.title} ..." + (f" (attempt {event.attempt})" if event.attempt > 1 else "")
    if isinstance(event, StepFinished):
        took = f" in {event.seconds:.1f} s" if event.state is StepState.DONE and event.seconds else ""
        return f"{event.node}: {event.step_id} {event.state}{took}" + (f" ({event.detail})" if event.detail else "")
    if isinstance(event, NodeFailed):
        code = f" (exit code {event.exit_code})" if event.exit_code is not None else ""
        held = "; held: retry, skip the node or give up" if event.held else ""
        return f"{event.node}: FAILED at {event.step_id}: {event.reason}{code}; command: {event.command}{held}"
    if isinstance(event, FailureResolved):
        return f"{event.node}: {event.step_id}: the operator chose {event.decision}"
    if isinstance(event, PhaseStarted):
        return f"== {event.title} ({', '.join(event.nodes)})"
    if isinstance(event, PhaseFinished):
        if event.blocked:
            return f"== {event.phase} not started: a phase it needs failed"
        return f"== {event.phase} {'done' if event.ok else 'failed'}"
    if isinstance(event, RolloutStarted):
        return (
            f"rollout {event.rollout_id} of {event.cluster} started: {event.steps} steps on "
            f"{len(event.nodes)} nodes (log: {event.log_path})"
        )
    return event.summary
