"""The load balancer in front of the kube-apiservers; kubelets and kube-proxy talk only to it."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import Field

from khatui.spec.addresses import VIPAddress
from khatui.spec.base import Host, Port, SpecModel

INTERFACE = r"^[A-Za-z0-9_][A-Za-z0-9_.:@-]{0,14}$"
"""A Linux interface name: at most 15 characters, not starting with '-' or '.'."""


class ExternalLB(SpecModel):
    """A cloud or hardware load balancer that already forwards to every control plane."""

    mode: Literal["external"] = "external"
    """Load balancer kind."""
    address: Host
    """Address (IP or DNS name) of the load balancer."""
    port: Port = 6443
    """Port the load balancer listens on."""


class HAProxyKeepalived(SpecModel):
    """haproxy on the `lb` nodes, with a keepalived (VRRP) virtual IP that moves between them."""

    mode: Literal["haproxy-keepalived"] = "haproxy-keepalived"
    """Load balancer kind."""
    vip: VIPAddress
    """Virtual IP the API is reached at; must be free and in the lb nodes' subnet."""
    vip_prefix_length: int | None = Field(default=None, ge=8, le=128)
    """Prefix length of the lb nodes' subnet (24 for IPv4, 64 for IPv6 when not given)."""
    interface: str = Field(default="eth0", pattern=INTERFACE)
    """Network interface that carries the VIP on the lb nodes."""
    virtual_router_id: int = Field(default=51, ge=1, le=255)
    """VRRP virtual router id; unique on the network segment."""
    port: Port = 6443
    """Port haproxy listens on (must differ from apiPort where lb and control-plane share a node)."""
    max_connections: int = Field(default=20000, ge=100, le=1_000_000)
    """haproxy's maxconn; every connection takes two file descriptors, so the node's open-file limit
    must allow about twice this (haproxy refuses to start otherwise)."""


class KubeVip(SpecModel):
    """kube-vip as a static pod on the control planes, holding the VIP by leader election."""

    mode: Literal["kube-vip"] = "kube-vip"
    """Load balancer kind."""
    vip: VIPAddress
    """Virtual IP the API is reached at; must be free and in the control planes' subnet."""
    vip_prefix_length: int | None = Field(default=None, ge=8, le=128)
    """Prefix length of the control planes' subnet (24 for IPv4, 64 for IPv6 when not given)."""
    interface: str = Field(default="eth0", pattern=INTERFACE)
    """Network interface that carries the VIP."""


class LocalProxy(SpecModel):
    """A proxy on every node, on loopback, forwarding to all control planes (no VIP needed)."""

    mode: Literal["local-proxy"] = "local-proxy"
    """Load balancer kind."""
    implementation: Literal["haproxy", "nginx"] = "haproxy"
    """Which proxy runs on each node."""
    port: Port = 7443
    """Loopback port of the proxy on every node."""
    max_connections: int = Field(default=20000, ge=100, le=1_000_000)
    """haproxy's maxconn; every connection takes two file descriptors, so the node's open-file limit
    must allow about twice this (haproxy refuses to start otherwise)."""


LoadBalancer = Annotated[ExternalLB | HAProxyKeepalived | KubeVip | LocalProxy, Field(discriminator="mode")]


def vip_network(lb: HAProxyKeepalived | KubeVip) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """The subnet the VIP lives in, from its prefix length (default /24 or /64)."""
    default = 24 if lb.vip.version == 4 else 64
    return ipaddress.ip_network(f"{lb.vip}/{lb.vip_prefix_length or default}", strict=False)


def endpoint(lb: ExternalLB | HAProxyKeepalived | KubeVip | LocalProxy, api_port: int) -> tuple[str, int]:
    """The host and port every kubelet, kube-proxy and kubeadm's controlPlaneEndpoint use."""
    if isinstance(lb, ExternalLB):
        return lb.address, lb.port
    if isinstance(lb, HAProxyKeepalived):
        return str(lb.vip), lb.port
    if isinstance(lb, KubeVip):
        return str(lb.vip), api_port
    return "127.0.0.1", lb.port
