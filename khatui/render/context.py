"""What every renderer needs to know about the cluster, worked out once per render.

Renderers are pure functions of (context, node). The context holds values derived from the spec
that several renderers share — the API endpoint every client uses, the etcd members, the first
control plane, the spec digest for headers — so they are computed once, not per node: a 500-node
render must stay well under two seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from khatui.render.files import FileKind, RenderedFile, Stage
from khatui.render.header import spec_digest, stamp
from khatui.render.urls import https_url
from khatui.spec.cluster import Cluster, ClusterSpec
from khatui.spec.components import EtcdTopology
from khatui.spec.loadbalancer import endpoint
from khatui.spec.nodes import Node, Role


def kubernetes_minor(version: str) -> int:
    """Minor version of a Kubernetes version string ('v1.31.4' -> 31)."""
    return int(version.lstrip("v").split(".")[1])


@dataclass(frozen=True)
class RenderContext:
    """The spec plus the values renderers derive from it. Build one with `RenderContext.of`."""

    cluster: Cluster
    digest: str
    """Short sha256 of the spec, for file headers."""
    _shared: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def of(cls, cluster: Cluster) -> RenderContext:
        """The context for `cluster`."""
        return cls(cluster, spec_digest(cluster))

    @property
    def spec(self) -> ClusterSpec:
        """The cluster's spec section."""
        return self.cluster.spec

    @property
    def name(self) -> str:
        """Cluster name."""
        return self.cluster.metadata.name

    @cached_property
    def api_endpoint(self) -> tuple[str, int]:
        """Host and port every kubelet, kube-proxy and kubeadm reach the API at (the load balancer)."""
        return endpoint(self.spec.load_balancer, self.spec.control_plane.api_port)

    @cached_property
    def api_server_url(self) -> str:
        """`https://host:port` of the load balancer."""
        host, port = self.api_endpoint
        return https_url(host, port)

    @cached_property
    def control_planes(self) -> list[Node]:
        """Control-plane nodes in spec order; the first one runs `kubeadm init`."""
        return self.spec.with_role(Role.CONTROL_PLANE)

    @cached_property
    def first_control_plane(self) -> Node | None:
        """The node that runs `kubeadm init` and applies the addons."""
        return self.control_planes[0] if self.control_planes else None

    @cached_property
    def etcd_members(self) -> list[Node]:
        """etcd members in spec order."""
        return self.spec.with_role(Role.ETCD)

    @cached_property
    def etcd_client_urls(self) -> list[str]:
        """Client URL of every member, as the apiservers reach them."""
        port = self.spec.etcd.client_port
        return [https_url(m.address, port) for m in self.etcd_members]

    @property
    def stacked(self) -> bool:
        """True when etcd runs on the control-plane nodes."""
        return self.spec.etcd.topology is EtcdTopology.STACKED

    @cached_property
    def minor(self) -> int:
        """Kubernetes minor version."""
        return kubernetes_minor(self.spec.control_plane.kubernetes_version)

    @cached_property
    def dns_service_ip(self) -> str:
        """ClusterIP of kube-dns: the 10th address of the service CIDR (kubeadm's rule)."""
        return str(self.spec.control_plane.service_cidr.network_address + 10)

    def is_first_control_plane(self, node: Node) -> bool:
        """True for the node that runs `kubeadm init`."""
        first = self.first_control_plane
        return first is not None and first.name == node.name

    def runs_kubelet(self, node: Node) -> bool:
        """True for nodes that join Kubernetes (control planes and workers)."""
        return node.has(Role.CONTROL_PLANE) or node.has(Role.WORKER)

    def shared(self, key: str, build: Callable[[], str]) -> str:
        """The text `build` makes, built once per render: for files identical on every node."""
        text = self._shared.get(key)
        if text is None:
            text = self._shared[key] = build()
        return text

    def stamped(self, body: str) -> str:
        """`body` with the khatui header."""
        return stamp(body, self.name, self.digest)

    def config(
        self,
        node: Node,
        path: object,
        body: str,
        component: str,
        kind: FileKind = FileKind.CONFIG,
        mode: int = 0o644,
        stage: Stage = Stage.BEFORE_KUBEADM,
    ) -> RenderedFile:
        """A rendered config file for `node`, header included."""
        return RenderedFile(node.name, str(path), self.stamped(body), kind, component, mode, stage=stage)
