"""Flannel, the default pod network: flannel-io/flannel's own manifest with the spec's values.

The objects follow upstream's manifest of release v0.27.4 field for field
(flannel-io/flannel@v0.27.4 Documentation/kustomization/kube-flannel/kube-flannel.yml, which the
release's kube-flannel.yml is built from); khatui changes only what the spec sets: the pod CIDR
(`Network`, or `IPv6Network` for an IPv6 cluster), the backend type, the pods' MTU (the CNI
delegate's `mtu`, which flannel's CNI plugin otherwise takes from the node's /run/flannel/subnet.env)
and nftables when kube-proxy runs in nftables mode. Upstream's JSON documents in the ConfigMap are
kept as data here and written with `json.dumps`, so no spec value is ever spliced into JSON text.
"""

from __future__ import annotations

import json
from typing import Any

from khatui.render.context import RenderContext
from khatui.spec.components import ProxyMode

VERSION = "v0.27.4"
CNI_PLUGIN_VERSION = "v1.8.0-flannel1"
IMAGE = f"ghcr.io/flannel-io/flannel:{VERSION}"
CNI_PLUGIN_IMAGE = f"ghcr.io/flannel-io/flannel-cni-plugin:{CNI_PLUGIN_VERSION}"
NAMESPACE = "kube-flannel"
LABELS = {"tier": "node", "app": "flannel"}
VXLAN_PORT = 8472
"""The UDP port of flannel's VXLAN backend (the Linux kernel's default), open between all nodes."""


def cni_conf(ctx: RenderContext) -> dict[str, Any]:
    """cni-conf.json: upstream's conflist, plus the pods' MTU when the spec sets one."""
    delegate: dict[str, Any] = {"hairpinMode": True, "isDefaultGateway": True}
    if ctx.spec.network.mtu is not None:
        delegate["mtu"] = ctx.spec.network.mtu
    return {
        "name": "cbr0",
        "cniVersion": "0.3.1",
        "plugins": [
            {"type": "flannel", "delegate": delegate},
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }


def net_conf(ctx: RenderContext) -> dict[str, Any]:
    """net-conf.json: the pod CIDR and the backend."""
    cidr = ctx.spec.control_plane.pod_cidr
    network: dict[str, Any]
    if cidr.version == 6:
        network = {"EnableIPv4": False, "EnableIPv6": True, "IPv6Network": str(cidr)}
    else:
        network = {"Network": str(cidr)}
    backend = str(ctx.spec.network.chosen_encapsulation)
    nftables = ctx.spec.kube_proxy.mode is ProxyMode.NFTABLES
    return {**network, "EnableNFTables": nftables, "Backend": {"Type": backend}}


def _rbac() -> list[dict[str, Any]]:
    rules = [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]},
        {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": [""], "resources": ["nodes/status"], "verbs": ["patch"]},
    ]
    return [
        {
            "kind": "ClusterRole",
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "metadata": {"name": "flannel"},
            "rules": rules,
        },
        {
            "kind": "ClusterRoleBinding",
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "metadata": {"name": "flannel"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "flannel"},
            "subjects": [{"kind": "ServiceAccount", "name": "flannel", "namespace": NAMESPACE}],
        },
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "flannel", "namespace": NAMESPACE}},
    ]


def config_map(ctx: RenderContext) -> dict[str, Any]:
    """kube-flannel/kube-flannel-cfg: the CNI config and flannel's network config."""
    return {
        "kind": "ConfigMap",
        "apiVersion": "v1",
        "metadata": {"name": "kube-flannel-cfg", "namespace": NAMESPACE, "labels": dict(LABELS)},
        "data": {
            "cni-conf.json": json.dumps(cni_conf(ctx), indent=2) + "\n",
            "net-conf.json": json.dumps(net_conf(ctx), indent=2) + "\n",
        },
    }


def _copy(name: str, image: str, source: str, target: str, mounts: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "name": name,
        "image": image,
        "command": ["cp"],
        "args": ["-f", source, target],
        "volumeMounts": [{"name": volume, "mountPath": path} for volume, path in mounts],
    }


def _flanneld() -> dict[str, Any]:
    field = {"POD_NAME": "metadata.name", "POD_NAMESPACE": "metadata.namespace"}
    env: list[dict[str, Any]] = [{"name": k, "valueFrom": {"fieldRef": {"fieldPath": v}}} for k, v in field.items()]
    env += [{"name": "EVENT_QUEUE_DEPTH", "value": "5000"}, {"name": "CONT_WHEN_CACHE_NOT_READY", "value": "false"}]
    mounts = [("run", "/run/flannel"), ("flannel-cfg", "/etc/kube-flannel/"), ("xtables-lock", "/run/xtables.lock")]
    return {
        "name": "kube-flannel",
        "image": IMAGE,
        "command": ["/opt/bin/flanneld"],
        "args": ["--ip-masq", "--kube-subnet-mgr"],
        "resources": {"requests": {"cpu": "100m", "memory": "50Mi"}},
        "securityContext": {"privileged": False, "capabilities": {"add": ["NET_ADMIN", "NET_RAW"]}},
        "env": env,
        "volumeMounts": [{"name": volume, "mountPath": path} for volume, path in mounts],
    }


def daemon_set() -> dict[str, Any]:
    """kube-flannel/kube-flannel-ds: flanneld on every Linux node, after copying its CNI plugin and config."""
    linux = {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]}
    host_paths = [("run", "/run/flannel"), ("cni-plugin", "/opt/cni/bin"), ("cni", "/etc/cni/net.d")]
    volumes: list[dict[str, Any]] = [{"name": name, "hostPath": {"path": path}} for name, path in host_paths]
    volumes += [
        {"name": "flannel-cfg", "configMap": {"name": "kube-flannel-cfg"}},
        {"name": "xtables-lock", "hostPath": {"path": "/run/xtables.lock", "type": "FileOrCreate"}},
    ]
    init = [
        _copy(
            "install-cni-plugin", CNI_PLUGIN_IMAGE, "/flannel", "/opt/cni/bin/flannel", [("cni-plugin", "/opt/cni/bin")]
        ),
        _copy(
            "install-cni",
            IMAGE,
            "/etc/kube-flannel/cni-conf.json",
            "/etc/cni/net.d/10-flannel.conflist",
            [("cni", "/etc/cni/net.d"), ("flannel-cfg", "/etc/kube-flannel/")],
        ),
    ]
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "kube-flannel-ds", "namespace": NAMESPACE, "labels": dict(LABELS)},
        "spec": {
            "selector": {"matchLabels": {"app": "flannel"}},
            "template": {
                "metadata": {"labels": dict(LABELS)},
                "spec": {
                    "affinity": {
                        "nodeAffinity": {
                            "requiredDuringSchedulingIgnoredDuringExecution": {
                                "nodeSelectorTerms": [{"matchExpressions": [linux]}]
                            }
                        }
                    },
                    "hostNetwork": True,
                    "priorityClassName": "system-node-critical",
                    "tolerations": [{"operator": "Exists", "effect": "NoSchedule"}],
                    "serviceAccountName": "flannel",
                    "initContainers": init,
                    "containers": [_flanneld()],
                    "volumes": volumes,
                },
            },
        },
    }


def objects(ctx: RenderContext) -> list[dict[str, Any]]:
    """Every flannel object, in upstream's order (the namespace first)."""
    namespace = {
        "kind": "Namespace",
        "apiVersion": "v1",
        "metadata": {"name": NAMESPACE, "labels": {"pod-security.kubernetes.io/enforce": "privileged"}},
    }
    return [namespace, *_rbac(), config_map(ctx), daemon_set()]
