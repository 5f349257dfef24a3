"""The nodes as they are now: SSH sessions to every node, their facts and the preflight verdict.

One `observe` serves `plan`, `apply`, `resume`, `diagnose` and the wizard (through `Rollout`), so
every front end checks host keys against the same files and pins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from khatui.engine.connect import gather_facts, sessions, targets
from khatui.engine.hostkeys import AcceptUnknown
from khatui.engine.ssh import HostKeys, Session
from khatui.facts.model import NodeFacts
from khatui.plan.compose import probed_paths
from khatui.preflight import mesh
from khatui.preflight.checks import CheckResult, preflight
from khatui.rollout.desired import Desired
from khatui.spec.cluster import Cluster
from khatui.spec.validate import resolve_local_path
from khatui.userdirs import data_dir


def host_keys_for(cluster: Cluster, base_dir: str, accept: AcceptUnknown | None) -> HostKeys:
    """~/.ssh/known_hosts, every knownHostsFile the spec names, and khatui's pinned keys."""
    files = [Path.home() / ".ssh" / "known_hosts"]
    for node in cluster.spec.nodes:
        if node.ssh.known_hosts_file:
            files.append(resolve_local_path(node.ssh.known_hosts_file, base_dir))
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
        """Close every SSH connection (again: a no-op)."""
        for session in self.sessions.values():
            session.close()


def observe(desired: Desired, accept: AcceptUnknown | None, waivers: frozenset[str], concurrency: int) -> Observed:
    """Connect to every node, gather facts, run the preflight checks."""
    found = sessions(
        targets(desired.cluster, desired.base_dir), host_keys_for(desired.cluster, desired.base_dir, accept)
    )
    hashes, contents = probed_paths(desired.files)
    meshes = {n.name: mesh.script(mesh.probes(desired.cluster, n)) for n in desired.cluster.spec.nodes}
    facts, unreachable, outputs = gather_facts(found, hashes, contents, concurrency, meshes)
    checks = preflight(desired.cluster, facts, waivers)
    checks += mesh.mesh_checks(desired.cluster, outputs, facts, waivers)
    return Observed(found, facts, unreachable, checks)


def sudo_passwords(desired: Desired) -> list[str]:
    """The sudo passwords the spec's nodes use (secrets to mask everywhere); an unset one is an error."""
    return [t.sudo_password for t in targets(desired.cluster, desired.base_dir).values() if t.sudo_password]
