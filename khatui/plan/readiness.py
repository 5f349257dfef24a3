"""Judges of a working cluster: what `kubectl get ... -o json` and `etcdctl member list -w json` print,
read as JSON on the operator's machine and turned into the list of what is missing.

Why judges instead of shell tests: a node's shell cannot say *which* node is NotReady or *which*
DaemonSet has too few pods without parsing tables; the verify phase runs one read-only command,
the engine hands its stdout to the judge its `WaitFor` carries, and the problems become the step's
failure. Each judge is a frozen dataclass (comparable, printable in a plan) whose `__call__` is pure:
unit tests feed it recorded outputs. An unreadable output is itself a problem, never an exception.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

LEASES = ("kube-controller-manager", "kube-scheduler")
"""The leader-election leases of kube-system whose holder must be one of the control planes."""
WORKLOAD_KINDS = ("Deployment", "DaemonSet", "StatefulSet")


class Judge(Protocol):
    """What a `WaitFor` probe's stdout lacks: an empty list means ready."""

    def __call__(self, output: str) -> list[str]: ...


@dataclass(frozen=True, order=True)
class Workload:
    """A Deployment, DaemonSet or StatefulSet that must be available."""

    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind.lower()} {self.namespace}/{self.name}"


def _items(output: str) -> list[dict[str, Any]] | str:
    """The `items` of a kubectl List, or the problem with the output."""
    try:
        data = json.loads(output)
    except ValueError:
        return "the output is not JSON"
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return "the output is not a kubectl List"
    return [i for i in items if isinstance(i, dict)]


def _get(obj: Mapping[str, Any], *path: str) -> Any:
    for key in path:
        obj = obj.get(key) if isinstance(obj, Mapping) else None  # type: ignore[assignment]
    return obj


def node_problems(items: Sequence[Mapping[str, Any]], expected: Iterable[str]) -> list[str]:
    """Every expected node registered and its Ready condition True (else its reason and message)."""
    found = {_get(i, "metadata", "name"): i for i in items if _get(i, "kind") in (None, "Node")}
    problems = []
    for name in expected:
        node = found.get(name)
        if node is None:
            problems.append(f"node {name} not registered")
            continue
        ready = [c for c in _get(node, "status", "conditions") or [] if _get(c, "type") == "Ready"]
        if not ready:
            problems.append(f"node {name} NotReady (no Ready condition yet)")
        elif ready[0].get("status") != "True":
            why = ": ".join(str(ready[0][k]) for k in ("reason", "message") if ready[0].get(k))
            problems.append(f"node {name} NotReady" + (f" ({why})" if why else ""))
    return problems


def _count(obj: Mapping[str, Any], *path: str) -> int:
    value = _get(obj, *path)
    return value if isinstance(value, int) else 0


def workload_problems(items: Sequence[Mapping[str, Any]], expected: Iterable[Workload]) -> list[str]:
    """Every expected workload present with all of its pods available."""
    found = {
        Workload(str(_get(i, "kind")), str(_get(i, "metadata", "namespace")), str(_get(i, "metadata", "name"))): i
        for i in items
    }
    problems = []
    for workload in expected:
        obj = found.get(workload)
        if obj is None:
            problems.append(f"{workload} missing")
            continue
        if workload.kind == "DaemonSet":
            wanted = _count(obj, "status", "desiredNumberScheduled")
            available = _count(obj, "status", "numberAvailable")
        else:
            replicas = _get(obj, "spec", "replicas")
            wanted = replicas if isinstance(replicas, int) else 1
            available = _count(obj, "status", "availableReplicas")
        if wanted == 0 and workload.kind == "DaemonSet":
            problems.append(f"{workload} runs on no node")
        elif available < wanted:
            problems.append(f"{workload} {available}/{wanted} available")
    return problems


def lease_problems(
    items: Sequence[Mapping[str, Any]], control_planes: Iterable[str], names: Iterable[str] = LEASES
) -> list[str]:
    """One holder of each leader lease `names` of kube-system, and it is a control plane.

    A holder identity is `<hostname>_<uuid>` (client-go's leaderelection); the hostname is the node's name.
    """
    planes = set(control_planes)
    leases = {
        _get(i, "metadata", "name"): i
        for i in items
        if _get(i, "kind") in (None, "Lease") and _get(i, "metadata", "namespace") in (None, "kube-system")
    }
    problems = []
    for name in names:
        holder = _get(leases.get(name, {}), "spec", "holderIdentity")
        if not holder:
            problems.append(f"lease kube-system/{name} has no holder")
        elif str(holder).split("_", 1)[0] not in planes:
            problems.append(f"lease kube-system/{name} is held by {holder}, not by a control plane")
    return problems


@dataclass(frozen=True)
class ClusterWorking:
    """Judges `kubectl get nodes,deployments,daemonsets,statefulsets,leases -A -o json`: the nodes
    Ready, the workloads available, the leader leases held by control planes."""

    nodes: tuple[str, ...]
    workloads: tuple[Workload, ...]
    control_planes: tuple[str, ...]
    leases: tuple[str, ...] = LEASES

    def __call__(self, output: str) -> list[str]:
        items = _items(output)
        if isinstance(items, str):
            return [items]
        by_kind = [i for i in items if _get(i, "kind") in WORKLOAD_KINDS]
        return [
            *node_problems([i for i in items if _get(i, "kind") == "Node"], self.nodes),
            *workload_problems(by_kind, self.workloads),
            *lease_problems([i for i in items if _get(i, "kind") == "Lease"], self.control_planes, self.leases),
        ]


@dataclass(frozen=True)
class EtcdMembers:
    """Judges `etcdctl member list -w json`: exactly the spec's members, every one started and a voter."""

    names: tuple[str, ...]

    def __call__(self, output: str) -> list[str]:
        try:
            members = json.loads(output).get("members")
        except (ValueError, AttributeError):
            return ["the etcdctl output is not JSON"]
        if not isinstance(members, list):
            return ["the etcdctl output lists no members"]
        problems = []
        listed = []
        for member in members:
            name = _get(member, "name") or ""
            listed.append(name)
            if not name or not _get(member, "clientURLs"):
                peers = ",".join(_get(member, "peerURLs") or [])
                problems.append(f"etcd member {name or peers or '?'} is not started")
            elif _get(member, "isLearner"):
                problems.append(f"etcd member {name} is still a learner")
            elif name not in self.names:
                problems.append(f"etcd member {name} is not in the spec")
        problems += [f"etcd member {n} is not in the member list" for n in self.names if n not in listed]
        return problems
