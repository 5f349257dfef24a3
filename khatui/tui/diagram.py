"""The small topology diagram of the load balancer step: clients -> LB -> masters -> etcd.

Drawn from the YAML-shaped answers (so it follows every keystroke, even while a field is invalid)
and, once the spec is valid, from the core's `endpoint()` so the address shown is the one every
kubelet and kube-proxy will be given.
"""

from __future__ import annotations

from typing import Any

from khatui.spec.cluster import Cluster
from khatui.spec.loadbalancer import endpoint


def _names(nodes: list[dict[str, Any]], role: str, width: int) -> str:
    names = [str(n.get("name", "?")) for n in nodes if role in (n.get("roles") or [])]
    if not names:
        return "(none yet)"
    text = ""
    for index, name in enumerate(names):
        candidate = f"{text} {name}".strip()
        rest = len(names) - index - 1
        if len(candidate) + (len(f" +{rest} more") if rest else 0) > width:
            return f"{text} +{len(names) - index} more".strip()
        text = candidate
    return text


def topology(data: dict[str, Any], cluster: Cluster | None = None, width: int = 44) -> str:
    """The diagram as text lines (at most `width` columns)."""
    spec = data.get("spec") or {}
    nodes = spec.get("nodes") or []
    lb = spec.get("loadBalancer") or {}
    mode = lb.get("mode", "?")
    api_port = (spec.get("controlPlane") or {}).get("apiPort", 6443)
    if cluster is not None:
        host, port = endpoint(cluster.spec.load_balancer, cluster.spec.control_plane.api_port)
        address = f"{host}:{port}"
    else:
        address = f"{lb.get('vip') or lb.get('address') or '?'}:{lb.get('port', 6443)}"
    inner = width - 4
    if mode == "haproxy-keepalived":
        balancer = [f"VIP {address}", f"keepalived+haproxy: {_names(nodes, 'lb', inner - 20)}"]
    elif mode == "kube-vip":
        balancer = [f"VIP {address}", "kube-vip on the control planes"]
    elif mode == "local-proxy":
        balancer = [f"{address} on every node", f"{lb.get('implementation', 'haproxy')} proxy, no VIP"]
    elif mode == "external":
        balancer = [f"LB {address}", "external (cloud / hardware)"]
    else:
        balancer = ["no load balancer chosen"]
    etcd = spec.get("etcd") or {}
    stacked = etcd.get("topology", "stacked") == "stacked"
    members = _names(nodes, "etcd", inner - 6)
    boxes = [
        ["clients: kubectl, kubelets, kube-proxy"],
        balancer,
        [f"apiservers :{api_port}", _names(nodes, "control-plane", inner)],
        [f"etcd ({'stacked on the masters' if stacked else 'external nodes'})", members],
    ]
    lines: list[str] = []
    for index, box in enumerate(boxes):
        body = [line[:inner] for line in box]
        span = max(len(line) for line in body)
        lines.append("┌" + "─" * (span + 2) + "┐")
        lines += [f"│ {line.ljust(span)} │" for line in body]
        lines.append("└" + "─" * (span + 2) + "┘")
        if index < len(boxes) - 1:
            lines.append("  │")
            lines.append("  ▼")
    return "\n".join(lines)
