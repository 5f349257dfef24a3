"""Executes a plan: phases in order with barriers, nodes in parallel, steps in order per node.

Why this shape: fabric's ThreadingGroup joins every host before returning anything, so there would
be no live progress; here each node has its own worker on a bounded pool and every line of output
becomes an event at once. A failed node stops its own later steps and the phases that require the
failed phase, never unrelated nodes mid-phase. An interactive view may instead have failures held:
the failed node's worker waits for the operator to retry the step, skip the node (unless the plan
names it essential) or give up, while the other nodes go on. Every step execution is journaled
before it starts and after it ends, so a process killed at any point leaves a journal that
`resume` can continue.

The executor talks to each node through a `Transport` only (SSH in production, a scripted fake in
tests); the rollout lock (`rollout_lock`), the reconnect and WaitFor loops (`retry`) and held
failures (`holds`) are modules of their own, so this one keeps the order of things.
"""

from __future__ import annotations

import io
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from khatui.engine import rollout_lock
from khatui.engine.conclusion import conclude
from khatui.engine.holds import HoldDecision, Holds
from khatui.engine.retry import StepFailed, reconnecting, wait_until_ready
from khatui.engine.transfer import transfer
from khatui.engine.transport import ConnectionLost, Transport
from khatui.errors import KhatuiError
from khatui.events import (
    Event,
    EventSink,
    FailureResolved,
    NodeFailed,
    OutputLine,
    PhaseFinished,
    PhaseStarted,
    RolloutFinished,
    RolloutStarted,
    StepFinished,
    StepStarted,
    StepState,
    describe,
)
from khatui.journal import Journal, RolloutRecord, StepRecord
from khatui.localfs import PRIVATE_DIR, Folder
from khatui.plan.model import Action, Phase, Plan, Run, Step, Transfer, Upload
from khatui.redact import Redactor

TAIL_LINES = 20


@dataclass(frozen=True)
class EngineOptions:
    """How a rollout is executed."""

    concurrency: int = 100
    """Nodes worked on at once (threads; each mostly waits on its SSH connection)."""
    retries: int = 3
    """Reconnect attempts after a lost connection, per action."""
    backoff: float = 1.0
    """First wait before a reconnect; doubled each time."""


@dataclass
class _Progress:
    """What went wrong so far in one run: it decides which later phases and nodes are left out."""

    failures: list[NodeFailed] = field(default_factory=list)
    failed_nodes: set[str] = field(default_factory=set)
    failed_phases: set[str] = field(default_factory=set)

    def fail(self, failure: NodeFailed) -> None:
        self.failures.append(failure)
        self.failed_nodes.add(failure.node)


@dataclass
class RolloutResult:
    """How a rollout ended."""

    rollout_id: str
    ok: bool
    failures: list[NodeFailed] = field(default_factory=list)
    aborted: bool = False
    summary: str = ""
    skipped: list[str] = field(default_factory=list)
    """Nodes the operator left out after a failure; `resume` rolls them out later."""


