"""Executes a plan: phases in order with barriers, nodes in parallel, steps in order per node.

Why this shape: fabric's ThreadingGroup joins every host before returning anything, so there would
be no live progress; here each node has its own worker on a bounded pool and every line of output
becomes an event at once. A failed node stops its own later steps and the phases that require the
failed phase, never unrelated nodes mid-phase. An interactive view may instead have failures held:
the failed node's worker waits for the operator to retry the step, skip the node (unless the plan
names it essential) or give up, while the other nodes go on. Every step execution is journaled
before it starts and after it ends, so a process killed at any point leaves a journal that
`resume` can continue.
"""

from __future__ import annotations

import contextlib
import io
import os
import shlex
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path

from khatui.engine.hostkeys import HostKeyError
from khatui.engine.redact import Redactor
from khatui.engine.ssh import ConnectionLost, Session
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
)
from khatui.journal import Journal, RolloutRecord, StepRecord
from khatui.localfs import PRIVATE_DIR, Folder
from khatui.plan.model import Action, Plan, Run, Step, Upload, WaitFor

TAIL_LINES = 20
LOCK_PARENT = "/var/lib/khatui"
LOCK_DIR = f"{LOCK_PARENT}/rollout.lock"


@dataclass(frozen=True)
class EngineOptions:
    """How a rollout is executed."""

    concurrency: int = 100
    """Nodes worked on at once (threads; each mostly waits on its SSH connection)."""
    retries: int = 3
    """Reconnect attempts after a lost connection, per action."""
    backoff: float = 1.0
    """First wait before a reconnect; doubled each time."""


class Decision(StrEnum):
    """The operator's answer to a held failure."""

    RETRY = "retry"
    SKIP = "skip"
    GIVE_UP = "give-up"


