"""Cross-field rules about addresses: duplicates, loopback nodes, CIDRs, the VIP's subnet, NodeLocal DNS.

Each field's own type (`khatui.spec.addresses`) already refuses what can never be right there (a
zone ID, multicast, the unspecified address); what is left needs the rest of the spec to judge: a
loopback address is fine when every node is on one machine (a test) and wrong otherwise, a
broadcast address is only known from the subnet the VIP gives, the cluster DNS address only from
the Service CIDR. Like every rule, each yields problems and never raises.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from khatui.spec.addresses import IP, Network
from khatui.spec.cluster import Cluster
from khatui.spec.loadbalancer import HAProxyKeepalived, KubeVip, vip_network
from khatui.spec.nodes import Role
from khatui.spec.problems import Problem, error, warning

NODES = ("spec", "nodes")
LB = ("spec", "loadBalancer")
CP = ("spec", "controlPlane")
DNS_OFFSET = 10
"""The cluster DNS Service gets the Service CIDR's network address + 10 (as kubeadm does; see
khatui.render.context), the `kubernetes` Service + 1."""


def duplicates(cluster: Cluster) -> Iterator[Problem]:
    """Node names and addresses appear once."""
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


def loopback(cluster: Cluster) -> Iterator[Problem]:
    """Loopback node addresses: a one-machine test when every node has one, an error otherwise."""
    nodes = cluster.spec.nodes
    on_loopback = [index for index, node in enumerate(nodes) if node.address.is_loopback]
    if on_loopback and len(on_loopback) == len(nodes):
        yield warning(
            NODES, "every node address is a loopback address: only a test with all nodes on this one machine works"
        )
        return
    for index in on_loopback:
        node = nodes[index]
        yield error(
            (*NODES, index, "address"),
            f"node {node.name!r}: {node.address} is a loopback address; the other nodes cannot reach it there",
        )


def networks(cluster: Cluster) -> Iterator[Problem]:
    """Pod and Service CIDRs: no overlap, sizes kube-apiserver accepts, room for the DNS address, no node inside."""
    cp = cluster.spec.control_plane
    pods, services = cp.pod_cidr, cp.service_cidr
    if pods.version == services.version and pods.overlaps(services):  # type: ignore[arg-type,unused-ignore]
        yield error((*CP, "serviceCIDR"), f"service CIDR {services} overlaps pod CIDR {pods}")
    largest = 12 if services.version == 4 else 108
    if services.prefixlen < largest:
        yield error(
            (*CP, "serviceCIDR"), f"service CIDR {services} is too large; kube-apiserver accepts at most a /{largest}"
        )
    smallest = 28 if services.version == 4 else 124
    if services.prefixlen > smallest:
        yield error(
            (*CP, "serviceCIDR"),
            f"service CIDR {services} is too small: the kubernetes Service takes its first address and the "
            f"cluster DNS the network address + {DNS_OFFSET}; use a /{smallest} or larger",
        )
    for index, node in enumerate(cluster.spec.nodes):
        for field, net in (("podCIDR", pods), ("serviceCIDR", services)):
            if node.address in net:
                yield error(
                    (*NODES, index, "address"),
                    f"node {node.name!r} address {node.address} lies inside the {field} {net}",
                )


def node_local_dns(cluster: Cluster) -> Iterator[Problem]:
    """The NodeLocal DNS address is no one else's: outside the CIDRs, not a node address or the VIP."""
    spec = cluster.spec
    local = spec.dns.node_local_dns
    if not local.enabled:
        return
    path = ("spec", "dns", "nodeLocalDNS", "address")
    for field, net in (("podCIDR", spec.control_plane.pod_cidr), ("serviceCIDR", spec.control_plane.service_cidr)):
        if local.address in net:
            yield error(path, f"the NodeLocal DNS address {local.address} lies inside the {field} {net}")
    taken = {str(node.address): f"the address of node {node.name!r}" for node in spec.nodes}
    if isinstance(spec.load_balancer, HAProxyKeepalived | KubeVip):
        taken[str(spec.load_balancer.vip)] = "the VIP"
    if str(local.address) in taken:
        yield error(path, f"the NodeLocal DNS address {local.address} is {taken[str(local.address)]}")


def vip(cluster: Cluster) -> Iterator[Problem]:
    """The VIP is free, a host address of the subnet of the nodes that hold it, and outside the CIDRs."""
    spec, lb = cluster.spec, cluster.spec.load_balancer
    if not isinstance(lb, HAProxyKeepalived | KubeVip):
        return
    holders = spec.with_role(Role.LB if isinstance(lb, HAProxyKeepalived) else Role.CONTROL_PLANE)
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
    reason = _not_a_host(lb.vip, network)
    if reason:
        yield error((*LB, "vip"), f"the VIP {reason}")
    for index, node in enumerate(spec.nodes):
        reason = _not_a_host(node.address, network) if node.address.version == network.version else None
        if reason:
            yield error((*NODES, index, "address"), f"node {node.name!r}: {reason}")
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


def _not_a_host(address: IP, network: Network) -> str | None:
    """'10.0.0.255 is the broadcast address of 10.0.0.0/24' when `address` is no host of `network`."""
    if address not in network:
        return None
    point_to_point = network.prefixlen >= network.max_prefixlen - 1
    if address == network.network_address and not point_to_point:
        kind = "network address" if isinstance(network, ipaddress.IPv4Network) else "subnet-router anycast address"
        return f"{address} is the {kind} of {network}, not a host address"
    if isinstance(network, ipaddress.IPv4Network) and address == network.broadcast_address and not point_to_point:
        return f"{address} is the broadcast address of {network}, not a host address"
    return None
