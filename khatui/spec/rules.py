"""Rules that relate several fields of a well-typed spec, each returning problems, never raising.

The pydantic models already guarantee each value's shape; these rules check what the guide's HA
recipe needs across fields: quorum, roles per topology, addresses that must not clash, the VIP's
subnet, leader election (the address rules live in `khatui.spec.address_rules`). Paths use the YAML
(camelCase) names so they match what the operator wrote. Each rule is listed with the paths it reads:
when some values of a spec have the wrong shape, validation stands in defaults for them and still runs
every rule that reads none of those, so one pass lists every problem.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass

from khatui.spec import address_rules as addr
from khatui.spec.cluster import Cluster
from khatui.spec.components import EtcdTopology, ProxyMode
from khatui.spec.loadbalancer import HAProxyKeepalived, LocalProxy
from khatui.spec.nodes import Role
from khatui.spec.problems import Path, Problem, error, warning

Rule = Callable[[Cluster], Iterator[Problem]]
NODES = ("spec", "nodes")
LB = ("spec", "loadBalancer")
CP = ("spec", "controlPlane")
EACH = "*"
"""In a `Checked.reads` path: any list index."""
RECOMMENDED_ETCD_MEMBERS = 7
"""etcd's FAQ: 'an etcd cluster probably should have no more than seven nodes'; above, a warning."""
MAX_ETCD_MEMBERS = 9
"""Above this an error: 9 members already tolerate 4 failures, and every write waits for 5 of them;
a larger count is a typo or a misunderstanding (etcd members are not where workloads scale)."""


def quorum(members: int) -> tuple[int, int]:
    """(votes needed for quorum, failures tolerated) for an etcd cluster of `members`."""
    needed = members // 2 + 1
    return needed, members - needed


def quorum_text(members: int) -> str:
    """'3 members: quorum is 2, tolerates 1 failure'."""
    needed, tolerated = quorum(members)
    failures = "failure" if tolerated == 1 else "failures"
    return f"{members} members: quorum is {needed}, tolerates {tolerated} {failures}"


def _roles(cluster: Cluster) -> Iterator[Problem]:
    spec = cluster.spec
    if not spec.with_role(Role.CONTROL_PLANE):
        yield error(NODES, "no node has the control-plane role; at least one is needed")
    if not spec.with_role(Role.ETCD):
        yield error(NODES, "no node has the etcd role; etcd members are the nodes with that role")
    stacked = spec.etcd.topology is EtcdTopology.STACKED
    for index, node in enumerate(spec.nodes):
        is_cp, is_etcd = node.has(Role.CONTROL_PLANE), node.has(Role.ETCD)
        if stacked and is_etcd and not is_cp:
            yield error(
                (*NODES, index, "roles"),
                f"node {node.name!r}: etcd topology 'stacked' runs etcd on control-plane nodes; add control-plane or use topology 'external'",
            )
        if stacked and is_cp and not is_etcd:
            yield error(
                (*NODES, index, "roles"),
                f"node {node.name!r}: with etcd topology 'stacked' every control-plane node is an etcd member; add the etcd role",
            )
        if not stacked and is_cp and is_etcd:
            yield error(
                (*NODES, index, "roles"),
                f"node {node.name!r}: etcd topology 'external' puts etcd on nodes of its own; remove etcd or control-plane",
            )
        if node.ssh.user != "root" and not node.ssh.sudo:
            yield warning(
                (*NODES, index, "ssh", "sudo"),
                f"node {node.name!r}: user {node.ssh.user!r} is not root and sudo is off; khatui needs root on the node",
            )


def _quorum(cluster: Cluster) -> Iterator[Problem]:
    members = len(cluster.spec.with_role(Role.ETCD))
    if members == 2:
        yield error(
            NODES,
            "2 etcd members: quorum is 2, so losing either stops etcd: less available than 1 member; use 3 (tolerates 1 failure) or 5 (tolerates 2)",
        )
    elif members >= 4 and members % 2 == 0:
        yield error(
            NODES,
            f"{quorum_text(members)}, no more than {members - 1} members would; use an odd count: 3 tolerates 1 failure, 5 tolerates 2",
        )
    if members > MAX_ETCD_MEMBERS:
        yield error(
            NODES,
            f"{members} etcd members: every write waits for a majority, so a cluster this large is slow and "
            f"fragile; etcd recommends 3, 5 or 7 and khatui accepts at most {MAX_ETCD_MEMBERS}",
        )
    elif members > RECOMMENDED_ETCD_MEMBERS:
        yield warning(
            NODES,
            f"{members} etcd members: more than the {RECOMMENDED_ETCD_MEMBERS} etcd recommends at most; "
            "each write waits for a majority, so extra members slow writes down",
        )


