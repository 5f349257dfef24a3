"""kubeadm's configuration: InitConfiguration + ClusterConfiguration (+ the kubelet and kube-proxy
documents) on the first control plane, JoinConfiguration on every other Kubernetes node.

API version: kubeadm.k8s.io/v1beta4 from Kubernetes v1.31 (where it became the default and
extraArgs turned into a list of {name, value}), v1beta3 below (extraArgs is a map).

etcd is always `external` to kubeadm, also in the stacked topology: khatui runs the members itself
(the guide's recipe; `spec.etcd.runAs`) before kubeadm starts, and a kubeadm-managed local etcd would
write the same /etc/kubernetes/manifests/etcd.yaml and fail its preflight on khatui's. "Stacked"
then only means the endpoints are the control planes' own addresses.

khatui renders CoreDNS and kube-proxy itself (render.dns, render.kubeproxy), so kubeadm's two addons
are off: v1beta4's `dns.disabled` / `proxy.disabled`, and on v1beta3, which has neither field,
`skipPhases: [addon/coredns, addon/kube-proxy]` in the InitConfiguration. kubeadm is then handed no
KubeProxyConfiguration either: only its kube-proxy addon would read it.

Joining nodes discover the cluster from a kubeconfig file (`discovery.file`) that the engine writes
at join time with a fresh bootstrap token: no token, hash or key ever sits in a rendered file. Every
master shares khatui's PKI, so there is no `--upload-certs` and no certificateKey.
"""

from __future__ import annotations

from typing import Any

from khatui import nodepaths
from khatui.render import kubelet, yamltext
from khatui.render.context import RenderContext
from khatui.render.files import RenderedFile
from khatui.render.urls import host_port
from khatui.spec.base import duration_hours
from khatui.spec.components import ImagePullPolicy, KeyAlgorithm
from khatui.spec.nodes import Node, Role

INIT_PATH = nodepaths.KHATUI_DIR / "kubeadm-init.yaml"
JOIN_PATH = nodepaths.KHATUI_DIR / "kubeadm-join.yaml"
V1BETA4_FROM_MINOR = 31
KUBELET_PORT = 10250
SKIPPED_ADDON_PHASES = ["addon/coredns", "addon/kube-proxy"]
"""kubeadm init's phases for the addons khatui owns (v1beta3, which has no `disabled` fields)."""
CONTROL_PLANE_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
_ENCRYPTION = {
    KeyAlgorithm.RSA_2048: "RSA-2048",
    KeyAlgorithm.RSA_3072: "RSA-3072",
    KeyAlgorithm.RSA_4096: "RSA-4096",
    KeyAlgorithm.ECDSA_P256: "ECDSA-P256",
}
"""kubeadm's names for khatui's key algorithms (ECDSA-P384 only exists from v1.34: left out)."""


def api_version(ctx: RenderContext) -> str:
    """kubeadm.k8s.io/v1beta4 for Kubernetes >= v1.31, v1beta3 below."""
    return "kubeadm.k8s.io/v1beta4" if ctx.minor >= V1BETA4_FROM_MINOR else "kubeadm.k8s.io/v1beta3"


def _v1beta4(ctx: RenderContext) -> bool:
    return ctx.minor >= V1BETA4_FROM_MINOR


def extra_args(ctx: RenderContext, args: dict[str, str]) -> list[dict[str, str]] | dict[str, str]:
    """Extra arguments in the API version's shape: a {name, value} list (v1beta4) or a map (v1beta3)."""
    if _v1beta4(ctx):
        return [{"name": name, "value": value} for name, value in args.items()]
    return dict(args)


def cert_sans(ctx: RenderContext) -> list[str]:
    """Names and addresses the apiserver certificate must carry besides kubeadm's defaults: the load
    balancer (clients verify it), every control plane, the spec's extra SANs."""
    sans: list[str] = [ctx.api_endpoint[0]]
    for node in ctx.control_planes:
        sans += [node.name, str(node.address)]
    sans += ctx.spec.pki.extra_sans
    return list(dict.fromkeys(sans))


def cluster_configuration(ctx: RenderContext) -> dict[str, Any]:
    """The cluster-wide ClusterConfiguration."""
    cp = ctx.spec.control_plane
    leader_elect = {"leader-elect": "true" if cp.leader_elect else "false"}
    host, port = ctx.api_endpoint
    config: dict[str, Any] = {
        "apiVersion": api_version(ctx),
        "kind": "ClusterConfiguration",
        "clusterName": ctx.name,
        "kubernetesVersion": cp.kubernetes_version,
        "controlPlaneEndpoint": host_port(host, port),
        "certificatesDir": str(nodepaths.PKI_DIR),
        "etcd": {
            "external": {
                "endpoints": ctx.etcd_client_urls,
                "caFile": str(nodepaths.ETCD_CA_CERT),
                "certFile": str(nodepaths.APISERVER_ETCD_CLIENT_CERT),
                "keyFile": str(nodepaths.APISERVER_ETCD_CLIENT_KEY),
            }
        },
        "networking": {
            "podSubnet": str(cp.pod_cidr),
            "serviceSubnet": str(cp.service_cidr),
            "dnsDomain": cp.dns_domain,
        },
        "apiServer": {"certSANs": cert_sans(ctx)},
        "controllerManager": {"extraArgs": extra_args(ctx, leader_elect)},
        "scheduler": {"extraArgs": extra_args(ctx, leader_elect)},
    }
    if _v1beta4(ctx):
        config["dns"] = {"disabled": True}
        config["proxy"] = {"disabled": True}
        algorithm = _ENCRYPTION.get(ctx.spec.pki.key_algorithm)
        if algorithm:
            config["encryptionAlgorithm"] = algorithm
        hours = duration_hours(ctx.spec.pki.validity)
        config["certificateValidityPeriod"] = f"{hours}h"
        config["caCertificateValidityPeriod"] = f"{2 * hours}h"
    return config


