"""Addresses as URLs and `host:port`: the one place that knows IPv6 hosts go in brackets.

Renderers (etcd flags, kubeadm's controlPlaneEndpoint, kubeconfigs, proxy backends) and the plan (the
API health check) all write endpoints; writing them through here keeps `[fd00::1]:6443` right everywhere.
"""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def url_host(address: str | IPAddress) -> str:
    """A host as it appears in a URL or host:port: IPv6 addresses in brackets."""
    text = str(address)
    return f"[{text}]" if ":" in text else text


def host_port(address: str | IPAddress, port: int) -> str:
    """`host:port`, with IPv6 in brackets."""
    return f"{url_host(address)}:{port}"


def https_url(address: str | IPAddress, port: int, path: str = "") -> str:
    """`https://host:port` followed by `path` (which starts with `/` when given)."""
    return f"https://{host_port(address, port)}{path}"
