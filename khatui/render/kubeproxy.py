"""kube-proxy: its KubeProxyConfiguration, the kubeconfig it reaches the API with (the load
balancer, as the guide insists), and for IPVS the kernel modules and sysctls on every node.

kubeadm's kube-proxy addon is turned off (see render.kubeadm.addons_off): khatui applies what it
would create (cmd/kubeadm/app/phases/addons/proxy/manifests.go and proxy.go: the ServiceAccount, the
kubeadm:node-proxier binding, the `kube-proxy` ConfigMap of config.conf + kubeconfig.conf and the
DaemonSet mounting it at /var/lib/kube-proxy), so the one owner is khatui, the server address
kube-proxy uses is visible in review, and an edit is restored on the next rollout.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from khatui.render import yamltext
from khatui.render.context import RenderContext
from khatui.render.files import FileKind, RenderedFile, Stage
from khatui.render.kubeconfig import kubeconfig
from khatui.spec.components import IPVSScheduler, ProxyMode
from khatui.spec.nodes import Node

API_VERSION = "kubeproxy.config.k8s.io/v1alpha1"
IMAGE = "registry.k8s.io/kube-proxy"
POD_CONFIG_DIR = PurePosixPath("/var/lib/kube-proxy")
"""Where kubeadm's kube-proxy DaemonSet mounts its ConfigMap (a path inside the pod)."""
SERVICE_ACCOUNT_DIR = PurePosixPath("/var/run/secrets/kubernetes.io/serviceaccount")
MODULES_PATH = PurePosixPath("/etc/modules-load.d/khatui-ipvs.conf")
SYSCTL_PATH = PurePosixPath("/etc/sysctl.d/90-khatui-kube-proxy.conf")
IPVS_MODULES = ("ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_sh", "nf_conntrack")


def scheduler(ctx: RenderContext) -> IPVSScheduler:
    """The IPVS scheduler (rr when the spec leaves it out)."""
    return ctx.spec.kube_proxy.ipvs_scheduler or IPVSScheduler.RR


def configuration(ctx: RenderContext) -> dict[str, Any]:
    """The KubeProxyConfiguration of every node."""
    mode = ctx.spec.kube_proxy.mode
    config: dict[str, Any] = {
        "apiVersion": API_VERSION,
        "kind": "KubeProxyConfiguration",
        "clientConnection": {"kubeconfig": str(POD_CONFIG_DIR / "kubeconfig.conf")},
        "clusterCIDR": str(ctx.spec.control_plane.pod_cidr),
        "mode": str(mode),
    }
    if mode is ProxyMode.IPVS:
        config["ipvs"] = {"scheduler": str(scheduler(ctx))}
    return config


def pod_kubeconfig(ctx: RenderContext) -> dict[str, Any]:
    """kube-proxy's kubeconfig: the load balancer, authenticated by its service-account token."""
    user = {"tokenFile": str(SERVICE_ACCOUNT_DIR / "token")}
    return kubeconfig(ctx.api_server_url, str(SERVICE_ACCOUNT_DIR / "ca.crt"), "default", user, "default")


