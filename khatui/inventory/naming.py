"""Names and addresses from an inventory, made to fit the spec without asking the network.

Inventory host names are free-form (`Node_1`, `node1.example.com`, `10.0.0.5`), while a spec node
name must be a DNS label, and a node address must be an IP. Names are therefore derived
deterministically (and the importer says when one changed); addresses are taken only from values
that already are IPs, because resolving a hostname here would bake today's DNS answer into the spec
on the wrong machine. What counts as an IP, and which IPs can be a node address, is the spec's own
rule (`khatui.spec.addresses`): an importer never lets through what the spec would refuse.
"""

from __future__ import annotations

import re
from pathlib import Path

from khatui.spec.addresses import Use, parse_ip, text_problem

_NOT_LABEL = re.compile(r"[^a-z0-9-]+")
_NUMERIC = re.compile(r"[0-9.]+")
_GENERIC_STEMS = {"hosts", "inventory", "config", "ssh_config", "all", "main"}
"""File names that say nothing about the cluster: its folder name is used instead."""


def is_ip(value: str) -> bool:
    """True if `value` is an IPv4 or IPv6 address as the spec accepts one (no zone ID, not v4-mapped)."""
    try:
        parse_ip(value)
    except ValueError:
        return False
    return True


def looks_like_ip(value: str) -> bool:
    """True for text meant as an IP address (digits and dots, or a ':'), valid or not."""
    return ":" in value or bool(_NUMERIC.fullmatch(value))


def node_address_problem(value: str) -> str | None:
    """Why `value` cannot be a node address (None when it can)."""
    return text_problem(value, Use.NODE)


def dns_label(text: str) -> str:
    """`text` as a DNS label: lowercase, runs of other characters turned into '-', at most 63 long.

    Returns '' when nothing usable is left.
    """
    label = _NOT_LABEL.sub("-", text.lower()).strip("-")
    return label[:63].rstrip("-")


def node_name(host: str) -> str:
    """The spec node name for an inventory host: its first DNS label, or `node-10-0-0-5` for an IP."""
    if is_ip(host):
        return "node-" + dns_label(host.replace(".", "-").replace(":", "-"))
    return dns_label(host.split(".", 1)[0]) or dns_label(host) or "node"


def cluster_name(path: str) -> str:
    """A cluster name from an inventory path: `inventory/prod-eu/hosts.yaml` -> `prod-eu`."""
    full = Path(path).absolute()
    for candidate in (full.stem, full.parent.name):
        label = dns_label(candidate)
        if label and label not in _GENERIC_STEMS:
            return label
    return "imported"
