"""The core calls the TUI makes, behind one object so tests can give fixed facts or real sshd nodes.

`EngineServices` is a thin pass-through to `khatui.rollout.service`, in the same order as the
headless `khatui plan/apply/resume` (see `khatui/cli/rollout_cmds.py`); nothing is re-implemented.
Every method blocks (SSH, PKI, planning): screens call them from thread workers only.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from khatui.errors import KhatuiError

if TYPE_CHECKING:
    # The engine (fabric, paramiko) and the PKI (cryptography) load on first use, not with the
    # first frame of the wizard.
    from khatui.engine.executor import EngineOptions, Executor, RolloutResult
    from khatui.engine.hostkeys import AcceptUnknown
    from khatui.events import EventSink
    from khatui.journal import RolloutRecord
    from khatui.plan.model import Plan
    from khatui.rollout.desired import Desired
    from khatui.rollout.service import Observed
    from khatui.spec.cluster import Cluster


@dataclass(frozen=True)
class ProbeResult:
    """What one connection probe found on a node."""

    node: str
    ok: bool
    detail: str
    """The OS name when `ok`, else why it failed."""
    sudo: bool = False
    """Commands run as root there (directly or through sudo)."""
    host_key: str = ""
    """`TYPE SHA256:...` of the node's host key, when the connection got that far."""


@dataclass
class Resumable:
    """A rollout from the journal, ready to continue: the spec now, the nodes now, the remaining plan."""

    record: RolloutRecord
    desired: Desired
    observed: Observed
    plan: Plan
    spec_diff: str
    """Unified diff of the spec since the rollout started ('' when unchanged)."""


class Services(Protocol):
    """What the wizard asks of the core."""

    def rollouts(self) -> list[RolloutRecord]:
        """Rollouts in the journal, newest first."""
        ...

    def probe(self, cluster: Cluster, base_dir: str, node: str, accept: AcceptUnknown | None) -> ProbeResult:
        """Connect to one node: SSH, sudo, OS, host key."""
        ...

    def load(self, spec_path: str) -> Desired:
        """Validate the saved spec, complete the PKI store, render every file."""
        ...

    def observe(self, desired: Desired, accept: AcceptUnknown | None, waivers: frozenset[str]) -> Observed:
        """Connect to every node, gather facts, run the preflight checks."""
        ...

    def plan(self, desired: Desired, observed: Observed | None) -> Plan:
        """The plan against the observed nodes (offline when None)."""
        ...

    def start(self, desired: Desired, plan: Plan) -> RolloutRecord:
        """Record a new rollout in the journal."""
        ...

    def resume(self, rollout_id: str, accept: AcceptUnknown | None) -> Resumable:
        """Prepare to continue a rollout from the journal."""
        ...

    def execute(
        self,
        record: RolloutRecord,
        plan: Plan,
        observed: Observed,
        sink: EventSink,
        options: EngineOptions,
        on_executor: Callable[[Executor], None],
    ) -> RolloutResult:
        """Run the rollout, sending every event to `sink`; returns when it ends."""
        ...

    def detach(self, record: RolloutRecord, extra_args: list[str]) -> int:
        """Continue `record` in a background process (`khatui resume`); returns its pid."""
        ...


PROBE_SCRIPT = (
    '. /etc/os-release 2>/dev/null; echo "os=${PRETTY_NAME:-${ID:-unknown}}"; echo "uid=$(id -u)"; '
    'echo "host=$(hostname)"'
)


