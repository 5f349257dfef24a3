"""NodeLocal DNSCache: the upstream addon (kubernetes/kubernetes cluster/addons/dns/nodelocaldns),
with its placeholders filled from the spec the way its documentation says.

With kube-proxy in iptables mode the node cache also binds the kube-dns Service IP, so pods keep
their resolv.conf; in ipvs (and nftables) mode it cannot take that IP over, binds only its link-local
address, and the kubelet's clusterDNS points there instead (see kubelet.cluster_dns).
`__PILLAR__CLUSTER__DNS__` and `__PILLAR__UPSTREAM__SERVERS__` are left for the node-cache binary,
which fills them at start from the kube-dns-upstream Service and /etc/resolv.conf — except in
ipvs/nftables mode, where the documentation has the installer put the kube-dns IP in directly.
"""

from __future__ import annotations

from typing import Any

from khatui.quoting.lines import word
from khatui.render.context import RenderContext
from khatui.spec.components import ProxyMode

IMAGE = "registry.k8s.io/dns/k8s-dns-node-cache:1.26.4"
NAME = "node-local-dns"
NAMESPACE = "kube-system"


def _binds_service_ip(ctx: RenderContext) -> bool:
    return ctx.spec.kube_proxy.mode is ProxyMode.IPTABLES


def corefile(ctx: RenderContext) -> str:
    """The node cache's Corefile."""
    local = word(ctx.spec.dns.node_local_dns.address)
    bind = f"{local} {ctx.dns_service_ip}" if _binds_service_ip(ctx) else local
    cluster_dns = "__PILLAR__CLUSTER__DNS__" if _binds_service_ip(ctx) else ctx.dns_service_ip
    domain = word(ctx.spec.control_plane.dns_domain)
    cache_size = ctx.spec.dns.cache_size or 9984

    def _block(zone: str, cache: str, upstream: str, extra: str = "") -> str:
        return (
            f"{zone}:53 {{\n    errors\n{cache}    reload\n    loop\n    bind {bind}\n"
            f"    forward . {upstream}\n    prometheus :9253\n{extra}}}\n"
        )

    forced = f"{cluster_dns} {{\n        force_tcp\n    }}"
    sized = f"    cache {{\n        success {cache_size} 30\n        denial {cache_size} 5\n    }}\n"
    return (
        _block(domain, sized, forced, f"    health {local}:8080\n")
        + _block("in-addr.arpa", "    cache 30\n", forced)
        + _block("ip6.arpa", "    cache 30\n", forced)
        + _block(".", "    cache 30\n", "__PILLAR__UPSTREAM__SERVERS__")
    )


def _metadata(name: str, **labels: str) -> dict[str, Any]:
    return (
        {"name": name, "namespace": NAMESPACE, "labels": labels} if labels else {"name": name, "namespace": NAMESPACE}
    )


def _daemon_set(ctx: RenderContext) -> dict[str, Any]:
    local = str(ctx.spec.dns.node_local_dns.address)
    local_ips = f"{local},{ctx.dns_service_ip}" if _binds_service_ip(ctx) else local
    labels = {"k8s-app": NAME}
    ports = [("dns", 53, "UDP"), ("dns-tcp", 53, "TCP"), ("metrics", 9253, "TCP")]
    container = {
        "name": "node-cache",
        "image": IMAGE,
        "resources": {"requests": {"cpu": "25m", "memory": "5Mi"}},
        "args": ["-localip", local_ips, "-conf", "/etc/Corefile", "-upstreamsvc", "kube-dns-upstream"],
        "securityContext": {"capabilities": {"add": ["NET_ADMIN"]}},
        "ports": [{"containerPort": port, "name": name, "protocol": proto} for name, port, proto in ports],
        "livenessProbe": {
            "httpGet": {"host": local, "path": "/health", "port": 8080},
            "initialDelaySeconds": 60,
            "timeoutSeconds": 5,
        },
        "volumeMounts": [
            {"mountPath": "/run/xtables.lock", "name": "xtables-lock", "readOnly": False},
            {"name": "config-volume", "mountPath": "/etc/coredns"},
            {"name": "kube-dns-config", "mountPath": "/etc/kube-dns"},
        ],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": _metadata(NAME, **labels),
        "spec": {
            "updateStrategy": {"rollingUpdate": {"maxUnavailable": "10%"}},
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {
                    "labels": labels,
                    "annotations": {"prometheus.io/port": "9253", "prometheus.io/scrape": "true"},
                },
                "spec": {
                    "priorityClassName": "system-node-critical",
                    "serviceAccountName": NAME,
                    "hostNetwork": True,
                    "dnsPolicy": "Default",
                    "tolerations": [
                        {"key": "CriticalAddonsOnly", "operator": "Exists"},
                        {"effect": "NoExecute", "operator": "Exists"},
                        {"effect": "NoSchedule", "operator": "Exists"},
                    ],
                    "containers": [container],
                    "volumes": [
                        {"name": "xtables-lock", "hostPath": {"path": "/run/xtables.lock", "type": "FileOrCreate"}},
                        {"name": "kube-dns-config", "configMap": {"name": "kube-dns", "optional": True}},
                        {
                            "name": "config-volume",
                            "configMap": {"name": NAME, "items": [{"key": "Corefile", "path": "Corefile.base"}]},
                        },
                    ],
                },
            },
        },
    }


def objects(ctx: RenderContext) -> list[dict[str, Any]]:
    """ServiceAccount, upstream Service, ConfigMap, DaemonSet and metrics Service."""
    dns_ports = [
        {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
        {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
    ]
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _metadata(NAME)},
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": _metadata("kube-dns-upstream", **{"k8s-app": "kube-dns"}),
            "spec": {"ports": dns_ports, "selector": {"k8s-app": "kube-dns"}},
        },
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _metadata(NAME), "data": {"Corefile": corefile(ctx)}},
        _daemon_set(ctx),
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                **_metadata(NAME, **{"k8s-app": NAME}),
                "annotations": {"prometheus.io/port": "9253", "prometheus.io/scrape": "true"},
            },
            "spec": {
                "clusterIP": "None",
                "ports": [{"name": "metrics", "port": 9253, "targetPort": 9253}],
                "selector": {"k8s-app": NAME},
            },
        },
    ]
