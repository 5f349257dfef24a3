"""Spec + rendered files + facts -> the ordered plan (pure: no SSH, no disk), from a tuple of phases.

Each phase lives in its own module under `khatui.plan.phases` and `ROLLOUT` lists them in the
guide's order; this module only builds the shared context, asks each phase for its part, and drops
the phases that have nothing to do. A phase `requires` the phases whose failure would make it
pointless, so a broken etcd stops kubeadm but not the load balancer. Every step compares what it
would write with what the facts say is on the node and becomes a no-op with its reason when nothing
differs; services restart only when their files change.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence

from khatui.facts.model import NodeFacts
from khatui.plan.context import ADMIN, KUBEADM_DONE, PlanContext
from khatui.plan.model import Plan
from khatui.plan.phases import ROLLOUT, PhaseRule
from khatui.render.files import FileKind, RenderedFile
from khatui.spec.cluster import Cluster
from khatui.spec.components import ImagePullPolicy
from khatui.spec.network import NetworkPlugin
from khatui.spec.nodes import Role


def bootstrap_token() -> str:
    """A fresh kubeadm bootstrap token (`[a-z0-9]{6}.[a-z0-9]{16}`), generated on the operator's machine."""
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return (
        "".join(secrets.choice(alphabet) for _ in range(6)) + "." + "".join(secrets.choice(alphabet) for _ in range(16))
    )


def probed_paths(files: Iterable[RenderedFile]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """What the facts probe must look at per node: (paths to hash, non-secret paths to read)."""
    hashes: dict[str, list[str]] = {}
    contents: dict[str, list[str]] = {}
    for file in files:
        hashes.setdefault(file.node, [KUBEADM_DONE, ADMIN]).append(file.path)
        if file.kind not in (FileKind.KEY, FileKind.CERTIFICATE):
            contents.setdefault(file.node, []).append(file.path)
    return hashes, contents


def build_plan(
    cluster: Cluster,
    files: Sequence[RenderedFile],
    spec_hash: str,
    facts: dict[str, NodeFacts] | None = None,
    token: str | None = None,
    cert_summaries: dict[tuple[str, str], str] | None = None,
    secrets_: Sequence[str] = (),
    redo: frozenset[str] = frozenset(),
    phases: Sequence[PhaseRule] = ROLLOUT,
    mirror_key: bytes = b"",
) -> Plan:
    """The plan of `phases` (default: a whole rollout). `facts=None` plans offline (everything is new);
    `token` defaults to a fresh one; `redo` names steps of a resumed rollout that failed or were cut
    off (never turned into no-ops); `mirror_key` is the package mirror's signing key, when the spec names one."""
    ctx = PlanContext.of(cluster, files, facts, token or bootstrap_token(), redo, cert_summaries, mirror_key)
    planned = [phase.plan(ctx) for phase in phases]
    return Plan(
        cluster.metadata.name,
        spec_hash,
        tuple(p for p in planned if p.steps),
        (ctx.token, *secrets_),
        essential(cluster),
        notes(cluster),
    )


def notes(cluster: Cluster) -> tuple[str, ...]:
    """What the spec asks of the nodes that no step can check or do."""
    found: list[str] = []
    if cluster.spec.control_plane.image_pull_policy is ImagePullPolicy.NEVER:
        found.append(
            "kubeadm pulls no image (controlPlane.imagePullPolicy: Never) and skips its ImagePull check: "
            "every image `kubeadm config images list` names must already be in each node's container runtime"
        )
    if cluster.spec.network.plugin is NetworkPlugin.NONE:
        found.append(
            "no pod network is deployed (network.plugin: none): the nodes stay NotReady until yours runs, and the "
            "verification does not wait for them (`kubectl get nodes` shows the kubelet's reason)"
        )
    return tuple(found)


def essential(cluster: Cluster) -> dict[str, str]:
    """Nodes a rollout cannot go on without -> why. Workers, joining control planes that are not etcd
    members and one of several load balancer nodes can be left for a later `resume`."""
    spec = cluster.spec
    found: dict[str, str] = {}
    lb_nodes = spec.with_role(Role.LB)
    for node in lb_nodes if len(lb_nodes) == 1 else ():
        found[node.name] = "the only load balancer node: the API address depends on it"
    masters = spec.with_role(Role.CONTROL_PLANE)
    if masters:
        found[masters[0].name] = "the first control plane: every other node joins through it"
    for node in spec.with_role(Role.ETCD):
        found[node.name] = "an etcd member: the cluster was formed with it and waits for it"
    return found