def _high_availability(cluster: Cluster) -> Iterator[Problem]:
    spec = cluster.spec
    cps, members = len(spec.with_role(Role.CONTROL_PLANE)), len(spec.with_role(Role.ETCD))
    if not spec.control_plane.leader_elect and (spec.high_availability or cps > 1):
        yield error(
            (*CP, "leaderElect"),
            "leader election cannot be off in an HA cluster: several controller-managers and schedulers would act at once",
        )
    if not spec.high_availability:
        return
    if 0 < cps < 2:
        yield warning(
            NODES,
            f"highAvailability is on but there is {cps} control-plane node; 2 or more keep the API up when one fails",
        )
    if 0 < members < 3:
        yield warning(NODES, f"highAvailability is on but etcd has {quorum_text(members)}; 3 tolerate 1 failure")


def _ports(cluster: Cluster) -> Iterator[Problem]:
    spec = cluster.spec
    etcd = spec.etcd
    if etcd.client_port == etcd.peer_port:
        yield error(("spec", "etcd", "peerPort"), f"etcd peer port equals the client port {etcd.client_port}")
    if etcd.topology is EtcdTopology.STACKED and spec.control_plane.api_port in (etcd.client_port, etcd.peer_port):
        yield error(
            (*CP, "apiPort"),
            f"API port {spec.control_plane.api_port} clashes with etcd's ports on the stacked control planes",
        )


def _local_proxy_port(cluster: Cluster) -> Iterator[Problem]:
    spec, etcd, lb = cluster.spec, cluster.spec.etcd, cluster.spec.load_balancer
    if isinstance(lb, LocalProxy):
        # The proxy listens on every node's loopback, where the apiserver and etcd listen too.
        taken = {spec.control_plane.api_port: "the API port", etcd.client_port: "etcd's client port"}
        taken.setdefault(etcd.peer_port, "etcd's peer port")
        if lb.port in taken:
            yield error(
                (*LB, "port"),
                f"local proxy port {lb.port} is {taken[lb.port]}; the proxy listens on every node's loopback, "
                "where those listen too (pick another port, e.g. 7443)",
            )


def _load_balancer(cluster: Cluster) -> Iterator[Problem]:
    spec, lb = cluster.spec, cluster.spec.load_balancer
    lb_nodes = spec.with_role(Role.LB)
    if not isinstance(lb, HAProxyKeepalived) and lb_nodes:
        names = ", ".join(n.name for n in lb_nodes)
        yield warning(NODES, f"nodes with the lb role ({names}) are unused with load balancer mode {lb.mode!r}")
    if isinstance(lb, HAProxyKeepalived):
        if not lb_nodes:
            yield error((*LB, "mode"), "mode 'haproxy-keepalived' runs on nodes with the lb role, and no node has it")
        elif len(lb_nodes) == 1 and spec.high_availability:
            yield warning(
                (*LB, "mode"), f"only one lb node ({lb_nodes[0].name}): the VIP cannot fail over; use 2 or more"
            )
        if lb.port == spec.control_plane.api_port and any(n.has(Role.CONTROL_PLANE) for n in lb_nodes):
            yield error(
                (*LB, "port"),
                f"haproxy port {lb.port} equals the apiserver's port on nodes that are both lb and control-plane; pick another port (e.g. 8443)",
            )


def _kube_proxy(cluster: Cluster) -> Iterator[Problem]:
    proxy = cluster.spec.kube_proxy
    path = ("spec", "kubeProxy")
    if proxy.ipvs_scheduler is not None and proxy.mode is not ProxyMode.IPVS:
        yield error(
            (*path, "ipvsScheduler"), f"ipvsScheduler only applies to mode 'ipvs' (mode is {proxy.mode.value!r})"
        )
    if proxy.mode is ProxyMode.NFTABLES and _minor(cluster.spec.control_plane.kubernetes_version) < 31:
        yield error((*path, "mode"), "kube-proxy's nftables mode needs Kubernetes v1.31 or newer")


