"""Rules that relate several fields of a well-typed spec, each returning problems, never raising.

The pydantic models already guarantee each value's shape; these rules check what the guide's HA
recipe needs across fields: quorum, roles per topology, addresses that must not clash, the VIP's
subnet, leader election. Paths use the YAML (camelCase) names so they match what the operator wrote.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from khatui.spec.cluster import Cluster
from khatui.spec.components import EtcdTopology, ProxyMode
from khatui.spec.loadbalancer import HAProxyKeepalived, KubeVip, vip_network
from khatui.spec.nodes import Role
from khatui.spec.problems import Problem, error, warning

Rule = Callable[[Cluster], Iterator[Problem]]
NODES = ("spec", "nodes")
LB = ("spec", "loadBalancer")
CP = ("spec", "controlPlane")


def quorum(members: int) -> tuple[int, int]:
    """(votes needed for quorum, failures tolerated) for an etcd cluster of `members`."""
    needed = members // 2 + 1
    return needed, members - needed


def quorum_text(members: int) -> str:
    """'3 members: quorum is 2, tolerates 1 failure'."""
    needed, tolerated = quorum(members)
    failures = "failure" if tolerated == 1 else "failures"
    return f"{members} members: quorum is {needed}, tolerates {tolerated} {failures}"


def _duplicates(cluster: Cluster) -> Iterator[Problem]:
    first_name: dict[str, int] = {}
    first_address: dict[str, int] = {}
    for index, node in enumerate(cluster.spec.nodes):
        if node.name in first_name:
            yield error(
                (*NODES, index, "name"), f"duplicate node name {node.name!r} (also spec.nodes[{first_name[node.name]}])"
            )
        first_name.setdefault(node.name, index)
        address = str(node.address)
        if address in first_address:
            yield error(
                (*NODES, index, "address"), f"duplicate address {address} (also spec.nodes[{first_address[address]}])"
            )
        first_address.setdefault(address, index)
        if node.address.is_unspecified or node.address.is_multicast:
            yield error((*NODES, index, "address"), f"{address} cannot be a node address")


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


def _networks(cluster: Cluster) -> Iterator[Problem]:
    cp = cluster.spec.control_plane
    pods, services = cp.pod_cidr, cp.service_cidr
    if pods.version == services.version and pods.overlaps(services):  # type: ignore[arg-type,unused-ignore]
        yield error((*CP, "serviceCIDR"), f"service CIDR {services} overlaps pod CIDR {pods}")
    if services.version == 4 and services.prefixlen < 12:
        yield error((*CP, "serviceCIDR"), f"service CIDR {services} is too large; kube-apiserver accepts at most a /12")
    if services.version == 6 and services.prefixlen < 108:
        yield error(
            (*CP, "serviceCIDR"), f"service CIDR {services} is too large; kube-apiserver accepts at most a /108"
        )
    for index, node in enumerate(cluster.spec.nodes):
        for field, net in (("podCIDR", pods), ("serviceCIDR", services)):
            if node.address in net:
                yield error(
                    (*NODES, index, "address"),
                    f"node {node.name!r} address {node.address} lies inside the {field} {net}",
                )


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
    if isinstance(lb, HAProxyKeepalived | KubeVip):
        yield from _vip(
            cluster, lb, lb_nodes if isinstance(lb, HAProxyKeepalived) else spec.with_role(Role.CONTROL_PLANE)
        )


def _vip(cluster: Cluster, lb: HAProxyKeepalived | KubeVip, holders: list[Any]) -> Iterator[Problem]:
    spec = cluster.spec
    if lb.vip_prefix_length is not None and lb.vip.version == 4 and lb.vip_prefix_length > 32:
        yield error((*LB, "vipPrefixLength"), f"/{lb.vip_prefix_length} is not an IPv4 prefix length")
        return
    for index, node in enumerate(spec.nodes):
        if node.address == lb.vip:
            yield error(
                (*LB, "vip"),
                f"the VIP {lb.vip} is the address of node {node.name!r} (spec.nodes[{index}]); it must be a free address",
            )
    network = vip_network(lb)
    outside = [n.name for n in holders if n.address.version != lb.vip.version or n.address not in network]
    if outside:
        who = "lb" if isinstance(lb, HAProxyKeepalived) else "control-plane"
        yield error(
            (*LB, "vip"),
            f"the VIP {lb.vip} is outside the subnet {network} of the {who} nodes {', '.join(outside)} that must hold it",
        )
    for field, net in (("podCIDR", spec.control_plane.pod_cidr), ("serviceCIDR", spec.control_plane.service_cidr)):
        if lb.vip in net:
            yield error((*LB, "vip"), f"the VIP {lb.vip} lies inside the {field} {net}")


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
    for index, klass in enumerate(classes):
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


RULES: tuple[Rule, ...] = (
    _duplicates,
    _roles,
    _quorum,
    _high_availability,
    _networks,
    _ports,
    _load_balancer,
    _kube_proxy,
    _persistence,
    _versions,
)


def check(cluster: Cluster) -> list[Problem]:
    """Every cross-field problem of a well-typed spec."""
    return [problem for rule in RULES for problem in rule(cluster)]
