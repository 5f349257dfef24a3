"""Which files each node gets: the one place that knows every renderer and picks by role.

Each component module answers for one node at a time (`node_files(ctx, node)`), and returns nothing
for nodes its component does not run on, so adding a component is one line here. Cluster-wide
objects (the pod network, kube-proxy, DNS, storage) go to the first control plane, from where the engine
applies them. Certificates and keys come from the PKI store through `PKISource` — the seam where
khatui.pki plugs in; until then `NO_PKI` adds none.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Protocol

from khatui import nodepaths
from khatui.render import containerd, dns, etcd, kubeadm, kubelet, kubeproxy, loadbalancer, network, storage
from khatui.render.context import RenderContext
from khatui.render.files import RenderedFile
from khatui.spec.cluster import Cluster
from khatui.spec.nodes import Node


class PKISource(Protocol):
    """Supplies the certificate and key files of a node (kind certificate/key, no header)."""

    def files_for(self, cluster: Cluster, node: Node) -> list[RenderedFile]:
        """Certificates and keys `node` needs, at the paths in `khatui.nodepaths`."""
        ...


class _NoPKI:
    """A PKI source with no files: rendering without certificates (review, GitOps of configs)."""

    def files_for(self, cluster: Cluster, node: Node) -> list[RenderedFile]:
        """No files."""
        return []


NO_PKI: PKISource = _NoPKI()


def node_files(
    ctx: RenderContext, node: Node, pki: PKISource = NO_PKI, etcd_existing: Collection[str] = ()
) -> list[RenderedFile]:
    """Every file of `node`, sorted by path. `etcd_existing` names members joining a running etcd."""
    state = etcd.ClusterState.EXISTING if node.name in etcd_existing else etcd.ClusterState.NEW
    files = [
        *etcd.node_files(ctx, node, state),
        *loadbalancer.node_files(ctx, node),
        *kubeadm.node_files(ctx, node),
        *containerd.node_files(ctx, node),
        *kubelet.node_files(ctx, node),
        *kubeproxy.node_files(ctx, node),
        *pki.files_for(ctx.cluster, node),
    ]
    if ctx.is_first_control_plane(node):
        files += addon_files(ctx, node)
    return sorted(files, key=lambda f: f.path)


def addon_files(ctx: RenderContext, node: Node) -> list[RenderedFile]:
    """Cluster-wide Kubernetes objects, as files on `node` (the first control plane)."""
    directory = nodepaths.ADDONS_DIR
    return [
        *network.addon_files(ctx, node, directory),
        *kubeproxy.addon_files(ctx, node, directory),
        *dns.addon_files(ctx, node, directory),
        *storage.addon_files(ctx, node, directory),
    ]


def iter_files(
    cluster: Cluster, pki: PKISource = NO_PKI, etcd_existing: Collection[str] = ()
) -> Iterator[RenderedFile]:
    """Every file of every node, node by node in spec order."""
    ctx = RenderContext.of(cluster)
    for node in cluster.spec.nodes:
        yield from node_files(ctx, node, pki, etcd_existing)


def render_cluster(
    cluster: Cluster, pki: PKISource = NO_PKI, etcd_existing: Collection[str] = ()
) -> list[RenderedFile]:
    """Every file of every node. Raises `RenderError` for a spec part khatui cannot render."""
    return list(iter_files(cluster, pki, etcd_existing))


def render_node(
    cluster: Cluster, name: str, pki: PKISource = NO_PKI, etcd_existing: Collection[str] = ()
) -> list[RenderedFile]:
    """Every file of the node called `name` (KeyError if there is none)."""
    for node in cluster.spec.nodes:
        if node.name == name:
            return node_files(RenderContext.of(cluster), node, pki, etcd_existing)
    raise KeyError(name)