def config_map(ctx: RenderContext) -> dict[str, Any]:
    """The kube-system/kube-proxy ConfigMap kubeadm's DaemonSet reads."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "kube-proxy", "namespace": "kube-system", "labels": {"app": "kube-proxy"}},
        "data": {
            "config.conf": yamltext.dump(configuration(ctx)),
            "kubeconfig.conf": yamltext.dump(pod_kubeconfig(ctx)),
        },
    }


def _rbac() -> list[dict[str, Any]]:
    """The kube-proxy ServiceAccount bound to system:node-proxier, as kubeadm binds it."""
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "kube-proxy", "namespace": "kube-system"}},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "kubeadm:node-proxier"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:node-proxier"},
            "subjects": [{"kind": "ServiceAccount", "name": "kube-proxy", "namespace": "kube-system"}],
        },
    ]


def image(ctx: RenderContext) -> str:
    """kube-proxy's image: the cluster's Kubernetes version, as kubeadm picks it."""
    return f"{IMAGE}:{ctx.spec.control_plane.kubernetes_version}"


def daemon_set(ctx: RenderContext) -> dict[str, Any]:
    """kube-system/kube-proxy: kubeadm's DaemonSet."""
    labels = {"k8s-app": "kube-proxy"}
    container = {
        "name": "kube-proxy",
        "image": image(ctx),
        "imagePullPolicy": "IfNotPresent",
        "command": [
            "/usr/local/bin/kube-proxy",
            f"--config={POD_CONFIG_DIR}/config.conf",
            "--hostname-override=$(NODE_NAME)",
        ],
        "securityContext": {"privileged": True},
        "volumeMounts": [
            {"mountPath": str(POD_CONFIG_DIR), "name": "kube-proxy"},
            {"mountPath": "/run/xtables.lock", "name": "xtables-lock", "readOnly": False},
            {"mountPath": "/lib/modules", "name": "lib-modules", "readOnly": True},
        ],
        "env": [{"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
    }
    volumes = [
        {"name": "kube-proxy", "configMap": {"name": "kube-proxy"}},
        {"name": "xtables-lock", "hostPath": {"path": "/run/xtables.lock", "type": "FileOrCreate"}},
        {"name": "lib-modules", "hostPath": {"path": "/lib/modules"}},
    ]
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"labels": dict(labels), "name": "kube-proxy", "namespace": "kube-system"},
        "spec": {
            "selector": {"matchLabels": dict(labels)},
            "updateStrategy": {"type": "RollingUpdate"},
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": {
                    "priorityClassName": "system-node-critical",
                    "containers": [container],
                    "hostNetwork": True,
                    "serviceAccountName": "kube-proxy",
                    "volumes": volumes,
                    "tolerations": [{"operator": "Exists"}],
                    "nodeSelector": {"kubernetes.io/os": "linux"},
                },
            },
        },
    }


def objects(ctx: RenderContext) -> list[dict[str, Any]]:
    """Every kube-proxy object, in the order kubeadm creates them."""
    return [*_rbac(), config_map(ctx), daemon_set(ctx)]


def ipvs_modules(ctx: RenderContext) -> list[str]:
    """Kernel modules IPVS mode needs: the schedulers kube-proxy checks for plus the chosen one."""
    modules = list(IPVS_MODULES)
    chosen = f"ip_vs_{scheduler(ctx)}"
    if chosen not in modules:
        modules.insert(-1, chosen)
    return modules


def sysctls(ctx: RenderContext) -> list[tuple[str, str]]:
    """Kernel settings of a Kubernetes node: forwarding always (kubeadm's preflight requires it),
    plus IPVS's in IPVS mode (loaded after the modules by systemd-sysctl)."""
    settings = [("net.ipv4.ip_forward", "1")]
    if ctx.spec.control_plane.pod_cidr.version == 6:
        settings.append(("net.ipv6.conf.all.forwarding", "1"))
    if ctx.spec.kube_proxy.mode is not ProxyMode.IPVS:
        return settings
    settings += [
        ("net.ipv4.vs.conntrack", "1"),
        ("net.ipv4.vs.conn_reuse_mode", "0"),
        ("net.ipv4.vs.expire_nodest_conn", "1"),
        ("net.ipv4.vs.expire_quiescent_template", "1"),
    ]
    return settings


def node_files(ctx: RenderContext, node: Node) -> list[RenderedFile]:
    """The sysctl file on every Kubernetes node, and the IPVS modules file in IPVS mode."""
    if not ctx.runs_kubelet(node):
        return []
    settings = "".join(f"{key} = {value}\n" for key, value in sysctls(ctx))
    files = [ctx.config(node, SYSCTL_PATH, settings, "kube-proxy")]
    if ctx.spec.kube_proxy.mode is ProxyMode.IPVS:
        modules = "".join(f"{m}\n" for m in ipvs_modules(ctx))
        files.append(ctx.config(node, MODULES_PATH, modules, "kube-proxy"))
    return files


def addon_files(ctx: RenderContext, node: Node, directory: PurePosixPath) -> list[RenderedFile]:
    """kube-proxy's objects, applied from `node` (the first control plane)."""
    body = yamltext.dump_all(objects(ctx))
    return [
        ctx.config(
            node, directory / "20-kube-proxy.yaml", body, "kube-proxy", FileKind.ADDON, stage=Stage.AFTER_KUBEADM
        )
    ]
