"""The top of the spec: `apiVersion: khatui/v1`, `kind: Cluster`.

This is the single source of truth: the wizard fills it in, `plan` renders it, `apply` executes it.
The models here only check the shape of each value; rules that relate several fields (quorum,
overlapping CIDRs, the VIP's subnet) live in `khatui.spec.rules` so they can report every problem
at once, as warnings or errors.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from khatui.spec import API_VERSION, KIND
from khatui.spec.base import Name, SpecModel
from khatui.spec.components import DNS, PKI, ControlPlane, Etcd, KubeProxy
from khatui.spec.install import Install
from khatui.spec.loadbalancer import LoadBalancer
from khatui.spec.network import Network
from khatui.spec.nodes import Node, Role
from khatui.spec.persistence import Persistence


class Metadata(SpecModel):
    """Identity of the cluster."""

    name: Name
    """Cluster name; names the PKI store and the rollout journal."""


class ClusterSpec(SpecModel):
    """The desired cluster."""

    high_availability: bool = True
    """Whether this cluster is meant to survive a node loss; khatui then warns about too few
    control planes or etcd members."""
    nodes: list[Node] = Field(min_length=1)
    """The machines."""
    etcd: Etcd = Etcd()
    """The etcd cluster."""
    pki: PKI = PKI()
    """Certificates."""
    control_plane: ControlPlane = ControlPlane()
    """kubeadm control plane."""
    load_balancer: LoadBalancer
    """How the apiservers are load balanced; `mode` is one of external (a cloud or hardware LB),
    haproxy-keepalived (haproxy on lb nodes + a VRRP VIP), kube-vip (a VIP held by the control
    planes), local-proxy (a proxy on every node's loopback)."""
    kube_proxy: KubeProxy = KubeProxy()
    """kube-proxy mode."""
    dns: DNS = DNS()
    """Cluster DNS."""
    network: Network = Network()
    """The pod network (CNI); `plugin` is one of flannel, none."""
    persistence: Persistence = Persistence()
    """Storage classes; `backend` is one of local, nfs, iscsi, glusterfs, ceph-rbd, aws-ebs,
    gce-pd, azure-disk."""
    install: Install = Install()
    """What khatui installs on the nodes (runtime, kube tools, etcd, packages) and from where."""

    def with_role(self, role: Role) -> list[Node]:
        """Nodes holding `role`, in spec order."""
        return [node for node in self.nodes if node.has(role)]


class Cluster(SpecModel):
    """A khatui cluster spec document."""

    api_version: Literal["khatui/v1"] = Field(default=API_VERSION, alias="apiVersion")
    """Spec format version."""
    kind: Literal["Cluster"] = KIND
    """Document kind."""
    metadata: Metadata
    """Cluster identity."""
    spec: ClusterSpec
    """The desired cluster."""
