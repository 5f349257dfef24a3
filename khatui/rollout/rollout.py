"""One rollout, from a spec file or the journal: load → observe → plan → start → execute, resume and
diagnose, in the order every front end takes them.

The headless commands (`khatui/cli/rollout_cmds.py`) and the wizard (`khatui/tui/services.py`)
call this object and nothing below it: it owns the SSH sessions (closed when the `with` block
ends or the run is over), every journal access (each opened and closed in one `with`), the
secrets the output is masked with, and the one implementation of resume. The TUI reaches the
engine only through it (pause, abort and held-failure answers included), so it never imports
`khatui.engine`.
"""

from __future__ import annotations

import difflib
import threading
from dataclasses import dataclass, replace
from pathlib import Path

from khatui.engine.executor import EngineOptions, Executor, RolloutResult, log_dir
from khatui.engine.holds import HoldDecision
from khatui.engine.hostkeys import AcceptUnknown
from khatui.events import EventSink
from khatui.journal import RolloutRecord, open_journal
from khatui.plan.compose import bootstrap_token, build_plan
from khatui.plan.model import Plan
from khatui.plan.phases import rollout_phases
from khatui.preflight.results import rewaived
from khatui.redact import Redactor
from khatui.rollout import background, records
from khatui.rollout.desired import Desired, load_desired
from khatui.rollout.diagnose import bundle
from khatui.rollout.nodes import Observed, observe, sudo_passwords

__all__ = ["AcceptUnknown", "EngineOptions", "Rollout", "RolloutOptions", "RolloutResult"]


def _accept_every_key(host: str, key_type: str, fingerprint: str) -> bool:
    return True


@dataclass(frozen=True)
class RolloutOptions:
    """How the nodes are checked and the rollout is run."""

    accept_new_host_keys: bool = False
    """Accept and pin every host key seen for the first time (changed keys are always refused)."""
    ask: AcceptUnknown | None = None
    """Else asked about each unknown host key (the wizard's dialog); None refuses them."""
    waivers: tuple[str, ...] = ()
    """Failed preflight checks to let pass (`CHECK` or `CHECK:NODE`)."""
    engine: EngineOptions | None = None
    """How the engine runs (None: its defaults, and a hand-over leaves them to the background run)."""
    pki_dir: str | None = None
    smoke: bool = False
    """The verification ends with a test pod resolving `kubernetes.default` through the cluster DNS."""

    @property
    def accept(self) -> AcceptUnknown | None:
        """The answer to an unknown host key."""
        return _accept_every_key if self.accept_new_host_keys else self.ask

    @property
    def engine_in_force(self) -> EngineOptions:
        """The engine options in force."""
        return self.engine or EngineOptions()


