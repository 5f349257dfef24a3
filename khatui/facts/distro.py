"""Distribution families and the packages that give a node what its roles need, named per family.

One table, because the probe asks each node about exactly these names (a bounded query, not the
whole package database) and the `packages` phase installs the same names. A family is told by the
package manager found on the node, not by `/etc/os-release`: a derivative that ships apt-get is
installed like Debian. RHEL-family names are the capabilities dnf resolves (`conntrack` is provided
by conntrack-tools, `ebtables` and `iptables` by iptables-nft), as Kubespray's system_packages names
them; the probe asks rpm `--whatprovides` them for the same reason.
"""

from __future__ import annotations

from enum import StrEnum

from khatui.spec.cluster import Cluster
from khatui.spec.components import ProxyMode
from khatui.spec.loadbalancer import HAProxyKeepalived, LocalProxy
from khatui.spec.nodes import Node, Role


class Family(StrEnum):
    """How a node installs distribution packages."""

    DEBIAN = "debian"
    """apt-get and dpkg: Debian, Ubuntu."""
    RHEL = "rhel"
    """dnf and rpm: RHEL, Rocky, AlmaLinux, CentOS Stream, Fedora."""


MANAGER_FAMILY = {"apt-get": Family.DEBIAN, "dnf": Family.RHEL}
"""Package manager the probe finds -> its family (apt-get first: some Debian images carry dnf too)."""

NEEDS: dict[str, dict[Family, tuple[str, ...]]] = {
    "kubernetes": {
        # kubeadm's preflight looks these up in PATH (conntrack, socat, iptables, ebtables ...);
        # ipset for kube-proxy and the CNIs; curl and CA certificates for the downloads.
        Family.DEBIAN: ("conntrack", "socat", "iptables", "ebtables", "ipset", "curl", "ca-certificates"),
        Family.RHEL: ("conntrack", "socat", "iptables", "ebtables", "ipset", "curl", "ca-certificates"),
    },
    "ipvs": {Family.DEBIAN: ("ipvsadm",), Family.RHEL: ("ipvsadm",)},
    "haproxy-keepalived": {Family.DEBIAN: ("haproxy", "keepalived"), Family.RHEL: ("haproxy", "keepalived")},
    "haproxy": {Family.DEBIAN: ("haproxy",), Family.RHEL: ("haproxy",)},
    # Debian and Ubuntu build the stream module as its own package; RHEL 9's AppStream too.
    "nginx": {Family.DEBIAN: ("nginx", "libnginx-mod-stream"), Family.RHEL: ("nginx", "nginx-mod-stream")},
    "nfs": {Family.DEBIAN: ("nfs-common",), Family.RHEL: ("nfs-utils",)},
    "iscsi": {Family.DEBIAN: ("open-iscsi",), Family.RHEL: ("iscsi-initiator-utils",)},
}
"""What a node needs (`needs`) -> the packages that provide it, per family."""


def names(family: Family) -> tuple[str, ...]:
    """Every package name of `family` in the table, each once (what the probe asks about)."""
    return tuple(dict.fromkeys(name for per_family in NEEDS.values() for name in per_family[family]))


def needs(cluster: Cluster, node: Node) -> list[str]:
    """The `NEEDS` keys of what `node`'s roles and the spec need, in install order."""
    spec, found = cluster.spec, []
    kubernetes = node.has(Role.CONTROL_PLANE) or node.has(Role.WORKER)
    if kubernetes:
        found.append("kubernetes")
        if spec.kube_proxy.mode is ProxyMode.IPVS:
            found.append("ipvs")
    lb = spec.load_balancer
    if isinstance(lb, HAProxyKeepalived) and node.has(Role.LB):
        found.append("haproxy-keepalived")
    if isinstance(lb, LocalProxy) and kubernetes:
        found.append(lb.implementation)
    backends = {c.backend for c in spec.persistence.classes} if kubernetes else set()
    found += [backend for backend in ("nfs", "iscsi") if backend in backends]
    return found


def packages_for(cluster: Cluster, node: Node, family: Family) -> list[str]:
    """The distribution packages `node` needs on `family`, each once."""
    return list(dict.fromkeys(name for need in needs(cluster, node) for name in NEEDS[need][family]))