def _persistence(cluster: Cluster) -> Iterator[Problem]:
    classes = cluster.spec.persistence.classes
    path = ("spec", "persistence", "classes")
    seen: dict[str, int] = {}
    for index, klass in enumerate(classes):
        if klass.name in seen:
            yield error((*path, index, "name"), f"duplicate StorageClass name {klass.name!r} (also {seen[klass.name]})")
        seen.setdefault(klass.name, index)
    defaults = [i for i, k in enumerate(classes) if k.default]
    for index in defaults[1:]:
        yield error(
            (*path, index, "default"), f"more than one default StorageClass ({classes[defaults[0]].name!r} already is)"
        )
    if classes and not defaults:
        yield warning(path, "no StorageClass is marked default; claims without a storageClassName stay Pending")
    workers = cluster.spec.with_role(Role.WORKER)
    for index, klass in enumerate(classes):
        if klass.backend == "local" and not workers:
            yield warning(
                (*path, index, "paths"),
                f"StorageClass {klass.name!r} gets no volumes: local volumes are made on worker nodes and no "
                "node has the worker role; its claims stay Pending",
            )
        if klass.backend == "glusterfs":
            yield error(
                (*path, index, "backend"),
                "GlusterFS cannot be provisioned on Kubernetes v1.26 or newer: the in-tree plugin was removed "
                "and no maintained CSI driver exists; use nfs or ceph-rbd (existing Gluster servers can export NFS)",
            )


def _versions(cluster: Cluster) -> Iterator[Problem]:
    version = cluster.spec.control_plane.kubernetes_version
    if _minor(version) < 29 or not version.lstrip("v").startswith("1."):
        yield error(
            (*CP, "kubernetesVersion"), f"Kubernetes {version} is not supported; khatui installs v1.29 or newer"
        )


def _minor(version: str) -> int:
    return int(version.lstrip("v").split(".")[1])


NODE = (*NODES, EACH)


@dataclass(frozen=True)
class Checked:
    """A rule and the paths it reads (`EACH` for any list index): it is skipped when one is unusable."""

    rule: Rule
    reads: tuple[Path, ...]


RULES: tuple[Checked, ...] = (
    Checked(addr.duplicates, ((*NODE, "name"), (*NODE, "address"))),
    Checked(addr.loopback, ((*NODE, "address"),)),
    Checked(_roles, ((*NODE, "roles"), (*NODE, "ssh", "user"), (*NODE, "ssh", "sudo"), ("spec", "etcd", "topology"))),
    Checked(_quorum, ((*NODE, "roles"),)),
    Checked(_high_availability, ((*NODE, "roles"), ("spec", "highAvailability"), (*CP, "leaderElect"))),
    Checked(addr.networks, ((*CP, "podCIDR"), (*CP, "serviceCIDR"), (*NODE, "address"))),
    Checked(
        addr.node_local_dns,
        (("spec", "dns", "nodeLocalDNS"), (*CP, "podCIDR"), (*CP, "serviceCIDR"), (*NODE, "address"), LB),
    ),
    Checked(_ports, (("spec", "etcd"), (*CP, "apiPort"))),
    Checked(_local_proxy_port, (("spec", "etcd"), (*CP, "apiPort"), LB)),
    Checked(_load_balancer, (LB, (*NODE, "roles"), (*CP, "apiPort"), ("spec", "highAvailability"))),
    Checked(addr.vip, (LB, (*NODE, "roles"), (*NODE, "address"), (*CP, "podCIDR"), (*CP, "serviceCIDR"))),
    Checked(_kube_proxy, (("spec", "kubeProxy"), (*CP, "kubernetesVersion"))),
    Checked(_persistence, (("spec", "persistence"), (*NODE, "roles"))),
    Checked(_versions, ((*CP, "kubernetesVersion"),)),
)


def touches(read: Path, repaired: Path) -> bool:
    """True if a value at `repaired` is part of what `read` names (or contains it): one is a prefix of the other."""
    return all(r == p or (r == EACH and isinstance(p, int)) for r, p in zip(read, repaired, strict=False))


def check(cluster: Cluster, unusable: Collection[Path] = ()) -> list[Problem]:
    """Every cross-field problem of a well-typed spec, skipping rules that read an `unusable` path.

    `unusable` lists the paths whose written value was replaced to get a typed spec at all (see
    `khatui.spec.validate`): a rule reading one would judge a stand-in, not what the operator wrote.
    """
    return [
        problem
        for checked in RULES
        if not any(touches(read, path) for read in checked.reads for path in unusable)
        for problem in checked.rule(cluster)
    ]
