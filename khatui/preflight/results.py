"""A preflight check's shape and its result: shared by the check tables (`checks`, `kubeadm_checks`,
`mesh`), so each table stays a module of its own."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from enum import StrEnum

from khatui.facts.model import NodeFacts
from khatui.spec.cluster import Cluster
from khatui.spec.components import EtcdRunAs
from khatui.spec.nodes import Node, Role


class Status(StrEnum):
    """Outcome of one check on one node."""

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class CheckResult:
    """One cell of the preflight matrix."""

    node: str
    check: str
    status: Status
    evidence: str
    waived: bool = False

    @property
    def blocks(self) -> bool:
        """A failure that was not waived."""
        return self.status is Status.FAIL and not self.waived


def is_waived(check: str, node: str, waivers: frozenset[str]) -> bool:
    """True when `waivers` holds `check` (everywhere) or `check:node`."""
    return check in waivers or f"{check}:{node}" in waivers


def rewaived(results: list[CheckResult], waivers: frozenset[str]) -> list[CheckResult]:
    """The same results judged under other waivers (the evidence does not change)."""
    return [replace(r, waived=is_waived(r.check, r.node, waivers)) for r in results]


Check = Callable[[Cluster, Node, NodeFacts], Iterator[tuple[Status, str]]]


def kubelet_node(node: Node) -> bool:
    """A node of the Kubernetes cluster: kubeadm init/join runs there."""
    return node.has(Role.CONTROL_PLANE) or node.has(Role.WORKER)


def runs_kubelet(cluster: Cluster, node: Node) -> bool:
    """A kubelet runs here: a Kubernetes node, or an etcd member run as a static pod."""
    return kubelet_node(node) or (node.has(Role.ETCD) and cluster.spec.etcd.run_as is EtcdRunAs.STATIC_POD)
