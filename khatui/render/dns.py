"""Cluster DNS sized for large clusters, as the guide asks: CoreDNS with more replicas, a larger
memory limit, a bigger cache and more concurrent upstream queries, plus NodeLocal DNSCache.

kubeadm's CoreDNS addon is turned off (see render.kubeadm.addons_off): khatui applies the objects
kubeadm's addon would create (cmd/kubeadm/app/phases/addons/dns/manifests.go: ServiceAccount,
ClusterRole, ClusterRoleBinding, ConfigMap, Deployment, the kube-dns Service) itself, with the spec's
numbers, so one owner writes them. The guide's dnsmasq settings map onto CoreDNS plugins: `--cache-size` is the
cache plugin's `success`/`denial` capacity (`cache N` alone would set a *TTL* of N seconds), and
`--dns-forward-max` is forward's `max_concurrent`.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from khatui.quoting.lines import word
from khatui.render import nodelocaldns, yamltext
from khatui.render.context import RenderContext
from khatui.render.files import FileKind, RenderedFile, Stage
from khatui.spec.nodes import Node

COREDNS_IMAGE = "registry.k8s.io/coredns/coredns"
COREDNS_VERSIONS = {29: "v1.11.1", 30: "v1.11.3", 31: "v1.11.3", 32: "v1.11.3", 33: "v1.12.0", 34: "v1.12.1"}
"""The CoreDNS kubeadm installs for each Kubernetes minor; khatui keeps it when it re-applies."""
LABELS = {"k8s-app": "kube-dns"}


def coredns_image(ctx: RenderContext) -> str:
    """The CoreDNS image kubeadm uses for the spec's Kubernetes version."""
    known = min(max(ctx.minor, min(COREDNS_VERSIONS)), max(COREDNS_VERSIONS))
    return f"{COREDNS_IMAGE}:{COREDNS_VERSIONS[known]}"


def corefile(ctx: RenderContext) -> str:
    """kubeadm's Corefile with the spec's cache capacity and forward concurrency."""
    dns, domain = ctx.spec.dns, word(ctx.spec.control_plane.dns_domain)
    cache = ""
    if dns.cache_size:
        cache = f"""\
    cache 30 {{
        success {dns.cache_size}
        denial {dns.cache_size}
        disable success {domain}
        disable denial {domain}
    }}
"""
    return f"""\
.:53 {{
    errors
    health {{
        lameduck 5s
    }}
    ready
    kubernetes {domain} in-addr.arpa ip6.arpa {{
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }}
    prometheus :9153
    forward . /etc/resolv.conf {{
        max_concurrent {dns.max_concurrent}
    }}
{cache}    loop
    reload
    loadbalance
}}
"""


