"""Every certificate the cluster needs, and where each file goes, described from the spec alone.

This is a pure description (no keys, no cryptography, no disk) so the store, the certificate console,
the renderers and the plan all read the same list: one place decides that etcd member `cp1` gets a
server, a peer and a healthcheck-client certificate, and that the apiserver certificate must cover
the VIP. Every SAN carries the reason it is required, which is how a coverage warning can say
"apiserver cert lacks the VIP" rather than just "a SAN is missing".

Usages follow the guide's cfssl profiles (server: server auth; client: client auth; peer: both), with
one deliberate exception: the etcd *server* certificate uses the peer profile, because etcd's gRPC
gateway dials its own client port presenting that certificate (kubeadm issues it the same way).

Where files go is kubeadm's layout (`khatui.nodepaths`): every control plane receives the shared CAs,
the service-account key pair and its own leaves before `kubeadm init/join` runs, so kubeadm adopts
them and no `--upload-certs` (which expires after two hours) is needed. With stacked etcd kubeadm
also expects the etcd CA key on each control plane; with external etcd that key never leaves the
operator's store.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePosixPath

from khatui import nodepaths
from khatui.errors import InputError
from khatui.pki.ca_names import CAName
from khatui.spec.base import duration_hours
from khatui.spec.cluster import Cluster
from khatui.spec.components import CASource, EtcdTopology, KeyAlgorithm
from khatui.spec.loadbalancer import ExternalLB, LocalProxy, endpoint
from khatui.spec.nodes import Node, Role

FRONT_PROXY_CLIENT_CERT = nodepaths.PKI_DIR / "front-proxy-client.crt"
"""kubeadm's name; not (yet) in `khatui.nodepaths`."""
FRONT_PROXY_CLIENT_KEY = nodepaths.PKI_DIR / "front-proxy-client.key"
"""kubeadm's name; not (yet) in `khatui.nodepaths`."""
SERVICE_ACCOUNT_STEM = "ca/sa"
"""Store stem of the service-account key pair (`ca/sa.key`, `ca/sa.pub`)."""
LOOPBACK = ("localhost", "127.0.0.1", "::1")


class Profile(StrEnum):
    """Extended key usages of a leaf, named after the guide's cfssl profiles."""

    SERVER = "server"
    CLIENT = "client"
    PEER = "peer"


class LeafKind(StrEnum):
    """What a leaf certificate is for; also its file name in the store."""

    ETCD_SERVER = "etcd-server"
    ETCD_PEER = "etcd-peer"
    ETCD_HEALTHCHECK_CLIENT = "etcd-healthcheck-client"
    APISERVER = "apiserver"
    APISERVER_ETCD_CLIENT = "apiserver-etcd-client"
    FRONT_PROXY_CLIENT = "front-proxy-client"


@dataclass(frozen=True)
class SAN:
    """A subject alternative name a certificate must carry, and why (shown in coverage warnings)."""

    value: str
    why: str

    @property
    def is_ip(self) -> bool:
        """True for an IP address, False for a DNS name."""
        try:
            ipaddress.ip_address(self.value)
        except ValueError:
            return False
        return True


@dataclass(frozen=True)
class AuthoritySpec:
    """One CA: its subject and whether it is generated or imported. Stored as `<stem>.crt/.key`."""

    ca: CAName
    common_name: str
    source: CASource

    @property
    def stem(self) -> str:
        """Store path without extension, e.g. `ca/etcd`."""
        return f"ca/{self.ca.value}"


@dataclass(frozen=True)
class LeafSpec:
    """One leaf certificate of one node. Invariant: client-profile leaves carry no SANs."""

    kind: LeafKind
    node: str
    issuer: CAName
    common_name: str
    profile: Profile
    sans: tuple[SAN, ...] = ()

    @property
    def stem(self) -> str:
        """Store path without extension, e.g. `nodes/cp1/etcd-server`."""
        return f"nodes/{self.node}/{self.kind.value}"

    @property
    def label(self) -> str:
        """How the certificate is named in output: `cp1/etcd-server`."""
        return f"{self.node}/{self.kind.value}"


@dataclass(frozen=True)
class Placement:
    """A store file copied to a node: `file` (store-relative) goes to `dest`; secret files are keys."""

    node: str
    file: str
    dest: PurePosixPath
    secret: bool


