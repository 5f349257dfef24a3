"""kube-vip as a static pod on every control plane: the members elect a leader through a Lease and
the leader holds the VIP (ARP), so the API address survives the loss of any master.

The VIP is added as a /32 (/128): kube-vip announces one address, it does not own the subnet, and a
host route avoids a second connected route for the subnet on the holder.

Every control plane's manifest, as rendered, mounts admin.conf: that is the steady state, put in
place after kubeadm. Only for `kubeadm init` does the first control plane run a bootstrap variant
(`bootstrap_pod`) that mounts super-admin.conf: from Kubernetes v1.29 admin.conf only gets its rights
from an RBAC binding that kubeadm creates *after* the API is reachable through the VIP — which
kube-vip has to bring up first. kube-vip's documentation then switches the pod back to admin.conf
once the cluster is up (https://kube-vip.io/docs/installation/static/, "kube-vip with k8s v1.29+"),
so super-admin.conf, which bypasses RBAC, is not mounted for ever.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from khatui import nodepaths
from khatui.render.context import RenderContext
from khatui.spec.loadbalancer import KubeVip
from khatui.spec.nodes import Node

IMAGE = "ghcr.io/kube-vip/kube-vip:v0.9.1"
MANIFEST_PATH = nodepaths.MANIFESTS_DIR / "kube-vip.yaml"


def _env(name: str, value: str) -> dict[str, str]:
    return {"name": name, "value": value}


def bootstrap_pod(ctx: RenderContext, lb: KubeVip, node: Node) -> dict[str, Any]:
    """The first control plane's pod during `kubeadm init`: super-admin.conf as its kubeconfig."""
    return static_pod(ctx, lb, node, nodepaths.SUPER_ADMIN_KUBECONFIG)


def static_pod(
    ctx: RenderContext, lb: KubeVip, node: Node, kubeconfig: PurePosixPath = nodepaths.ADMIN_KUBECONFIG
) -> dict[str, Any]:
    """The kube-vip pod for control plane `node` (admin.conf: the steady state)."""
    host_prefix = "32" if lb.vip.version == 4 else "128"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "kube-vip", "namespace": "kube-system", "labels": {"component": "kube-vip"}},
        "spec": {
            "hostNetwork": True,
            "hostAliases": [{"ip": "127.0.0.1", "hostnames": ["kubernetes"]}],
            "containers": [
                {
                    "name": "kube-vip",
                    "image": IMAGE,
                    "imagePullPolicy": "IfNotPresent",
                    "args": ["manager"],
                    "env": [
                        _env("vip_arp", "true"),
                        _env("port", str(ctx.spec.control_plane.api_port)),
                        {"name": "vip_nodename", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
                        _env("vip_interface", lb.interface),
                        _env("vip_subnet", host_prefix),
                        _env("cp_enable", "true"),
                        _env("cp_namespace", "kube-system"),
                        _env("vip_leaderelection", "true"),
                        _env("vip_leasename", "plndr-cp-lock"),
                        _env("vip_leaseduration", "5"),
                        _env("vip_renewdeadline", "3"),
                        _env("vip_retryperiod", "1"),
                        _env("address", str(lb.vip)),
                    ],
                    "securityContext": {"capabilities": {"add": ["NET_ADMIN", "NET_RAW"], "drop": ["ALL"]}},
                    "volumeMounts": [{"name": "kubeconfig", "mountPath": str(nodepaths.ADMIN_KUBECONFIG)}],
                }
            ],
            "volumes": [{"name": "kubeconfig", "hostPath": {"path": str(kubeconfig), "type": "File"}}],
        },
    }