class EngineServices:
    """The real core: the rollout service, the journal on this machine, SSH through the engine."""

    def rollouts(self) -> list[RolloutRecord]:
        from khatui.journal import open_journal  # the journal alone: not the engine the rest loads

        journal = open_journal()
        try:
            return journal.rollouts()
        finally:
            journal.close()

    def probe(self, cluster: Cluster, base_dir: str, node: str, accept: AcceptUnknown | None) -> ProbeResult:
        from khatui.engine.connect import targets
        from khatui.engine.hostkeys import fingerprint
        from khatui.engine.ssh import Session
        from khatui.rollout.desired import Desired
        from khatui.rollout.service import host_keys_for

        # host_keys_for only reads the cluster and base_dir of a Desired.
        shell = Desired(cluster, "", "", "", base_dir, [], {})
        try:
            target = targets(cluster, base_dir)[node]
        except KhatuiError as exc:
            return ProbeResult(node, False, exc.message)
        session = Session(target, host_keys_for(shell, accept))
        try:
            connection = session.connect()
            transport = connection.client.get_transport()
            key = transport.get_remote_server_key() if transport is not None else None
            host_key = f"{key.get_name()} {fingerprint(key)}" if key is not None else ""
            result = session.run(PROBE_SCRIPT, timeout=20)
        except KhatuiError as exc:
            return ProbeResult(node, False, exc.message)
        finally:
            session.close()
        values = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
        if result.exit_code != 0:
            reason = result.stderr.strip().splitlines()[-1:] or [f"exit code {result.exit_code}"]
            sudo = "sudo" in reason[0]
            return ProbeResult(
                node, False, f"{'sudo refused' if sudo else 'probe failed'}: {shlex.quote(reason[0])}", False, host_key
            )
        return ProbeResult(node, True, values.get("os", "unknown OS"), values.get("uid") == "0", host_key)

    def load(self, spec_path: str) -> Desired:
        from khatui.rollout.desired import load_desired

        return load_desired(spec_path)

    def observe(self, desired: Desired, accept: AcceptUnknown | None, waivers: frozenset[str]) -> Observed:
        from khatui.rollout.service import observe

        return observe(desired, accept, waivers)

    def plan(self, desired: Desired, observed: Observed | None) -> Plan:
        from khatui.rollout.service import make_plan

        return make_plan(desired, observed)

    def start(self, desired: Desired, plan: Plan) -> RolloutRecord:
        from khatui.rollout.service import open_journal, start_rollout

        journal = open_journal()
        try:
            return start_rollout(journal, desired, plan)
        finally:
            journal.close()

    def resume(self, rollout_id: str, accept: AcceptUnknown | None) -> Resumable:
        import difflib

        from khatui.rollout.desired import load_desired
        from khatui.rollout.service import find_rollout, load_token, make_plan, observe, open_journal, unfinished_steps

        journal = open_journal()
        try:
            record = find_rollout(journal, rollout_id)
            redo = unfinished_steps(journal, record.id)
        finally:
            journal.close()
        desired = load_desired(record.spec_path)
        diff = ""
        if desired.spec_hash != record.spec_hash:
            diff = "".join(
                difflib.unified_diff(
                    record.spec_yaml.splitlines(True), desired.spec_text.splitlines(True), "spec at start", "spec now"
                )
            )
        observed = observe(desired, accept)
        try:
            plan = make_plan(desired, observed, load_token(record.id), redo)
        except BaseException:
            observed.close()
            raise
        return Resumable(record, desired, observed, plan, diff)

    def execute(
        self,
        record: RolloutRecord,
        plan: Plan,
        observed: Observed,
        sink: EventSink,
        options: EngineOptions,
        on_executor: Callable[[Executor], None],
    ) -> RolloutResult:
        from khatui.rollout.service import execute, open_journal

        journal = open_journal()
        try:
            return execute(journal, record, plan, observed, sink, options, on_executor, hold_failures=True)
        finally:
            journal.close()
            observed.close()

    def detach(self, record: RolloutRecord, extra_args: list[str]) -> int:
        from khatui.rollout.background import hand_over

        return hand_over(record, extra_args)


def spec_base_dir(path: Path | None) -> str:
    """The folder relative paths in the spec are taken from."""
    return str((path or Path.cwd() / "spec.yaml").resolve().parent)