@dataclass(frozen=True)
class Catalog:
    """The whole PKI of one cluster: authorities, leaves and placements, in a stable order."""

    cluster_name: str
    key_algorithm: KeyAlgorithm
    validity_hours: int
    ca_validity_hours: int
    authorities: tuple[AuthoritySpec, ...]
    leaves: tuple[LeafSpec, ...]
    placements: tuple[Placement, ...]

    def authority(self, ca: CAName) -> AuthoritySpec:
        """The spec of CA `ca`."""
        return next(a for a in self.authorities if a.ca is ca)

    def for_node(self, node: str) -> list[Placement]:
        """Files that go to `node`."""
        return [p for p in self.placements if p.node == node]

    def selectors(self) -> list[str]:
        """Values `select` accepts: CA groups, leaf kinds and node names."""
        nodes = dict.fromkeys(leaf.node for leaf in self.leaves)
        return [*(c.value for c in CAName), *(k.value for k in LeafKind), *nodes]

    def select(self, only: Sequence[str]) -> list[LeafSpec]:
        """Leaves matching any of `only` (a CA group such as `etcd`, a kind, or a node); all if empty.

        A CA group is every leaf that CA signs: `etcd` includes the apiserver-etcd-client certificates.
        """
        valid = self.selectors()
        unknown = [value for value in only if value not in valid]
        if unknown:
            raise InputError(f"--only {unknown[0]!r} matches nothing; use one of: {', '.join(valid)}")
        if not only:
            return list(self.leaves)
        wanted = set(only)
        return [leaf for leaf in self.leaves if {leaf.issuer.value, leaf.kind.value, leaf.node} & wanted]


def build_catalog(cluster: Cluster) -> Catalog:
    """The catalog of `cluster`: pure, deterministic, in spec order."""
    spec = cluster.spec
    validity = duration_hours(spec.pki.validity)
    cas = spec.pki.ca
    authorities = (
        AuthoritySpec(CAName.ETCD, "etcd-ca", cas.etcd),
        AuthoritySpec(CAName.KUBERNETES, "kubernetes", cas.kubernetes),
        AuthoritySpec(CAName.FRONT_PROXY, "front-proxy-ca", cas.front_proxy),
    )
    extra = tuple(SAN(_normal(value), "extraSANs") for value in spec.pki.extra_sans)
    leaves: list[LeafSpec] = []
    for node in spec.with_role(Role.ETCD):
        leaves += _etcd_member_leaves(node, extra)
    control_planes = spec.with_role(Role.CONTROL_PLANE)
    apiserver_common = _apiserver_sans(cluster, control_planes) + extra
    for node in control_planes:
        leaves += _control_plane_leaves(node, apiserver_common)
    placements = _placements(cluster, leaves)
    return Catalog(
        cluster.metadata.name,
        spec.pki.key_algorithm,
        validity,
        2 * validity,
        authorities,
        tuple(leaves),
        tuple(placements),
    )


def _normal(value: str) -> str:
    """IP addresses in canonical form, DNS names in lower case (both compare case-insensitively)."""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return value.lower()


def _dedupe(sans: Iterable[SAN]) -> tuple[SAN, ...]:
    seen: dict[str, SAN] = {}
    for san in sans:
        seen.setdefault(_normal(san.value), SAN(_normal(san.value), san.why))
    return tuple(seen.values())


def _node_sans(node: Node) -> tuple[SAN, ...]:
    return (
        SAN(node.name, "the node name"),
        SAN(str(node.address), "the node address"),
        *(SAN(value, "loopback") for value in LOOPBACK),
    )


def _etcd_member_leaves(node: Node, extra: tuple[SAN, ...]) -> list[LeafSpec]:
    sans = _dedupe((*_node_sans(node), *extra))
    return [
        LeafSpec(LeafKind.ETCD_SERVER, node.name, CAName.ETCD, node.name, Profile.PEER, sans),
        LeafSpec(LeafKind.ETCD_PEER, node.name, CAName.ETCD, node.name, Profile.PEER, sans),
        LeafSpec(
            LeafKind.ETCD_HEALTHCHECK_CLIENT, node.name, CAName.ETCD, "kube-etcd-healthcheck-client", Profile.CLIENT
        ),
    ]


