"""The example cluster `khatui init` writes: three stacked control planes behind haproxy+keepalived."""

from __future__ import annotations

from khatui.spec.cluster import Cluster

EXAMPLE = {
    "apiVersion": "khatui/v1",
    "kind": "Cluster",
    "metadata": {"name": "example"},
    "spec": {
        "nodes": [
            {"name": f"cp{i}", "address": f"192.168.10.1{i}", "roles": ["control-plane", "etcd"]} for i in (1, 2, 3)
        ]
        + [{"name": f"lb{i}", "address": f"192.168.10.2{i}", "roles": ["lb"]} for i in (1, 2)]
        + [{"name": "worker1", "address": "192.168.10.31", "roles": ["worker"]}],
        "loadBalancer": {"mode": "haproxy-keepalived", "vip": "192.168.10.100", "interface": "eth0"},
        "kubeProxy": {"mode": "ipvs", "ipvsScheduler": "rr"},
        "persistence": {
            "classes": [
                {"name": "nfs", "backend": "nfs", "server": "192.168.10.5", "path": "/export/k8s", "default": True}
            ]
        },
    },
}

HEADER = """\
khatui cluster spec: edit the addresses and SSH settings, then run
  khatui validate FILE     to check it
Every field is documented above it; commented-out fields are optional."""


def example_cluster() -> Cluster:
    """The example as a validated `Cluster`."""
    return Cluster.model_validate(EXAMPLE)
