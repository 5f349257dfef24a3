"""Preflight checks for installing on a node (`spec.install.enabled`): a package manager khatui can
drive, the package lock free, free disk where binaries and images go.

Their own table, merged into `checks.CHECKS`, so the configuration checks stay one module; one check,
`install`, with a finding per concern (the wizard's matrix has a column per check, in 80 columns). With
install disabled they pass: the operator prepares the nodes, and the other checks say what is missing.
"""

from __future__ import annotations

from collections.abc import Iterator

from khatui.facts.distro import MANAGER_FAMILY, Family, packages_for
from khatui.facts.model import NodeFacts
from khatui.preflight.results import Check, Status
from khatui.spec.cluster import Cluster
from khatui.spec.nodes import Node

MIN_FREE_MIB = 2048
"""Room for containerd, runc, the CNI plugins, the kube binaries and the first images (~1.5 GiB)."""


def _package_manager(cluster: Cluster, node: Node, facts: NodeFacts) -> Iterator[tuple[Status, str]]:
    wanted = packages_for(cluster, node, Family.DEBIAN)
    if not cluster.spec.install.enabled or not wanted:
        yield Status.PASS, "khatui installs no distribution package here"
    elif facts.package_manager in MANAGER_FAMILY:
        family = MANAGER_FAMILY[facts.package_manager]
        missing = [p for p in packages_for(cluster, node, family) if p not in facts.packages]
        yield Status.PASS, f"{facts.package_manager}; to install: {', '.join(missing) or 'nothing'}"
    else:
        yield (
            Status.FAIL,
            f"neither apt-get nor dnf found ({facts.os_pretty or facts.os_id or 'unknown OS'}): khatui cannot install "
            f"{', '.join(wanted)}; install them by hand and set spec.install.enabled: false",
        )


def _package_lock(cluster: Cluster, node: Node, facts: NodeFacts) -> Iterator[tuple[Status, str]]:
    if facts.package_locks and cluster.spec.install.enabled:
        yield (
            Status.WARN,
            f"{'; '.join(facts.package_locks)}: the install waits up to 300 s for it, then fails naming it "
            "(an unattended upgrade usually finishes first)",
        )
    else:
        yield Status.PASS, "package database not locked"


def _disk(cluster: Cluster, node: Node, facts: NodeFacts) -> Iterator[tuple[Status, str]]:
    seen = ", ".join(f"{path} {mib} MiB free" for path, mib in facts.disk_free_mib.items()) or "not reported"
    short = [path for path, mib in facts.disk_free_mib.items() if mib < MIN_FREE_MIB]
    if cluster.spec.install.enabled and short:
        yield Status.FAIL, f"{seen}; binaries and images need at least {MIN_FREE_MIB} MiB on {', '.join(short)}"
    else:
        yield Status.PASS, seen


def _install(cluster: Cluster, node: Node, facts: NodeFacts) -> Iterator[tuple[Status, str]]:
    """One check (one column of the wizard's matrix, one name to waive): can khatui install here. Its
    status is the worst of its findings; the evidence names the findings of that status."""
    findings = [
        *_package_manager(cluster, node, facts),
        *_package_lock(cluster, node, facts),
        *_disk(cluster, node, facts),
    ]
    worst = max((status for status, _ in findings), key=_SEVERITY.index)
    yield worst, "; ".join(message for status, message in findings if status is worst)


_SEVERITY = (Status.PASS, Status.WARN, Status.FAIL)


CHECKS: dict[str, Check] = {"install": _install}
