"""The lab's network: a bridge on the host, and per node a network namespace joined to it by a veth.

Everything is driven through `ip` (iproute2) and read back with `ip -j`, so creating is idempotent
(only what is missing is made) and removal works from names alone. Veth removal is asynchronous in
the kernel: deleting the namespace is followed by an explicit `ip link del` of the host end.
"""

from __future__ import annotations

import ipaddress
import json
import os
from typing import Any

from khatui.errors import InputError, KhatuiError
from khatui_lab import layout as names
from khatui_lab.host import run
from khatui_lab.layout import LabLayout, NodePlan

NETNS_DIR = "/run/netns"


def links() -> list[dict[str, Any]]:
    """`ip -j -d link show` of the host."""
    data: list[dict[str, Any]] = json.loads(run(["ip", "-j", "-d", "link", "show"]).stdout or b"[]")
    return data


def link_names() -> set[str]:
    """Names of the host's links."""
    return {link["ifname"] for link in links()}


def netns_names() -> set[str]:
    """Names of the host's named network namespaces."""
    try:
        return set(os.listdir(NETNS_DIR))
    except FileNotFoundError:
        return set()


def check_subnet_free(layout: LabLayout) -> None:
    """`InputError` if an address on a link other than this lab's bridge lies in the lab's subnet."""
    data: list[dict[str, Any]] = json.loads(run(["ip", "-j", "addr", "show"]).stdout or b"[]")
    for link in data:
        if link.get("ifname") == layout.bridge:
            continue
        for info in link.get("addr_info", []):
            if info.get("family") != "inet":
                continue
            network = ipaddress.ip_network(f"{info['local']}/{info['prefixlen']}", strict=False)
            if network.overlaps(layout.subnet):
                raise InputError(
                    f"subnet {layout.subnet} is already in use on this host ({info['local']}/{info['prefixlen']} "
                    f"on {link['ifname']}): pick another --subnet"
                )


def ensure_bridge(layout: LabLayout) -> None:
    """Create the lab's bridge with the .1 address, or check that the existing one is this lab's."""
    found = {link["ifname"]: link for link in links()}
    bridge = found.get(layout.bridge)
    if bridge is not None and bridge.get("ifalias") != layout.bridge_alias:
        raise InputError(
            f"link {layout.bridge} exists but does not belong to lab {layout.name!r} "
            f"(alias {bridge.get('ifalias')!r}); two lab names share a hash: pick another --name"
        )
    if bridge is None:
        run(["ip", "link", "add", layout.bridge, "type", "bridge"])
        run(["ip", "link", "set", layout.bridge, "alias", layout.bridge_alias])
    cidr = f"{layout.bridge_address}/{layout.subnet.prefixlen}"
    addresses = run(["ip", "-j", "addr", "show", "dev", layout.bridge]).stdout
    if str(layout.bridge_address) not in addresses.decode():
        run(["ip", "addr", "add", cidr, "dev", layout.bridge])
    run(["ip", "link", "set", layout.bridge, "up"])


def ensure_node_network(layout: LabLayout, node: NodePlan) -> None:
    """Create the node's namespace and veth (eth0 inside, `kth...` on the bridge) when missing."""
    if node.netns not in netns_names():
        run(["ip", "netns", "add", node.netns])
    inside = run(["ip", "-n", node.netns, "-j", "link", "show"]).stdout.decode()
    if '"eth0"' not in inside:
        run(["ip", "link", "del", node.veth], check=False)
        run(["ip", "link", "add", node.veth, "type", "veth", "peer", "name", "eth0", "netns", node.netns])
    run(["ip", "link", "set", node.veth, "master", layout.bridge, "up"])
    cidr = f"{node.address}/{layout.subnet.prefixlen}"
    if str(node.address) not in run(["ip", "-n", node.netns, "-j", "addr", "show", "dev", "eth0"]).stdout.decode():
        run(["ip", "-n", node.netns, "addr", "add", cidr, "dev", "eth0"])
    run(["ip", "-n", node.netns, "link", "set", "lo", "up"])
    run(["ip", "-n", node.netns, "link", "set", "eth0", "up"])
    run(["ip", "-n", node.netns, "route", "replace", "default", "via", str(layout.bridge_address)])


def set_link(node: NodePlan, up: bool) -> None:
    """Bring the host end of the node's veth up or down (the node keeps or loses the network)."""
    if node.veth not in link_names():
        raise KhatuiError(f"node {node.name}: link {node.veth} does not exist (is the lab up?)")
    run(["ip", "link", "set", node.veth, "up" if up else "down"])


def remove_lab_network(lab: str) -> list[str]:
    """Delete every namespace, veth and the bridge of lab `lab` (found by name); returns what was removed."""
    removed = []
    pattern = names.netns_pattern(lab)
    for netns in sorted(netns_names()):
        if pattern.match(netns):
            run(["ip", "netns", "del", netns])
            removed.append(f"netns {netns}")
    prefix = f"kth{names.lab_tag(lab)}-"
    bridge = f"{prefix}br"
    for link in links():
        name = link["ifname"]
        if not name.startswith(prefix):
            continue
        if name == bridge and link.get("ifalias") != names.bridge_alias(lab):
            continue
        master = link.get("master")
        if name != bridge and master not in (None, bridge):
            continue
        # A veth may vanish on its own once its namespace is gone: that is fine.
        if run(["ip", "link", "del", name], check=False).returncode == 0:
            removed.append(f"link {name}")
    return removed
