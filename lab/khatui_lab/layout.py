"""What a lab is made of, computed from its name, subnet and node count alone (no I/O).

Every kernel object a lab creates is named from here, so `down` can find them again even when the
lab's folder is gone, and two labs with different names and subnets never collide:

- network namespace `khatui-lab-<lab>-<node>`, cgroup `<cgroup2>/khatui-lab-<lab>/<node>`;
- links `kth<tag>-<node>` (host end of a node's veth) and `kth<tag>-br` (the bridge), where `<tag>`
  is 3 hex digits of the lab name's hash: link names are at most 15 characters, so the lab name
  itself cannot be in them. The bridge carries the alias `khatui-lab:<lab>` to prove whose it is.

Roles scale with the node count (the spec must pass `khatui validate --strict`):

- 5 or more: cp1-cp3 (control-plane + etcd), lb1-lb2 (lb), then worker1, worker2, ...;
- 3 or 4: cp1-cp3 also hold the lb role (haproxy then listens on 8443, not the apiserver's 6443),
  a 4th node is worker1;
- 1 or 2: cp1 alone (control-plane + etcd + lb, highAvailability off), a 2nd node is worker1.

Addresses: the bridge gets .1, nodes .11, .12, ... and the VIP is .100 of the subnet.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass

from khatui.errors import InputError

DEFAULT_NAME = "khatui"
DEFAULT_SUBNET = "10.77.0.0/24"
DEFAULT_NODES = 5
"""What `khatui lab` brings up when given nothing."""
MIN_NODES = 1
MAX_NODES = 20
FIRST_NODE_HOST = 11
VIP_HOST = 100
BRIDGE_HOST = 1
LB_PORT_SHARED = 8443
"""haproxy's port when lb and control-plane share a node (the apiserver keeps 6443)."""
_LAB_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,28}[a-z0-9])?$")


@dataclass(frozen=True)
class NodePlan:
    """One node of a lab: its names, address and roles (spec role names)."""

    name: str
    """Hostname inside the node and node name in the spec (cp1, lb1, worker1...)."""
    address: ipaddress.IPv4Address
    """Address of the node's eth0."""
    roles: tuple[str, ...]
    """Spec roles: control-plane, etcd, lb, worker."""
    netns: str
    """Network namespace name (`ip netns`), unique per lab."""
    veth: str
    """Host end of the node's veth pair (<= 15 characters)."""


@dataclass(frozen=True)
class LabLayout:
    """Names, addresses and roles of a lab; the invariants are checked by `plan_layout`."""

    name: str
    """Lab name (a DNS label of at most 30 characters); also the cluster name in lab.yaml."""
    subnet: ipaddress.IPv4Network
    """The lab's private subnet."""
    nodes: tuple[NodePlan, ...]
    """The nodes, in spec order."""

    @property
    def tag(self) -> str:
        """Short hash of the name used in link names."""
        return lab_tag(self.name)

    @property
    def bridge(self) -> str:
        """The bridge's link name."""
        return f"kth{self.tag}-br"

    @property
    def bridge_alias(self) -> str:
        """The alias written on the bridge to mark it as this lab's."""
        return bridge_alias(self.name)

    @property
    def bridge_address(self) -> ipaddress.IPv4Address:
        """The host's address on the bridge (.1)."""
        return self.subnet.network_address + BRIDGE_HOST

    @property
    def vip(self) -> ipaddress.IPv4Address:
        """The load balancer's virtual IP (.100)."""
        return self.subnet.network_address + VIP_HOST

    @property
    def cgroup_name(self) -> str:
        """The lab's cgroup folder name, under the cgroup2 root."""
        return lab_cgroup_name(self.name)

    @property
    def shares_lb(self) -> bool:
        """True when the lb role sits on the control planes (fewer than 5 nodes)."""
        return len(self.nodes) < 5

    @property
    def high_availability(self) -> bool:
        """True when there are 3 control planes."""
        return len(self.nodes) >= 3

    def node(self, name: str) -> NodePlan:
        """The node called `name`; `InputError` when there is none."""
        for node in self.nodes:
            if node.name == name:
                return node
        names = ", ".join(n.name for n in self.nodes)
        raise InputError(f"lab {self.name!r} has no node {name!r} (nodes: {names})")


