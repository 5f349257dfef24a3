"""The one projection of rollout events into per-node state, read by every view of a rollout.

The TUI's rollout screen and the headless live table (`khatui.views.progress`) both apply events
to a `Board` and draw from it, so they can never disagree about a node. Kept apart from any
widget so a view can be driven (and measured) by any event stream and so a repaint reads ready
values instead of recomputing them. Each node keeps its full output for the detail pane (nothing
is dropped: the engine's log file has the same lines), plus counters. Time comes from an injected
clock so snapshots and tests are deterministic.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from khatui.events import (
    Event,
    FailureResolved,
    NodeFailed,
    Outcome,
    OutputLine,
    PhaseFinished,
    PhaseStarted,
    RolloutFinished,
    RolloutStarted,
    StepFinished,
    StepStarted,
    StepState,
)
from khatui.plan.model import Plan

Clock = Callable[[], float]

WAITING, RUNNING, DONE, FAILED, SKIPPED = "waiting", "running", "done", "failed", "skipped"
STATE_ORDER = {FAILED: 0, RUNNING: 1, WAITING: 2, SKIPPED: 3, DONE: 4}


@dataclass
class NodeBoard:
    """One node's progress."""

    name: str
    total: int = 0
    """Steps this node has in the plan (0: unknown)."""
    state: str = WAITING
    step: str = ""
    """Title of the running (or last) step."""
    done: int = 0
    """Steps finished (done or skipped)."""
    started: float | None = None
    step_started: float | None = None
    """When the running (or last) step started."""
    ran: int = 0
    """Steps that ran to the end (done, not skipped)."""
    left_out: int = 0
    """Steps not run because the node or a phase it needs stopped (not up to date ones)."""
    ended: float | None = None
    lines: list[str] = field(default_factory=list)
    """Every output line, in order."""
    failure: NodeFailed | None = None

    def elapsed(self, now: float) -> float:
        """Seconds since the node's first step started (frozen when it ended)."""
        if self.started is None:
            return 0.0
        return (self.ended if self.ended is not None else now) - self.started

    @property
    def fraction(self) -> float:
        """Share of the node's steps finished."""
        return self.done / self.total if self.total else 0.0


@dataclass
class PhaseBoard:
    """One phase of the plan."""

    name: str
    title: str
    state: str = WAITING