def ignored_preflight_errors(ctx: RenderContext, node: Node) -> list[str]:
    """kubeadm preflight checks that khatui's own earlier work on `node` trips on purpose.

    A static-pod etcd member is in /etc/kubernetes/manifests before kubeadm runs (a control plane's
    preflight wants etcd.yaml free, a join's the whole folder empty), and the standalone kubelet that
    runs it until then holds port 10250 (kubeadm restarts the kubelet with its own config). kube-vip
    on the first control plane trips nothing: init only checks the four control-plane manifests.
    """
    if not kubelet.runs_standalone(ctx, node):
        return []
    ignored = ["FileAvailable--etc-kubernetes-manifests-etcd.yaml"]
    if not ctx.is_first_control_plane(node):
        ignored.append("DirAvailable--etc-kubernetes-manifests")
    return [*ignored, f"Port-{KUBELET_PORT}"]


def node_registration(ctx: RenderContext, node: Node) -> dict[str, Any]:
    """How `node` registers: its name, CRI socket, taints, node IP and expected preflight errors."""
    registration: dict[str, Any] = {"name": node.name, "criSocket": kubelet.CRI_SOCKET}
    if node.has(Role.CONTROL_PLANE):
        # A control plane that is also a worker takes pods: no taint (kubeadm: an empty list).
        registration["taints"] = [] if node.has(Role.WORKER) else [dict(CONTROL_PLANE_TAINT)]
    registration["kubeletExtraArgs"] = extra_args(ctx, {"node-ip": str(node.address)})
    if ctx.spec.control_plane.image_pull_policy is not ImagePullPolicy.IF_NOT_PRESENT:
        registration["imagePullPolicy"] = str(ctx.spec.control_plane.image_pull_policy)
    ignored = ignored_preflight_errors(ctx, node)
    if ignored:
        registration["ignorePreflightErrors"] = ignored
    return registration


def _local_endpoint(ctx: RenderContext, node: Node) -> dict[str, Any]:
    return {"advertiseAddress": str(node.address), "bindPort": ctx.spec.control_plane.api_port}


def init_configuration(ctx: RenderContext, node: Node) -> dict[str, Any]:
    """The InitConfiguration of the first control plane."""
    config: dict[str, Any] = {
        "apiVersion": api_version(ctx),
        "kind": "InitConfiguration",
        "nodeRegistration": node_registration(ctx, node),
        "localAPIEndpoint": _local_endpoint(ctx, node),
    }
    if not _v1beta4(ctx):
        config["skipPhases"] = list(SKIPPED_ADDON_PHASES)
    return config


def join_configuration(ctx: RenderContext, node: Node) -> dict[str, Any]:
    """The JoinConfiguration of any other control plane or worker."""
    config: dict[str, Any] = {
        "apiVersion": api_version(ctx),
        "kind": "JoinConfiguration",
        "nodeRegistration": node_registration(ctx, node),
        "caCertPath": str(nodepaths.CA_CERT),
        "discovery": {"file": {"kubeConfigPath": str(nodepaths.DISCOVERY_KUBECONFIG)}},
    }
    if node.has(Role.CONTROL_PLANE):
        config["controlPlane"] = {"localAPIEndpoint": _local_endpoint(ctx, node)}
    return config


def init_documents(ctx: RenderContext, node: Node) -> list[dict[str, Any]]:
    """Everything `kubeadm init --config` reads, in order."""
    return [
        init_configuration(ctx, node),
        cluster_configuration(ctx),
        kubelet.configuration(ctx),
    ]


def node_files(ctx: RenderContext, node: Node) -> list[RenderedFile]:
    """kubeadm's config file on `node` (init on the first control plane, join elsewhere)."""
    if not ctx.runs_kubelet(node):
        return []
    if ctx.is_first_control_plane(node):
        body = yamltext.dump_all(init_documents(ctx, node))
        return [ctx.config(node, INIT_PATH, body, "kubeadm", mode=0o600)]
    body = yamltext.dump(join_configuration(ctx, node))
    return [ctx.config(node, JOIN_PATH, body, "kubeadm", mode=0o600)]