class Rollout:
    """A rollout of `desired`: what the nodes look like, its plan, its journal record, its run."""

    def __init__(self, desired: Desired, options: RolloutOptions = RolloutOptions()) -> None:
        self.desired = desired
        self.options = options
        self.observed: Observed | None = None
        self.plan: Plan | None = None
        self.record: RolloutRecord | None = None
        self.token: str | None = None
        """The bootstrap token to plan with (a resumed rollout keeps its own; else a fresh one)."""
        self.redo: frozenset[str] = frozenset()
        """Steps of a resumed rollout that failed or were cut off (never turned into no-ops)."""
        self.spec_diff = ""
        """Unified diff of the spec since a resumed rollout started ('' when unchanged)."""
        self.ready = threading.Event()
        """Set once the run has started: pause, abort and `decide` act from then on."""
        self._executor: Executor | None = None
        self._abort_requested = False

    # -- opening ------------------------------------------------------------------------------------
    @classmethod
    def open(cls, spec_path: str, options: RolloutOptions = RolloutOptions()) -> Rollout:
        """A new rollout of the spec at `spec_path`: validated, the PKI store completed, every file rendered."""
        return cls(load_desired(spec_path, options.pki_dir), options)

    @classmethod
    def reopen(cls, record: RolloutRecord, options: RolloutOptions = RolloutOptions()) -> Rollout:
        """The journaled rollout `record` (to resume or diagnose): its spec as it is now, its token, the
        steps to redo, and how the spec changed since it started."""
        rollout = cls(load_desired(record.spec_path, options.pki_dir), options)
        rollout.record, rollout.token = record, records.load_token(record.id)
        rollout.redo = records.unfinished_steps(record.id)
        if rollout.desired.spec_hash != record.spec_hash:
            rollout.spec_diff = "".join(
                difflib.unified_diff(
                    record.spec_yaml.splitlines(True),
                    rollout.desired.spec_text.splitlines(True),
                    "spec at start",
                    "spec now",
                )
            )
        return rollout

    def __enter__(self) -> Rollout:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every SSH session (the facts and checks stay readable)."""
        if self.observed is not None:
            self.observed.close()

    # -- the sequence -------------------------------------------------------------------------------
    def secrets(self) -> list[str]:
        """The sudo passwords of the spec's nodes: masked in every output, log and bundle."""
        return sudo_passwords(self.desired)

    def observe(self) -> Observed:
        """Connect to every node, gather facts, run the preflight checks (closing earlier sessions)."""
        self.close()
        options = self.options
        self.observed = observe(
            self.desired, options.accept, frozenset(options.waivers), options.engine_in_force.concurrency
        )
        return self.observed

    def waive(self, waivers: tuple[str, ...]) -> None:
        """Replace the waivers and judge the observed checks again (no new connection; the network
        mesh's results, which only a connection makes, are kept)."""
        self.options = replace(self.options, waivers=waivers)
        if self.observed is not None:
            self.observed.checks = rewaived(self.observed.checks, frozenset(waivers))

    def make_plan(self) -> Plan:
        """The plan against the observed nodes, or offline (every file new) before `observe`."""
        desired, observed = self.desired, self.observed
        self.plan = build_plan(
            desired.cluster,
            desired.files,
            desired.spec_hash,
            observed.facts if observed else None,
            self.token or bootstrap_token(),
            desired.cert_summaries,
            self.secrets() if observed else [],
            self.redo,
            rollout_phases(self.options.smoke),
            mirror_key=desired.mirror_key,
        )
        return self.plan

    def start(self) -> RolloutRecord:
        """Record the planned rollout in the journal and keep its token for `resume`."""
        assert self.plan is not None, "make_plan first"
        desired = self.desired
        with open_journal() as journal:
            self.record = journal.new_rollout(
                desired.cluster.metadata.name,
                str(Path(desired.spec_path).resolve()),
                desired.spec_hash,
                desired.spec_text,
                log_dir(journal.path),
            )
        records.save_token(self.record.id, self.plan.secrets[0])
        return self.record

    def execute(self, sink: EventSink, hold_failures: bool = False) -> RolloutResult:
        """Run (or continue) the recorded rollout, every event to `sink`; the sessions close when it ends.
        `hold_failures` lets an interactive view decide about each failed step (retry, skip, give up)."""
        assert self.record is not None and self.plan is not None and self.observed is not None
        try:
            with open_journal() as journal:
                journal.set_rollout_state(self.record.id, "running")
                executor = Executor(
                    self.plan,
                    self.observed.sessions.__getitem__,
                    sink,
                    journal,
                    self.record,
                    self.options.engine_in_force,
                    hold_failures=hold_failures,
                )
                self._executor = executor
                if self._abort_requested:
                    executor.abort()
                self.ready.set()
                return executor.run()
        finally:
            self.close()

    # -- control of a running rollout, from any thread ----------------------------------------------
    def pause(self) -> None:
        """No new action starts until `unpause` (running commands finish)."""
        if self._executor is not None:
            self._executor.pause()

    def unpause(self) -> None:
        """Start actions again after `pause`."""
        if self._executor is not None:
            self._executor.unpause()

    def abort(self) -> None:
        """No new step starts; running commands finish; the journal keeps what finished."""
        self._abort_requested = True
        if self._executor is not None:
            self._executor.abort()

    def decide(self, node: str, answer: str) -> str | None:
        """Answer `node`'s held failure: `retry`, `skip` or `give-up`; returns why it was refused, if it was."""
        if self._executor is None:
            return "the rollout is not running"
        return self._executor.decide(node, HoldDecision(answer))

    # -- after the run ------------------------------------------------------------------------------
    def hand_over(self) -> int:
        """Continue the rollout in a background `khatui resume` that checks and runs the nodes as this
        process would, and record that process as its owner; returns its pid."""
        assert self.record is not None
        options = self.options
        concurrency = options.engine.concurrency if options.engine else None
        extra = background.resume_args(options.waivers, concurrency, options.accept_new_host_keys, options.smoke)
        return background.hand_over(self.record, extra)

    def diagnose(self, out: Path) -> Path:
        """Write the diagnostics bundle of the reopened rollout to `out` (node logs when observed)."""
        assert self.record is not None
        redact = Redactor([self.token, *self.secrets()])
        with open_journal() as journal:
            return bundle(journal, self.record, self.desired, self.observed, out, redact)