class StepFailed(Exception):
    """An action failed; carries what the failure summary shows."""

    def __init__(self, command: str, exit_code: int | None, reason: str) -> None:
        super().__init__(reason)
        self.command = command
        self.exit_code = exit_code
        self.reason = reason


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
        sessions: Callable[[str], Session],
        sink: EventSink,
        journal: Journal,
        rollout: RolloutRecord,
        options: EngineOptions = EngineOptions(),
        redactor: Redactor | None = None,
        hold_failures: bool = False,
    ) -> None:
        """`hold_failures`: a failed step waits for `decide` (an interactive view) instead of failing its node."""
        self.plan = plan
        self.sessions = sessions
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
        self._decisions_lock = threading.Lock()
        self._held: dict[str, tuple[threading.Event, list[Decision]]] = {}
        self.skipped: list[str] = []

    # -- control, callable from any thread ------------------------------------------------
    def abort(self) -> None:
        """Stop starting new actions; running commands finish, held failures give up, the rollout ends as aborted."""
        self._abort.set()
        self._running.set()
        with self._decisions_lock:
            held, self._held = self._held, {}
        for event, answer in held.values():
            answer.append(Decision.GIVE_UP)
            event.set()

    def pause(self) -> None:
        """Hold before the next action on every node."""
        self._running.clear()

    def unpause(self) -> None:
        """Continue after `pause`."""
        self._running.set()

    def decide(self, node: str, decision: Decision) -> str | None:
        """Answer `node`'s held failure; returns why not (nothing held there, or the node cannot be skipped)."""
        if decision is Decision.SKIP and node in self.plan.essential:
            return f"{node} cannot be skipped: {self.plan.essential[node]}"
        with self._decisions_lock:
            held = self._held.pop(node, None)
        if held is None:
            return f"no failure of {node} is waiting for a decision"
        event, answer = held
        answer.append(decision)
        event.set()
        return None

    def _await_decision(self, node: str) -> Decision:
        """Block this node's worker until the operator decides (an abort gives up)."""
        event, answer = threading.Event(), list[Decision]()
        with self._decisions_lock:
            if self._abort.is_set():  # checked under the lock that abort() empties the held ones with
                return Decision.GIVE_UP
            self._held[node] = (event, answer)
        event.wait()
        return answer[0]

    # -- the run ------------------------------------------------------------------------------
    def run(self) -> RolloutResult:
        """Execute every phase; returns when the rollout is finished, failed or aborted."""
        plan, failures = self.plan, []
        failed_nodes: set[str] = set()
        failed_phases: set[str] = set()
        nodes = tuple(dict.fromkeys(step.node for step in plan.steps()))
        self._emit(RolloutStarted(self.rollout.id, plan.cluster, nodes, len(plan.steps()), self.rollout.log_path))
        locked: list[str] = []
        try:
            with ThreadPoolExecutor(
                max_workers=max(1, self.options.concurrency), thread_name_prefix="khatui-node"
            ) as pool:
                for node, failure in zip(nodes, pool.map(self._lock, nodes), strict=True):
                    if failure is None:
                        locked.append(node)
                    else:
                        failures.append(failure)
                        failed_nodes.add(node)
                        self._emit(failure)
                for phase in plan.phases:
                    blocked = [name for name in phase.requires if name in failed_phases]
                    if blocked or self._abort.is_set():
                        reason = "aborted" if self._abort.is_set() else f"blocked: phase {blocked[0]} failed"
                        for step in phase.steps:
                            self._finish(step, StepState.SKIPPED, reason)
                        failed_phases.add(phase.name)
                        self._emit(PhaseFinished(phase.name, ok=False, blocked=True))
                        continue
                    self._emit(PhaseStarted(phase.name, phase.title, tuple(phase.nodes())))
                    by_node: dict[str, list[Step]] = {}
                    for step in phase.steps:
                        by_node.setdefault(step.node, []).append(step)
                    # A node that failed earlier leaves its part of this phase undone: the phase is not ok.
                    missing = set(by_node) & failed_nodes
                    futures = [
                        pool.submit(self._run_node, node, steps, node in failed_nodes or node in self.skipped)
                        for node, steps in by_node.items()
                    ]
                    phase_failures = [f for f in (fut.result() for fut in futures) if f is not None]
                    for failure in phase_failures:
                        failed_nodes.add(failure.node)
                    failures += phase_failures
                    ok = not phase_failures and not missing and not self._abort.is_set()
                    if not ok:
                        failed_phases.add(phase.name)
                    self._emit(PhaseFinished(phase.name, ok=ok))
                list(pool.map(self._unlock, locked))
        finally:
            result = self._conclude(failures)
            self._log.close()
        return result

    def _lock(self, node: str) -> NodeFailed | None:
        """Take the node's rollout lock (a directory, created atomically); None when held.

        The lock names its rollout: the same rollout takes it over (a resume after a crash); another
        one is refused with the owner's name, so two rollouts never work on one node at once.
        """
        owner = f"{self.rollout.id} {socket.gethostname()} {os.getpid()}"
        q = shlex.quote
        # The owner file appears whole (renamed into the lock), so a loser reads it complete; it waits
        # a moment for it, as the winner may be between its mkdir and its rename.
        staged = f"{LOCK_PARENT}/.owner.$$"
        command = (
            f"mkdir -p {LOCK_PARENT} && echo {q(owner)} > {staged} && "
            f"if mkdir {LOCK_DIR} 2>/dev/null; then mv {staged} {LOCK_DIR}/owner; "
            f"else rm -f {staged}; for i in 1 2 3 4 5 6 7 8 9 10; do [ -f {LOCK_DIR}/owner ] && break; sleep 0.1; done; "
            f"cat {LOCK_DIR}/owner 2>/dev/null || echo unknown; exit 75; fi"
        )
        delay = self.options.backoff
        for attempt in range(self.options.retries + 1):
            try:
                result = self.sessions(node).run(command, timeout=60)
                break
            except ConnectionLost as exc:
                if attempt == self.options.retries:
                    reason = f"{exc.message} (after {attempt + 1} attempts)"
                    return NodeFailed(node, "lock", "take the rollout lock", None, reason, ())
                time.sleep(delay)
                delay *= 2
            except KhatuiError as exc:
                return NodeFailed(node, "lock", "take the rollout lock", None, exc.message, ())
        holder = result.stdout.strip()
        if result.exit_code == 0 or holder.split(" ")[0] == self.rollout.id:
            return None
        if result.exit_code != 75:
            return NodeFailed(
                node, "lock", command, result.exit_code, f"cannot take the rollout lock: {result.stderr.strip()}", ()
            )
        reason = (
            f"locked by rollout {holder} (rollout id, host, pid); if that rollout is gone, remove {LOCK_DIR} on {node}"
        )
        return NodeFailed(node, "lock", "take the rollout lock", None, reason, ())

    def _unlock(self, node: str) -> None:
        with contextlib.suppress(KhatuiError):
            self.sessions(node).run(f"rm -rf {LOCK_DIR}", timeout=30)

    def _conclude(self, failures: list[NodeFailed]) -> RolloutResult:
        aborted = self._abort.is_set()
        ok = not failures and not aborted and not self.skipped
        if ok:
            summary = f"rollout {self.rollout.id} done: {len(self.plan.steps())} steps on {len(self._nodes())} nodes"
            state, failure_text = "done", None
        elif self.skipped and not failures and not aborted:
            summary = (
                f"rollout {self.rollout.id} finished without {', '.join(self.skipped)} (skipped by the operator); "
                f"`khatui resume {self.rollout.id}` rolls them out once fixed"
            )
            state, failure_text = "incomplete", summary
        elif aborted and not failures:
            summary = f"rollout {self.rollout.id} aborted; `khatui resume {self.rollout.id}` continues it"
            state, failure_text = "aborted", summary
        else:
            first = failures[0]
            summary = (
                f"rollout {self.rollout.id} failed on node {first.node}, step {first.step_id}: {first.reason}"
                + (f" (exit code {first.exit_code})" if first.exit_code is not None else "")
                + f"; command: {first.command}"
                + ("; last output:\n  " + "\n  ".join(first.last_lines) if first.last_lines else "")
                + f"\nlog: {self.rollout.log_path}\nfix the cause, then `khatui resume {self.rollout.id}`"
            )
            state, failure_text = "failed", summary
        self.journal.set_rollout_state(self.rollout.id, state, failure_text)
        self._emit(RolloutFinished(self.rollout.id, ok, summary, self.rollout.log_path))
        return RolloutResult(self.rollout.id, ok, failures, aborted, summary, list(self.skipped))

    def _nodes(self) -> list[str]:
        return list(dict.fromkeys(step.node for step in self.plan.steps()))

    def _run_node(self, node: str, steps: list[Step], left_out: bool) -> NodeFailed | None:
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
                tail = tuple(self._tails.get(step.id, ()))
                hold = self.hold_failures and not self._abort.is_set()
                failure = NodeFailed(
                    node, step.id, self.redact(exc.command), exc.exit_code, self.redact(exc.reason), tail, hold
                )
                self._finish(step, StepState.FAILED, failure.reason, exc.exit_code)
                self._emit(failure)
                decision = self._await_decision(node) if hold else Decision.GIVE_UP
                if hold:
                    self._emit(FailureResolved(node, step.id, str(decision)))
                if decision is Decision.GIVE_UP:
                    self._skip_rest(steps[index + 1 :], f"node {node} failed at {step.name}")
                    return replace(failure, held=False)
                if decision is Decision.SKIP:
                    self.skipped.append(node)
                    self._skip_rest(steps[index:], f"node {node} skipped by the operator")
                    return None
                self._line(step, "stderr", f"khatui: running {step.name} again (attempt {attempt + 1})")
                attempt += 1
                continue
            index, attempt = index + 1, 1
        return None

    def _skip_rest(self, steps: list[Step], reason: str) -> None:
        for step in steps:
            self._finish(step, StepState.SKIPPED, reason)

    def _run_step(self, step: Step, attempt: int = 1) -> None:
        if step.is_noop:
            self._finish(step, StepState.SKIPPED, step.noop_reason or "")
            return
        before = self.previous.get(step.id)
        in_journal = before is not None and before.state in (StepState.DONE, StepState.RUNNING)
        if in_journal and before is not None and self._still_done(step, before):
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
        self.journal.end_run(run_id, "done")
        self._finish(step, StepState.DONE, "", seconds=time.monotonic() - started)

    def _still_done(self, step: Step, before: StepRecord) -> bool:
        """A step recorded done (or in flight when the engine died): is its effect in place?

        With a check, the check decides. Without one, a step that uploads files is in the plan only
        because the node's files differ from the spec's (the planner turns matching ones into no-ops),
        so it runs again; a command-only step recorded done is trusted.
        """
        if step.check is None:
            uploads = any(isinstance(action, Upload) for action in step.actions)
            return before.state is StepState.DONE and not uploads
        try:
            return self.sessions(step.node).run(step.check, timeout=60).exit_code == 0
        except KhatuiError:
            return False

    def _with_retries(self, step: Step, action: Action) -> None:
        delay = self.options.backoff
        for attempt in range(self.options.retries + 1):
            try:
                self._act(step, action)
                return
            except ConnectionLost as exc:
                if attempt == self.options.retries:
                    raise StepFailed(action.describe(), None, f"{exc.message} (after {attempt + 1} attempts)") from None
                self._line(step, "stderr", f"khatui: {exc.message}; reconnecting in {delay:.0f} s")
                time.sleep(delay)
                delay *= 2
            except HostKeyError as exc:
                raise StepFailed(action.describe(), None, exc.message) from None
            except KhatuiError as exc:
                raise StepFailed(action.describe(), None, exc.message) from None

    def _act(self, step: Step, action: Action) -> None:
        session = self.sessions(step.node)
        if isinstance(action, Upload):
            session.upload(action.path, action.content, action.mode, action.owner)
            self._line(step, "stdout", f"khatui: wrote {action.path}")
        elif isinstance(action, Run):
            result = session.run(action.command, lambda stream, line: self._line(step, stream, line), action.timeout)
            if result.exit_code != 0:
                raise StepFailed(action.command, result.exit_code, f"command exited with {result.exit_code}")
        elif isinstance(action, WaitFor):
            self._wait_for(step, session, action)

    def _wait_for(self, step: Step, session: Session, action: WaitFor) -> None:
        deadline = time.monotonic() + action.timeout
        last = None
        while not self._abort.is_set():
            result = session.run(action.command, timeout=min(30.0, action.timeout))
            if result.exit_code == 0:
                return
            last = result
            if time.monotonic() >= deadline:
                break
            time.sleep(action.interval)
        detail = (last.stderr or last.stdout).strip().splitlines()[-1:] if last else []
        raise StepFailed(
            action.command,
            last.exit_code if last else None,
            f"not ready after {action.timeout:.0f} s" + (f": {detail[0]}" if detail else ""),
        )

    # -- events, journal, log -----------------------------------------------------------------
    def _line(self, step: Step, stream: str, line: str) -> None:
        line = self.redact(line)
        self._tails.setdefault(step.id, deque(maxlen=TAIL_LINES)).append(line)
        self._emit(OutputLine(step.node, step.id, line, stream))

    def _finish(
        self, step: Step, state: StepState, detail: str, exit_code: int | None = None, seconds: float = 0.0
    ) -> None:
        tail = "\n".join(self._tails.get(step.id, ()))
        self.journal.set_step(
            self.rollout.id, step.id, step.phase, step.node, state, self.redact(detail), exit_code, tail
        )
        self._emit(StepFinished(step.node, step.id, state, self.redact(detail), exit_code, seconds))

    def _emit(self, event: Event) -> None:
        with self._log_lock:
            if not self._log.closed:
                self._log.write(f"{time.strftime('%H:%M:%S')} {_describe(event)}\n")
                self._log.flush()
        self._sink(event)


def _describe(event: Event) -> str:
    """One log line for an event."""
    if isinstance(event, OutputLine):
        return f"{event.node} {event.step_id} | {event.line}"
    fields = ", ".join(f"{k}={v!r}" for k, v in vars(event).items())
    return f"{type(event).__name__}({fields})"


def log_dir(journal_path: Path) -> Path:
    """Where rollout logs live: beside the journal."""
    with Folder.open(journal_path.parent / "logs", create=True, mode=PRIVATE_DIR) as folder:
        return folder.path
