"""Observe the nodes, plan, execute and resume: the steps the CLI and the TUI take in the same order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from khatui.engine.connect import gather_facts, sessions, targets
from khatui.engine.executor import EngineOptions, Executor, RolloutResult, log_dir
from khatui.engine.hostkeys import AcceptUnknown
from khatui.engine.ssh import HostKeys, Session
from khatui.errors import InputError
from khatui.events import EventSink, StepState
from khatui.facts.model import NodeFacts
from khatui.journal import Journal, RolloutRecord
from khatui.journal import open_journal as open_journal  # callers take it from here with the rest
from khatui.localfs import PRIVATE_FILE
from khatui.plan.build import bootstrap_token, build_plan, probed_paths
from khatui.plan.model import Plan
from khatui.preflight import mesh
from khatui.preflight.checks import CheckResult, preflight
from khatui.rollout.desired import Desired
from khatui.spec.validate import resolve_local_path
from khatui.userdirs import data_dir, data_folder


def host_keys_for(desired: Desired, accept: AcceptUnknown | None) -> HostKeys:
    """~/.ssh/known_hosts, every knownHostsFile the spec names, and khatui's pinned keys."""
    files = [Path.home() / ".ssh" / "known_hosts"]
    for node in desired.cluster.spec.nodes:
        if node.ssh.known_hosts_file:
            files.append(resolve_local_path(node.ssh.known_hosts_file, desired.base_dir))
    return HostKeys(tuple(dict.fromkeys(files)), data_dir() / "known_hosts", accept)


@dataclass
class Observed:
    """What the nodes look like now, and the preflight verdict."""

    sessions: dict[str, Session]
    facts: dict[str, NodeFacts]
    unreachable: dict[str, str]
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def blocking(self) -> list[CheckResult]:
        """Failed checks that were not waived."""
        return [c for c in self.checks if c.blocks]

    def close(self) -> None:
        """Close every SSH connection."""
        for session in self.sessions.values():
            session.close()


def observe(
    desired: Desired,
    accept: AcceptUnknown | None = None,
    waivers: frozenset[str] = frozenset(),
    concurrency: int = 100,
) -> Observed:
    """Connect to every node, gather facts, run the preflight checks."""
    found = sessions(targets(desired.cluster, desired.base_dir), host_keys_for(desired, accept))
    hashes, contents = probed_paths(desired.files)
    meshes = {n.name: mesh.script(mesh.probes(desired.cluster, n)) for n in desired.cluster.spec.nodes}
    facts, unreachable, outputs = gather_facts(found, hashes, contents, concurrency, meshes)
    checks = preflight(desired.cluster, facts, waivers)
    checks += mesh.mesh_checks(desired.cluster, outputs, facts, waivers)
    return Observed(found, facts, unreachable, checks)


def targets_secrets(desired: Desired) -> list[str]:
    """The sudo passwords the spec's nodes use (to redact them everywhere)."""
    return [t.sudo_password for t in targets(desired.cluster, desired.base_dir).values() if t.sudo_password]


def make_plan(
    desired: Desired, observed: Observed | None, token: str | None = None, redo: frozenset[str] = frozenset()
) -> Plan:
    """The plan against observed nodes, or offline (every file new) without them; `redo`: see build_plan."""
    secrets = (
        [t.sudo_password for t in targets(desired.cluster, desired.base_dir).values() if t.sudo_password]
        if observed
        else []
    )
    return build_plan(
        desired.cluster,
        desired.files,
        desired.spec_hash,
        observed.facts if observed else None,
        token or bootstrap_token(),
        desired.cert_summaries,
        secrets,
        redo,
    )


def _token_file(rollout_id: str) -> Path:
    return data_dir() / "rollouts" / f"{rollout_id}.token"


def save_token(rollout_id: str, token: str) -> None:
    """Keep a rollout's bootstrap token (0600) so `resume` joins nodes with the token it created."""
    with data_folder("rollouts") as folder:
        folder.write({_token_file(rollout_id).name: (token.encode(), PRIVATE_FILE)})


def load_token(rollout_id: str) -> str | None:
    """The bootstrap token of a rollout, if it saved one."""
    path = _token_file(rollout_id)
    return path.read_text().strip() if path.exists() else None


def start_rollout(journal: Journal, desired: Desired, plan: Plan) -> RolloutRecord:
    """Record a new rollout for `plan`."""
    record = journal.new_rollout(
        desired.cluster.metadata.name,
        str(Path(desired.spec_path).resolve()),
        desired.spec_hash,
        desired.spec_text,
        log_dir(journal.path),
    )
    save_token(record.id, plan.secrets[0])
    return record


def execute(
    journal: Journal,
    record: RolloutRecord,
    plan: Plan,
    observed: Observed,
    sink: EventSink,
    options: EngineOptions,
    on_executor: Callable[[Executor], None] | None = None,
    hold_failures: bool = False,
) -> RolloutResult:
    """Run (or continue) `record` with `plan` on the observed nodes' sessions; `hold_failures` lets an
    interactive view decide about each failed step (retry, skip the node, give up)."""
    journal.set_rollout_state(record.id, "running")
    executor = Executor(
        plan, observed.sessions.__getitem__, sink, journal, record, options, hold_failures=hold_failures
    )
    if on_executor is not None:
        on_executor(executor)
    return executor.run()


def unfinished_steps(journal: Journal, rollout_id: str) -> frozenset[str]:
    """Steps of a rollout that failed or were running when it stopped."""
    return frozenset(
        k for k, v in journal.steps(rollout_id).items() if v.state in (StepState.FAILED, StepState.RUNNING)
    )


def find_rollout(journal: Journal, rollout_id: str | None) -> RolloutRecord:
    """The rollout `rollout_id`, or the most recent one that did not finish."""
    if rollout_id:
        record = journal.rollout(rollout_id)
        if record is None:
            raise InputError(f"no rollout {rollout_id!r} in the journal {journal.path} (see `khatui rollouts`)")
        return record
    for record in journal.rollouts():
        if record.state != "done":
            return record
    raise InputError("no unfinished rollout to resume (see `khatui rollouts`)")