class Board:
    """The whole rollout."""

    def __init__(self, plan: Plan | None = None, clock: Clock = time.monotonic) -> None:
        self.clock = clock
        self.nodes: dict[str, NodeBoard] = {}
        self.phases: list[PhaseBoard] = []
        self.rollout_id = ""
        self.log_path = ""
        self.total_steps = 0
        self.finished_steps = 0
        self.finished: RolloutFinished | None = None
        self.failures: list[NodeFailed] = []
        self.paused = False
        self.started_at: float | None = None
        """When the rollout started (the clock's time), and when it ended."""
        self.ended_at: float | None = None
        self.essential: dict[str, str] = dict(plan.essential) if plan is not None else {}
        """Nodes that cannot be skipped after a failure -> why."""
        if plan is not None:
            self.total_steps = len(plan.steps())
            self.phases = [PhaseBoard(phase.name, phase.title) for phase in plan.phases]
            for step in plan.steps():
                self.nodes.setdefault(step.node, NodeBoard(step.node)).total += 1

    @property
    def outcome(self) -> Outcome:
        """How the rollout stands: running until it finished, then how it ended."""
        return self.finished.state if self.finished else Outcome.RUNNING

    def duration(self) -> float:
        """Seconds since the rollout started (frozen when it ended); 0 before it started."""
        if self.started_at is None:
            return 0.0
        return (self.ended_at if self.ended_at is not None else self.clock()) - self.started_at

    @property
    def current_phase(self) -> PhaseBoard | None:
        """The running phase, else the last one that ran."""
        running = [p for p in self.phases if p.state == RUNNING]
        if running:
            return running[-1]
        ran = [p for p in self.phases if p.state != WAITING]
        return ran[-1] if ran else None

    def node(self, name: str) -> NodeBoard:
        """The board of `name` (created on first sight)."""
        found = self.nodes.get(name)
        if found is None:
            found = self.nodes[name] = NodeBoard(name)
        return found

    def apply(self, events: Iterable[Event]) -> set[str]:
        """Apply a batch of events; returns the names of the nodes that changed."""
        changed: set[str] = set()
        now = self.clock()
        for event in events:
            if isinstance(event, OutputLine):
                self.node(event.node).lines.append(event.line)
                changed.add(event.node)
            elif isinstance(event, StepStarted):
                node = self.node(event.node)
                node.state, node.step, node.step_started = RUNNING, event.title, now
                if node.started is None:
                    node.started = now
                changed.add(event.node)
            elif isinstance(event, StepFinished):
                self._step_finished(event, now)
                changed.add(event.node)
            elif isinstance(event, NodeFailed):
                node = self.node(event.node)
                node.state, node.failure, node.ended = FAILED, event, now
                self.failures.append(event)
                changed.add(event.node)
            elif isinstance(event, FailureResolved):
                self._resolved(event)
                changed.add(event.node)
            else:
                changed |= self._rollout_event(event, now)
        return changed

    @property
    def held(self) -> list[NodeFailed]:
        """Failures waiting for the operator (retry, skip the node, give up)."""
        return [f for f in self.failures if f.held]

    def _resolved(self, event: FailureResolved) -> None:
        """A held failure was answered: its failed step no longer counts; the node runs on, or is left out."""
        node = self.node(event.node)
        failure = node.failure
        if failure is not None and failure in self.failures:
            self.failures.remove(failure)
        if event.decision == "give-up" and failure is not None:
            node.failure = replace(failure, held=False)
            self.failures.append(node.failure)
            return
        node.done -= 1
        self.finished_steps -= 1
        node.failure, node.ended = None, None
        node.state = SKIPPED if event.decision == "skip" else RUNNING

    def _step_finished(self, event: StepFinished, now: float) -> None:
        self.finished_steps += 1
        node = self.node(event.node)
        node.done += 1
        node.ran += event.state is StepState.DONE
        node.left_out += event.left_out
        if event.state is StepState.FAILED:
            node.state = FAILED
        elif node.state == SKIPPED:
            node.ended = now
        elif node.state != FAILED:
            complete = node.total and node.done >= node.total and not node.left_out
            node.state = DONE if complete else WAITING
        if node.state in (DONE, FAILED) and node.started is not None:
            node.ended = now

    def _rollout_event(self, event: Event, now: float) -> set[str]:
        if isinstance(event, RolloutStarted):
            self.rollout_id, self.log_path = event.rollout_id, event.log_path
            self.total_steps, self.started_at, self.ended_at = event.steps, now, None
            for name in event.nodes:
                self.node(name)
        elif isinstance(event, PhaseStarted):
            phase = self._phase(event.phase, event.title)
            phase.state = RUNNING
        elif isinstance(event, PhaseFinished):
            self._phase(event.phase, event.phase).state = DONE if event.ok else FAILED
        elif isinstance(event, RolloutFinished):
            self.finished, self.ended_at = event, now
            self.paused = False
            for node in self.nodes.values():  # a node that ran all it had is done, even if its total was unknown
                if node.state in (RUNNING, WAITING):
                    node.state = DONE if event.ok and not node.left_out else WAITING
                    if node.state == DONE and node.started is not None:
                        node.ended = now
            return set(self.nodes)
        return set()

    def _phase(self, name: str, title: str) -> PhaseBoard:
        for phase in self.phases:
            if phase.name == name:
                return phase
        phase = PhaseBoard(name, title)
        self.phases.append(phase)
        return phase

    def sorted_names(self, key: str) -> list[str]:
        """Node names ordered by `key`: name, state (failures first), progress or elapsed."""
        now = self.clock()
        nodes = list(self.nodes.values())
        if key == "state":
            nodes.sort(key=lambda n: (STATE_ORDER.get(n.state, 9), n.name))
        elif key == "progress":
            nodes.sort(key=lambda n: (n.fraction, n.name))
        elif key == "elapsed":
            nodes.sort(key=lambda n: (-n.elapsed(now), n.name))
        else:
            nodes.sort(key=lambda n: n.name)
        return [n.name for n in nodes]


def format_elapsed(seconds: float) -> str:
    """'0:42', '12:05', '1:02:03'."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