def _apiserver_sans(cluster: Cluster, control_planes: list[Node]) -> tuple[SAN, ...]:
    """SANs every apiserver certificate needs besides the node's own: LB, masters, Service names and IP."""
    spec = cluster.spec
    lb = spec.load_balancer
    host, _port = endpoint(lb, spec.control_plane.api_port)
    if isinstance(lb, ExternalLB):
        lb_why = "the load balancer address"
    elif isinstance(lb, LocalProxy):
        lb_why = "the local proxy address"
    else:
        lb_why = "the VIP"
    service_ip = spec.control_plane.service_cidr.network_address + 1
    domain = spec.control_plane.dns_domain
    names = ("kubernetes", "kubernetes.default", "kubernetes.default.svc", f"kubernetes.default.svc.{domain}")
    return (
        SAN(host, lb_why),
        *(SAN(str(cp.address), f"control-plane {cp.name}'s address") for cp in control_planes),
        *(SAN(cp.name, f"control-plane {cp.name}'s name") for cp in control_planes),
        *(SAN(name, "the kubernetes Service name") for name in names),
        SAN(str(service_ip), "the kubernetes Service IP (first address of serviceCIDR)"),
    )


def _control_plane_leaves(node: Node, apiserver_common: tuple[SAN, ...]) -> list[LeafSpec]:
    apiserver_sans = _dedupe((*_node_sans(node), *apiserver_common))
    return [
        LeafSpec(LeafKind.APISERVER, node.name, CAName.KUBERNETES, "kube-apiserver", Profile.SERVER, apiserver_sans),
        LeafSpec(LeafKind.APISERVER_ETCD_CLIENT, node.name, CAName.ETCD, "kube-apiserver-etcd-client", Profile.CLIENT),
        LeafSpec(LeafKind.FRONT_PROXY_CLIENT, node.name, CAName.FRONT_PROXY, "front-proxy-client", Profile.CLIENT),
    ]


_LEAF_DEST: dict[LeafKind, tuple[PurePosixPath, PurePosixPath]] = {
    LeafKind.ETCD_SERVER: (nodepaths.ETCD_SERVER_CERT, nodepaths.ETCD_SERVER_KEY),
    LeafKind.ETCD_PEER: (nodepaths.ETCD_PEER_CERT, nodepaths.ETCD_PEER_KEY),
    LeafKind.ETCD_HEALTHCHECK_CLIENT: (nodepaths.ETCD_HEALTHCHECK_CERT, nodepaths.ETCD_HEALTHCHECK_KEY),
    LeafKind.APISERVER: (nodepaths.APISERVER_CERT, nodepaths.APISERVER_KEY),
    LeafKind.APISERVER_ETCD_CLIENT: (nodepaths.APISERVER_ETCD_CLIENT_CERT, nodepaths.APISERVER_ETCD_CLIENT_KEY),
    LeafKind.FRONT_PROXY_CLIENT: (FRONT_PROXY_CLIENT_CERT, FRONT_PROXY_CLIENT_KEY),
}


def _placements(cluster: Cluster, leaves: list[LeafSpec]) -> list[Placement]:
    spec = cluster.spec
    stacked = spec.etcd.topology is EtcdTopology.STACKED
    found: dict[tuple[str, PurePosixPath], Placement] = {}

    def put(node: str, file: str, dest: PurePosixPath, secret: bool) -> None:
        found.setdefault((node, dest), Placement(node, file, dest, secret))

    for node in spec.nodes:
        if node.has(Role.ETCD):
            put(node.name, "ca/etcd.crt", nodepaths.ETCD_CA_CERT, False)
        if node.has(Role.CONTROL_PLANE):
            put(node.name, "ca/kubernetes.crt", nodepaths.CA_CERT, False)
            put(node.name, "ca/kubernetes.key", nodepaths.CA_KEY, True)
            put(node.name, f"{SERVICE_ACCOUNT_STEM}.key", nodepaths.SA_KEY, True)
            put(node.name, f"{SERVICE_ACCOUNT_STEM}.pub", nodepaths.SA_PUB, False)
            put(node.name, "ca/front-proxy.crt", nodepaths.FRONT_PROXY_CA_CERT, False)
            put(node.name, "ca/front-proxy.key", nodepaths.FRONT_PROXY_CA_KEY, True)
            put(node.name, "ca/etcd.crt", nodepaths.ETCD_CA_CERT, False)
            if stacked:
                put(node.name, "ca/etcd.key", nodepaths.ETCD_CA_KEY, True)
        for leaf in leaves:
            if leaf.node == node.name:
                cert_dest, key_dest = _LEAF_DEST[leaf.kind]
                put(node.name, f"{leaf.stem}.crt", cert_dest, False)
                put(node.name, f"{leaf.stem}.key", key_dest, True)
    return list(found.values())