def config_map(ctx: RenderContext) -> dict[str, Any]:
    """kube-system/coredns."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "coredns", "namespace": "kube-system"},
        "data": {"Corefile": corefile(ctx)},
    }


def _container(ctx: RenderContext) -> dict[str, Any]:
    ports = [("dns", 53, "UDP"), ("dns-tcp", 53, "TCP"), ("metrics", 9153, "TCP")]
    ports += [("liveness-probe", 8080, "TCP"), ("readiness-probe", 8181, "TCP")]
    return {
        "name": "coredns",
        "image": coredns_image(ctx),
        "imagePullPolicy": "IfNotPresent",
        "resources": {"limits": {"memory": ctx.spec.dns.memory_limit}, "requests": {"cpu": "100m", "memory": "70Mi"}},
        "args": ["-conf", "/etc/coredns/Corefile"],
        "volumeMounts": [{"name": "config-volume", "mountPath": "/etc/coredns", "readOnly": True}],
        "ports": [{"containerPort": port, "name": name, "protocol": proto} for name, port, proto in ports],
        "livenessProbe": {
            "httpGet": {"path": "/health", "port": "liveness-probe", "scheme": "HTTP"},
            "initialDelaySeconds": 60,
            "timeoutSeconds": 5,
            "successThreshold": 1,
            "failureThreshold": 5,
        },
        "readinessProbe": {"httpGet": {"path": "/ready", "port": "readiness-probe", "scheme": "HTTP"}},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]},
            "readOnlyRootFilesystem": True,
        },
    }


def deployment(ctx: RenderContext) -> dict[str, Any]:
    """kube-system/coredns: kubeadm's Deployment with the spec's replicas and memory limit."""
    anti_affinity = {
        "weight": 100,
        "podAffinityTerm": {
            "labelSelector": {"matchExpressions": [{"key": "k8s-app", "operator": "In", "values": ["kube-dns"]}]},
            "topologyKey": "kubernetes.io/hostname",
        },
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "coredns", "namespace": "kube-system", "labels": dict(LABELS)},
        "spec": {
            "replicas": ctx.spec.dns.replicas,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
            "selector": {"matchLabels": dict(LABELS)},
            "template": {
                "metadata": {"labels": dict(LABELS)},
                "spec": {
                    "priorityClassName": "system-cluster-critical",
                    "serviceAccountName": "coredns",
                    "affinity": {
                        "podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [anti_affinity]}
                    },
                    "tolerations": [
                        {"key": "CriticalAddonsOnly", "operator": "Exists"},
                        {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"},
                    ],
                    "nodeSelector": {"kubernetes.io/os": "linux"},
                    "containers": [_container(ctx)],
                    "dnsPolicy": "Default",
                    "volumes": [
                        {
                            "name": "config-volume",
                            "configMap": {"name": "coredns", "items": [{"key": "Corefile", "path": "Corefile"}]},
                        }
                    ],
                },
            },
        },
    }


def _rbac() -> list[dict[str, Any]]:
    """The coredns ServiceAccount and its system:coredns ClusterRole and binding, as kubeadm's."""
    rules = [
        {"apiGroups": [""], "resources": ["endpoints", "services", "pods", "namespaces"], "verbs": ["list", "watch"]},
        {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["list", "watch"]},
    ]
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "coredns", "namespace": "kube-system"}},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "system:coredns"},
            "rules": rules,
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "system:coredns"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:coredns"},
            "subjects": [{"kind": "ServiceAccount", "name": "coredns", "namespace": "kube-system"}],
        },
    ]


def service(ctx: RenderContext) -> dict[str, Any]:
    """kube-system/kube-dns at the cluster DNS address (the tenth of the Service CIDR)."""
    ports = [("dns", 53, "UDP"), ("dns-tcp", 53, "TCP"), ("metrics", 9153, "TCP")]
    labels = {**LABELS, "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "CoreDNS"}
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": "kube-dns",
            "namespace": "kube-system",
            "labels": labels,
            "annotations": {"prometheus.io/port": "9153", "prometheus.io/scrape": "true"},
        },
        "spec": {
            "clusterIP": ctx.dns_service_ip,
            "ports": [{"name": n, "port": p, "protocol": proto, "targetPort": p} for n, p, proto in ports],
            "selector": dict(LABELS),
        },
    }


def objects(ctx: RenderContext) -> list[dict[str, Any]]:
    """Every CoreDNS object, in the order kubeadm creates them."""
    return [*_rbac(), config_map(ctx), deployment(ctx), service(ctx)]


def addon_files(ctx: RenderContext, node: Node, directory: PurePosixPath) -> list[RenderedFile]:
    """CoreDNS (and NodeLocal DNSCache when enabled), applied from `node`."""
    files = [
        ctx.config(
            node,
            directory / "30-coredns.yaml",
            yamltext.dump_all(objects(ctx)),
            "coredns",
            FileKind.ADDON,
            stage=Stage.AFTER_KUBEADM,
        )
    ]
    if ctx.spec.dns.node_local_dns.enabled:
        body = yamltext.dump_all(nodelocaldns.objects(ctx))
        path = directory / "31-nodelocaldns.yaml"
        files.append(ctx.config(node, path, body, "nodelocaldns", FileKind.ADDON, stage=Stage.AFTER_KUBEADM))
    return files
