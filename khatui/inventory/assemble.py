"""From imported nodes and settings to a complete cluster spec document, choosing what no input says.

The choices: the load balancer is the one the input describes (a `--vip` on the command line wins),
else `local-proxy` (a proxy on every node's loopback, which is also Kubespray's own default) unless
a VIP is given, then `haproxy-keepalived` on the lb nodes; etcd is `stacked` when every etcd member
is also a control plane and `external` otherwise. Settings the importer found (already accepted by
the spec's models) fill their sections. The document is plain data, not a validated model, so a
spec with problems can still be written and then fixed.
"""

from __future__ import annotations

from typing import Any

from khatui.inventory.result import ImportResult
from khatui.spec import API_VERSION, KIND
from khatui.spec.components import EtcdTopology
from khatui.spec.nodes import Role


def cluster_document(result: ImportResult, name: str, vip: str | None = None) -> dict[str, Any]:
    """The spec document (YAML key names) for the nodes and settings of `result`."""
    etcd = [node for node in result.nodes if Role.ETCD in node.roles]
    stacked = all(Role.CONTROL_PLANE in node.roles for node in etcd)
    topology = EtcdTopology.STACKED if stacked else EtcdTopology.EXTERNAL
    load_balancer: dict[str, Any] = (
        {"mode": "haproxy-keepalived", "vip": vip}
        if vip is not None
        else result.load_balancer or {"mode": "local-proxy"}
    )
    spec: dict[str, Any] = {
        "nodes": [node.to_data() for node in result.nodes],
        "etcd": {"topology": str(topology), **result.settings.get("etcd", {})},
        "loadBalancer": load_balancer,
    }
    spec.update({section: values for section, values in result.settings.items() if section != "etcd"})
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": {"name": name}, "spec": spec}
