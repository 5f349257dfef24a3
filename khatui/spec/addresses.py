"""Strict IP addresses and networks for the spec and the importers: one parser, one set of refusals.

Python's `ipaddress` (and pydantic's `IPvAnyAddress` on top of it) accepts more than a cluster can
use: an IPv6 zone ID with almost any character after `%` (`fd00::1%$(reboot)`, which then reaches
shells and env files), integers and booleans (`address: true` is 0.0.0.1), IPv4-mapped IPv6
(`::ffff:10.0.0.1`, the same host under a second spelling that defeats duplicate checks). Every
address field of the spec goes through `parse_ip`, which refuses all of them: no field of a khatui
spec needs a zone ID (a node address must be routable for etcd and the apiserver; a link-local
peer is reached through an ~/.ssh/config alias in `ssh.host`). On top of that each kind of field
refuses the addresses that cannot mean what it says (`Use`). Loopback node addresses are judged
by a rule instead, since a spec whose nodes are all on loopback is a one-machine test.

The checks return a reason (`problem`) rather than raising, so the importers can turn the same
reasons into notices naming the host.
"""

from __future__ import annotations

import ipaddress
from enum import Enum
from typing import Annotated

from pydantic import BeforeValidator, IPvAnyAddress, IPvAnyNetwork

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
LIMITED_BROADCAST = ipaddress.IPv4Address("255.255.255.255")
THIS_NETWORK = ipaddress.IPv4Network("0.0.0.0/8")


class Use(Enum):
    """What an address is for, deciding which special addresses it may be."""

    HOST = "host"
    """Somewhere khatui or the nodes connect to (ssh.host, a storage server, a SAN): any unicast address."""
    NODE = "node address"
    """A node's address on the cluster network (etcd and the apiserver listen on it)."""
    VIP = "VIP"
    """A virtual IP held by the lb nodes or the control planes."""
    LOCAL_DNS = "NodeLocal DNS address"
    """The address of the node-local DNS cache: link-local is the usual choice, loopback cannot work."""


def parse_ip(value: object) -> IP:
    """`value` as an IP address written as text; raises ValueError (zone IDs, v4-mapped, non-text refused)."""
    if isinstance(value, IP):
        address = value
    elif not isinstance(value, str):
        raise ValueError(f"an IP address is written as text like 10.0.0.11, not as a {_kind(value)}")
    elif "%" in value:
        raise ValueError("an IPv6 zone ID ('%' and an interface) is not allowed in an address")
    else:
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a valid IPv4 or IPv6 address") from None
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id is not None:
            raise ValueError("an IPv6 zone ID ('%' and an interface) is not allowed in an address")
        if address.ipv4_mapped is not None:
            raise ValueError(f"{address} is an IPv4-mapped IPv6 address; write the IPv4 address {address.ipv4_mapped}")
    return address


def problem(address: IP, use: Use) -> str | None:
    """Why `address` cannot serve as `use` (None when it can)."""
    what = use.value
    if address.is_unspecified:
        return f"{address} cannot be a {what}: it is the unspecified address"
    if address.is_multicast:
        return f"{address} cannot be a {what}: it is a multicast address"
    if address == LIMITED_BROADCAST:
        return f"{address} cannot be a {what}: it is the broadcast address"
    if isinstance(address, ipaddress.IPv4Address) and address.is_reserved:
        return f"{address} cannot be a {what}: 240.0.0.0/4 is reserved"
    if address in THIS_NETWORK:
        return f"{address} cannot be a {what}: 0.0.0.0/8 means 'this network', not a host"
    if use is Use.VIP and address.is_loopback:
        return f"{address} cannot be a {what}: it is a loopback address"
    if use is Use.LOCAL_DNS and address.is_loopback:
        return f"{address} cannot be a {what}: pods would query their own loopback"
    if use in (Use.NODE, Use.VIP) and address.is_link_local:
        return f"{address} cannot be a {what}: a link-local address is not routable between nodes"
    return None


def ip_for(value: object, use: Use) -> IP:
    """`value` parsed and checked for `use`; raises ValueError with the reason."""
    address = parse_ip(value)
    reason = problem(address, use)
    if reason is not None:
        raise ValueError(reason)
    return address


def text_problem(text: str, use: Use) -> str | None:
    """Why the text `text` is not a usable `use` address (None when it is); for the importers."""
    try:
        ip_for(text, use)
    except ValueError as exc:
        return str(exc)
    return None


def parse_network(value: object) -> Network:
    """`value` as a CIDR written as text (host bits clear); raises ValueError (zone IDs, non-text refused)."""
    if isinstance(value, Network):
        return value
    if not isinstance(value, str):
        raise ValueError(f"a CIDR is written as text like 10.96.0.0/12, not as a {_kind(value)}")
    if "%" in value:
        raise ValueError("an IPv6 zone ID ('%' and an interface) is not allowed in a CIDR")
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError:
        raise ValueError(f"{value!r} is not a valid IPv4 or IPv6 network like 10.96.0.0/12") from None
    first = network.network_address
    if first.is_loopback or first.is_multicast or first.is_unspecified or first.is_link_local:
        raise ValueError(f"{network} cannot hold pods or Services (loopback, multicast, link-local or unspecified)")
    return network


def _kind(value: object) -> str:
    return (
        "yes/no value" if isinstance(value, bool) else "number" if isinstance(value, int | float) else "list or mapping"
    )


def _check(use: Use) -> BeforeValidator:
    return BeforeValidator(lambda value: ip_for(value, use))


NodeAddress = Annotated[IPvAnyAddress, _check(Use.NODE)]
VIPAddress = Annotated[IPvAnyAddress, _check(Use.VIP)]
LocalDNSAddress = Annotated[IPvAnyAddress, _check(Use.LOCAL_DNS)]
CIDR = Annotated[IPvAnyNetwork, BeforeValidator(parse_network)]
