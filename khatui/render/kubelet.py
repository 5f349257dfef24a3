"""The kubelet: its cluster-wide KubeletConfiguration, its kubeconfig (server = load balancer), and
the standalone kubelet that runs static-pod etcd on nodes outside Kubernetes.

The KubeletConfiguration travels inside kubeadm's init config (kubeadm stores it in the
kubelet-config ConfigMap that every joining node reads), so it is not a node file of its own. The
kubeconfig is: kubeadm writes /etc/kubernetes/kubelet.conf during join (and refuses to join if it
already exists), so it is staged after kubeadm, where it pins the server to the load balancer.

With `etcd.runAs: static-pod` every etcd node needs a kubelet before any API server exists (etcd
must have quorum before `kubeadm init`). It gets kubeadm's "etcd service manager" setup — a kubelet
with only a static-pod path, no API server, bound to loopback — as a config file plus a drop-in for
kubeadm's kubelet.service. On an external etcd node that stays; on a stacked control plane the engine
removes it right before kubeadm, whose kubelet then keeps running the same etcd manifest.

When khatui installs the nodes (`spec.install.enabled`) it also writes kubelet.service and kubeadm's
10-kubeadm.conf as the official packages ship them, for the kubelet binary it installs: they are in
place before kubeadm, whose kubelet-start phase restarts the kubelet with its own flags.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from khatui import nodepaths
from khatui.quoting import systemd
from khatui.render import yamltext
from khatui.render.context import RenderContext
from khatui.render.files import FileKind, RenderedFile, Stage
from khatui.render.kubeconfig import kubeconfig
from khatui.spec.components import EtcdRunAs, ProxyMode
from khatui.spec.nodes import Node, Role

API_VERSION = "kubelet.config.k8s.io/v1beta1"
CRI_SOCKET = "unix:///var/run/containerd/containerd.sock"
CGROUP_DRIVER = "systemd"
"""The kubelet's cgroup driver; the container runtime must use the same (preflight checks it)."""
UNIT_PATH = PurePosixPath("/etc/systemd/system/kubelet.service")
KUBEADM_DROPIN = PurePosixPath("/etc/systemd/system/kubelet.service.d/10-kubeadm.conf")
"""kubeadm's drop-in, under the name its package gives it (one in /etc replaces a packaged one)."""
STANDALONE_DROPIN = PurePosixPath("/etc/systemd/system/kubelet.service.d/20-khatui-standalone.conf")
STANDALONE_CONFIG = nodepaths.KHATUI_DIR / "kubelet-standalone.yaml"
KUBELET_BINARY = "/usr/bin/kubelet"


def cluster_dns(ctx: RenderContext) -> list[str]:
    """Where pods send DNS queries: NodeLocal DNSCache's address when it cannot take over the
    kube-dns IP (kube-proxy in ipvs or nftables mode), else the kube-dns Service IP."""
    local = ctx.spec.dns.node_local_dns
    if local.enabled and ctx.spec.kube_proxy.mode is not ProxyMode.IPTABLES:
        return [str(local.address)]
    return [ctx.dns_service_ip]


def configuration(ctx: RenderContext) -> dict[str, Any]:
    """The KubeletConfiguration every Kubernetes node uses."""
    return {
        "apiVersion": API_VERSION,
        "kind": "KubeletConfiguration",
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": str(nodepaths.CA_CERT)},
        },
        "authorization": {"mode": "Webhook"},
        "cgroupDriver": CGROUP_DRIVER,
        "clusterDNS": cluster_dns(ctx),
        "clusterDomain": ctx.spec.control_plane.dns_domain,
        "containerRuntimeEndpoint": CRI_SOCKET,
        "rotateCertificates": True,
        "staticPodPath": str(nodepaths.MANIFESTS_DIR),
    }


def standalone_configuration() -> dict[str, Any]:
    """The KubeletConfiguration of a kubelet that only runs static pods (no API server)."""
    return {
        "apiVersion": API_VERSION,
        "kind": "KubeletConfiguration",
        "address": "127.0.0.1",
        "authentication": {"anonymous": {"enabled": False}, "webhook": {"enabled": False}},
        "authorization": {"mode": "AlwaysAllow"},
        "cgroupDriver": CGROUP_DRIVER,
        "containerRuntimeEndpoint": CRI_SOCKET,
        "staticPodPath": str(nodepaths.MANIFESTS_DIR),
    }