class Executor:
    """Runs one plan for one journaled rollout."""

    def __init__(
        self,
        plan: Plan,
        transports: Callable[[str], Transport],
        sink: EventSink,
        journal: Journal,
        rollout: RolloutRecord,
        options: EngineOptions = EngineOptions(),
        redactor: Redactor | None = None,
        hold_failures: bool = False,
    ) -> None:
        """`transports`: the connection to each node by name; `hold_failures`: a failed step waits for
        `decide` (an interactive view) instead of failing its node."""
        self.plan = plan
        self.transports = transports
        self.journal = journal
        self.rollout = rollout
        self.options = options
        self.redact = redactor or Redactor(plan.secrets)
        self._sink = sink
        self._log_lock = threading.Lock()
        log = Path(rollout.log_path)
        with Folder.open(log.parent, create=True, mode=PRIVATE_DIR) as folder:
            self._log = io.TextIOWrapper(folder.append(log.name), encoding="utf-8")
        self._abort = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self.previous: dict[str, StepRecord] = journal.steps(rollout.id)
        self._tails: dict[str, deque[str]] = {}
        self.hold_failures = hold_failures
        self._holds = Holds(self._abort)
        self.skipped: list[str] = []

    # -- control, callable from any thread ------------------------------------------------
    def abort(self) -> None:
        """Stop starting new actions; running commands finish, held failures give up, the rollout ends as aborted."""
        self._abort.set()
        self._running.set()
        self._holds.give_up_all()

    def pause(self) -> None:
        """Hold before the next action on every node."""
        self._running.clear()

    def unpause(self) -> None:
        """Continue after `pause`."""
        self._running.set()

    def decide(self, node: str, decision: HoldDecision) -> str | None:
        """Answer `node`'s held failure; returns why not (nothing held there, or the node cannot be skipped)."""
        if decision is HoldDecision.SKIP and node in self.plan.essential:
            return f"{node} cannot be skipped: {self.plan.essential[node]}"
        if not self._holds.answer(node, decision):
            return f"no failure of {node} is waiting for a decision"
        return None

    # -- the run ------------------------------------------------------------------------------
    def run(self) -> RolloutResult:
        """Execute every phase; returns when the rollout is finished, failed or aborted."""
        nodes = self._nodes()
        with self._log_lock:  # what the operator must know heads the log (as it heads every preview)
            self._log.writelines(f"{time.strftime('%H:%M:%S')} note: {self.redact(n)}\n" for n in self.plan.notes)
        self._emit(
            RolloutStarted(
                self.rollout.id, self.plan.cluster, tuple(nodes), len(self.plan.steps()), self.rollout.log_path
            )
        )
        progress = _Progress()
        try:
            with ThreadPoolExecutor(
                max_workers=max(1, self.options.concurrency), thread_name_prefix="khatui-node"
            ) as pool:
                locked = self._lock(pool, nodes, progress)
                for phase in self.plan.phases:
                    self._run_phase(pool, phase, progress)
                list(pool.map(lambda node: rollout_lock.release(self.transports(node)), locked))
        finally:
            result = self._conclude(progress.failures)
            self._log.close()
        return result

    def _lock(self, pool: ThreadPoolExecutor, nodes: list[str], progress: _Progress) -> list[str]:
        """Take every node's rollout lock at once; returns the nodes locked, the others have failed."""
        options = self.options

        def take(node: str) -> NodeFailed | None:
            return rollout_lock.take(self.transports(node), node, self.rollout.id, options.retries, options.backoff)

        locked = []
        for node, failure in zip(nodes, pool.map(take, nodes), strict=True):
            if failure is None:
                locked.append(node)
            else:
                progress.fail(failure)
                self._emit(failure)
        return locked

    def _run_phase(self, pool: ThreadPoolExecutor, phase: Phase, progress: _Progress) -> None:
        """One phase on all of its nodes at once, or none of it when a phase it requires failed."""
        blocked = [name for name in phase.requires if name in progress.failed_phases]
        if blocked or self._abort.is_set():
            self._skip_rest(phase.steps, "aborted" if self._abort.is_set() else f"blocked: phase {blocked[0]} failed")
            progress.failed_phases.add(phase.name)
            self._emit(PhaseFinished(phase.name, ok=False, blocked=True))
            return
        self._emit(PhaseStarted(phase.name, phase.title, tuple(phase.nodes())))
        by_node: dict[str, list[Step]] = {}
        for step in phase.steps:
            by_node.setdefault(step.node, []).append(step)
        # A node that failed earlier leaves its part of this phase undone: the phase is not ok.
        missing = set(by_node) & progress.failed_nodes
        futures = [
            pool.submit(self._run_node, node, steps, node in progress.failed_nodes or node in self.skipped)
            for node, steps in by_node.items()
        ]
        phase_failures = [f for f in (fut.result() for fut in futures) if f is not None]
        for failure in phase_failures:
            progress.fail(failure)
        ok = not phase_failures and not missing and not self._abort.is_set()
        if not ok:
            progress.failed_phases.add(phase.name)
        self._emit(PhaseFinished(phase.name, ok=ok))

    def _conclude(self, failures: list[NodeFailed]) -> RolloutResult:
        end = conclude(self.plan, self.rollout.id, self.rollout.log_path, failures, self._abort.is_set(), self.skipped)
        self.journal.set_rollout_state(self.rollout.id, end.state, end.failure_text)
        self._emit(RolloutFinished(self.rollout.id, end.ok, end.summary, self.rollout.log_path, end.state))
        return RolloutResult(self.rollout.id, end.ok, failures, self._abort.is_set(), end.summary, list(self.skipped))

    def _nodes(self) -> list[str]:
        return list(dict.fromkeys(step.node for step in self.plan.steps()))

    def _run_node(self, node: str, steps: list[Step], left_out: bool) -> NodeFailed | None:
        """One node's steps of a phase in order; a failed step ends them unless the operator retries it."""
        if left_out:
            skipped = node in self.skipped
            self._skip_rest(
                steps, f"node {node} skipped by the operator" if skipped else "node failed earlier in this rollout"
            )
            return None
        index, attempt = 0, 1
        while index < len(steps):
            step = steps[index]
            try:
                self._run_step(step, attempt)
            except StepFailed as exc:
                failure, decision = self._fail(step, exc)
                if decision is HoldDecision.GIVE_UP:
                    self._skip_rest(steps[index + 1 :], f"node {node} failed at {step.name}")
                    return replace(failure, held=False)
                if decision is HoldDecision.SKIP:
                    self.skipped.append(node)
                    self._skip_rest(steps[index:], f"node {node} skipped by the operator")
                    return None
                self._line(step, "stderr", f"khatui: running {step.name} again (attempt {attempt + 1})")
                attempt += 1
                continue
            index, attempt = index + 1, 1
        return None

    def _fail(self, step: Step, exc: StepFailed) -> tuple[NodeFailed, HoldDecision]:
        """Report the failed step; held, wait for the operator's decision, else give up."""
        tail = tuple(self._tails.get(step.id, ()))
        hold = self.hold_failures and not self._abort.is_set()
        failure = NodeFailed(
            step.node, step.id, self.redact(exc.command), exc.exit_code, self.redact(exc.reason), tail, hold
        )
        self._finish(step, StepState.FAILED, failure.reason, exc.exit_code)
        self._emit(failure)
        if not hold:
            return failure, HoldDecision.GIVE_UP
        decision = self._holds.wait(step.node)
        self._emit(FailureResolved(step.node, step.id, str(decision)))
        return failure, decision

    def _skip_rest(self, steps: Sequence[Step], reason: str) -> None:
        for step in steps:
            self._finish(step, StepState.SKIPPED, reason, left_out=True)

    def _run_step(self, step: Step, attempt: int = 1) -> None:
        if step.is_noop:
            self._finish(step, StepState.SKIPPED, step.noop_reason or "")
            return
        if self._done_earlier(step):
            self._finish(step, StepState.DONE, "done earlier in this rollout; still in place")
            return
        self._tails[step.id] = deque(maxlen=TAIL_LINES)
        self._emit(StepStarted(step.node, step.id, step.title, attempt))
        self.journal.set_step(self.rollout.id, step.id, step.phase, step.node, StepState.RUNNING)
        run_id = self.journal.start_run(self.rollout.id, step.id, attempt)
        started = time.monotonic()
        try:
            for action in step.actions:
                self._running.wait()
                if self._abort.is_set():
                    raise StepFailed(action.describe(), None, "aborted by the operator")
                self._with_retries(step, action)
        except StepFailed as exc:
            self.journal.end_run(run_id, "failed")
            raise exc from None
        self._finish(step, StepState.DONE, "", seconds=time.monotonic() - started, ended_run=(run_id, "done"))

    def _done_earlier(self, step: Step) -> bool:
        """A step recorded done (or in flight when the engine died) whose effect is still in place.

        With a check, the check decides. Without one, a step that uploads files is in the plan only
        because the node's files differ from the spec's (the planner turns matching ones into no-ops),
        so it runs again; a command-only step recorded done is trusted.
        """
        before = self.previous.get(step.id)
        if before is None or before.state not in (StepState.DONE, StepState.RUNNING):
            return False
        if step.check is None:
            uploads = any(isinstance(action, Upload) for action in step.actions)
            return before.state is StepState.DONE and not uploads
        try:
            return self.transports(step.node).run(step.check, timeout=60).exit_code == 0
        except KhatuiError:
            return False

    def _with_retries(self, step: Step, action: Action) -> None:
        def announce(lost: ConnectionLost, delay: float) -> None:
            self._line(step, "stderr", f"khatui: {lost.message}; reconnecting in {delay:.0f} s")

        try:
            reconnecting(lambda: self._act(step, action), self.options.retries, self.options.backoff, announce)
        except KhatuiError as exc:  # a connection lost for good, a host key refused, a file not installed
            raise StepFailed(action.describe(), None, exc.message) from None

    def _act(self, step: Step, action: Action) -> None:
        transport = self.transports(step.node)
        if isinstance(action, Upload):
            transport.upload(action.path, action.content, action.mode, action.owner)
            self._line(step, "stdout", f"khatui: wrote {action.path}")
        elif isinstance(action, Transfer):
            transfer(transport, action, step.node, lambda s, line: self._line(step, s, line))
        elif isinstance(action, Run):
            result = transport.run(action.command, lambda stream, line: self._line(step, stream, line), action.timeout)
            if result.exit_code != 0:
                raise StepFailed(action.command, result.exit_code, f"command exited with {result.exit_code}")
        else:
            wait_until_ready(transport, action, self._abort)

    # -- events, journal, log -----------------------------------------------------------------
    def _line(self, step: Step, stream: str, line: str) -> None:
        line = self.redact(line)
        self._tails.setdefault(step.id, deque(maxlen=TAIL_LINES)).append(line)
        self._emit(OutputLine(step.node, step.id, line, stream))

    def _finish(
        self,
        step: Step,
        state: StepState,
        detail: str,
        exit_code: int | None = None,
        seconds: float = 0.0,
        left_out: bool = False,
        ended_run: tuple[int, str] | None = None,
    ) -> None:
        tail = "\n".join(self._tails.get(step.id, ()))
        self.journal.set_step(
            self.rollout.id, step.id, step.phase, step.node, state, self.redact(detail), exit_code, tail, ended_run
        )
        self._emit(StepFinished(step.node, step.id, state, self.redact(detail), exit_code, seconds, left_out))

    def _emit(self, event: Event) -> None:
        with self._log_lock:
            if not self._log.closed:
                self._log.write(f"{time.strftime('%H:%M:%S')} {describe(event)}\n")
                self._log.flush()
        self._sink(event)


def log_dir(journal_path: Path) -> Path:
    """Where rollout logs live: beside the journal."""
    with Folder.open(journal_path.parent / "logs", create=True, mode=PRIVATE_DIR) as folder:
        return folder.path