def lab_tag(name: str) -> str:
    """3 hex digits of the lab name's SHA-256: the part of link names that tells labs apart."""
    return hashlib.sha256(name.encode()).hexdigest()[:3]


def bridge_alias(name: str) -> str:
    """`khatui-lab:<name>`, the alias on the lab's bridge."""
    return f"khatui-lab:{name}"


def lab_cgroup_name(lab: str) -> str:
    """The cgroup folder of lab `lab`, under the cgroup2 root."""
    return f"khatui-lab-{lab}"


def netns_name(lab: str, node: str) -> str:
    """The network namespace of `node` in lab `lab`."""
    return f"khatui-lab-{lab}-{node}"


def netns_pattern(lab: str) -> re.Pattern[str]:
    """Matches exactly the network namespace names of lab `lab`."""
    return re.compile(rf"^khatui-lab-{re.escape(lab)}-(cp|lb|worker)[0-9]+$")


def check_name(name: str) -> str:
    """`name` if it is a usable lab name, else `InputError`."""
    if not _LAB_NAME.match(name):
        raise InputError(
            f"{name!r} is not a usable lab name: use 1-30 lowercase letters, digits and '-', "
            "starting and ending with a letter or digit"
        )
    return name


def parse_subnet(text: str) -> ipaddress.IPv4Network:
    """The lab subnet from `--subnet`; it must be IPv4 and hold the nodes and the VIP (.100)."""
    try:
        subnet = ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        raise InputError(f"--subnet {text!r}: {exc} (write it like 10.77.0.0/24)") from None
    if not isinstance(subnet, ipaddress.IPv4Network):
        raise InputError(f"--subnet {text}: the lab needs an IPv4 subnet")
    if subnet.prefixlen > 25 or subnet.prefixlen < 8:
        raise InputError(f"--subnet {text}: use a prefix between /8 and /25 (the VIP is .{VIP_HOST})")
    if not subnet.is_private:
        raise InputError(f"--subnet {text}: use a private range (e.g. 10.77.0.0/24); the lab routes it on this host")
    return subnet


def _roles(count: int) -> list[tuple[str, tuple[str, ...]]]:
    cps = 3 if count >= 3 else 1
    shared = count < 5
    plan: list[tuple[str, tuple[str, ...]]] = []
    for index in range(1, cps + 1):
        roles = ("control-plane", "etcd", "lb") if shared else ("control-plane", "etcd")
        plan.append((f"cp{index}", roles))
    if not shared:
        plan += [("lb1", ("lb",)), ("lb2", ("lb",))]
    workers = count - len(plan)
    plan += [(f"worker{index}", ("worker",)) for index in range(1, workers + 1)]
    return plan


def plan_layout(name: str, subnet: ipaddress.IPv4Network, count: int) -> LabLayout:
    """The layout of lab `name` with `count` nodes on `subnet`; `InputError` when impossible."""
    check_name(name)
    if not MIN_NODES <= count <= MAX_NODES:
        raise InputError(f"--nodes {count}: a lab has {MIN_NODES} to {MAX_NODES} nodes")
    tag = lab_tag(name)
    nodes = tuple(
        NodePlan(
            name=node,
            address=subnet.network_address + FIRST_NODE_HOST + index,
            roles=roles,
            netns=netns_name(name, node),
            veth=f"kth{tag}-{node}",
        )
        for index, (node, roles) in enumerate(_roles(count))
    )
    return LabLayout(name=name, subnet=subnet, nodes=nodes)