def standalone_dropin() -> str:
    """Drop-in replacing kubeadm's kubelet command line with the standalone one."""
    return f"""\
[Service]
ExecStart=
ExecStart={systemd.exec_line([KUBELET_BINARY, f"--config={STANDALONE_CONFIG}"])}
Restart=always
"""


def unit() -> str:
    """kubelet.service as the official kubelet package ships it (kubernetes/release
    cmd/krel/templates/latest/kubelet/kubelet.service). Without the deb's former
    ConditionPathExists=/var/lib/kubelet/config.yaml: a static-pod etcd member's kubelet runs before
    kubeadm writes that file."""
    return f"""\
[Unit]
Description=kubelet: The Kubernetes Node Agent
Documentation=https://kubernetes.io/docs/
Wants=network-online.target
After=network-online.target

[Service]
ExecStart={systemd.exec_line([KUBELET_BINARY])}
Restart=always
StartLimitInterval=0
RestartSec=10

[Install]
WantedBy=multi-user.target
"""


def kubeadm_dropin() -> str:
    """10-kubeadm.conf as the official kubeadm package ships it (kubernetes/release
    cmd/krel/templates/latest/kubeadm/10-kubeadm.conf): kubeadm's flags and config file for the
    kubelet. Both the deb's /etc/default/kubelet and the rpm's /etc/sysconfig/kubelet are read (each
    optional), so one file serves every distribution family."""
    kubelet = systemd.exec_line([KUBELET_BINARY])
    return f"""\
# Note: This dropin only works with kubeadm and kubelet v1.11+
[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
# This is a file that "kubeadm init" and "kubeadm join" generates at runtime, populating the KUBELET_KUBEADM_ARGS variable dynamically
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
# This is a file that the user can use for overrides of the kubelet args as a last resort. Preferably, the user should use
# the .NodeRegistration.KubeletExtraArgs object in the configuration files instead. KUBELET_EXTRA_ARGS should be sourced from this file.
EnvironmentFile=-/etc/default/kubelet
EnvironmentFile=-/etc/sysconfig/kubelet
ExecStart=
ExecStart={kubelet} $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
"""


def kubelet_kubeconfig(ctx: RenderContext) -> dict[str, Any]:
    """The kubelet's kubeconfig: the load balancer, its rotating client certificate."""
    cert = str(nodepaths.KUBELET_CLIENT_CERT)
    user = {"client-certificate": cert, "client-key": cert}
    return kubeconfig(ctx.api_server_url, str(nodepaths.CA_CERT), "default-auth", user, "default-cluster")


def runs_standalone(ctx: RenderContext, node: Node) -> bool:
    """True when `node` needs a standalone kubelet: it runs etcd as a static pod."""
    return node.has(Role.ETCD) and ctx.spec.etcd.run_as is EtcdRunAs.STATIC_POD


def installs_kubelet(ctx: RenderContext, node: Node) -> bool:
    """True when khatui installs a kubelet (and its container runtime) on `node`: install is on and the
    node joins Kubernetes or runs static-pod etcd."""
    return ctx.spec.install.enabled and (ctx.runs_kubelet(node) or runs_standalone(ctx, node))


def node_files(ctx: RenderContext, node: Node) -> list[RenderedFile]:
    """The kubelet files of `node`."""
    files = []
    if installs_kubelet(ctx, node):
        files += [
            ctx.config(node, UNIT_PATH, ctx.shared("kubelet-unit", unit), "kubelet-unit", FileKind.UNIT),
            ctx.config(
                node, KUBEADM_DROPIN, ctx.shared("kubeadm-dropin", kubeadm_dropin), "kubelet-unit", FileKind.UNIT
            ),
        ]
    if runs_standalone(ctx, node):
        # On a Kubernetes node the standalone kubelet only bridges the time until kubeadm's own.
        stage = Stage.UNTIL_KUBEADM if ctx.runs_kubelet(node) else Stage.BEFORE_KUBEADM
        config = ctx.shared("kubelet-standalone", lambda: yamltext.dump(standalone_configuration()))
        files += [
            ctx.config(node, STANDALONE_CONFIG, config, "kubelet", stage=stage),
            ctx.config(node, STANDALONE_DROPIN, standalone_dropin(), "kubelet", FileKind.UNIT, stage=stage),
        ]
    if ctx.runs_kubelet(node):
        body = ctx.shared("kubelet-kubeconfig", lambda: yamltext.dump(kubelet_kubeconfig(ctx)))
        files.append(
            ctx.config(node, nodepaths.KUBELET_KUBECONFIG, body, "kubelet", mode=0o600, stage=Stage.AFTER_KUBEADM)
        )
    return files
