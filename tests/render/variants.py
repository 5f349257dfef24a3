"""The specs the renderer tests run on: the three examples plus variants that reach every branch.

Between them they cover every load-balancer mode (external, haproxy-keepalived, kube-vip, local-proxy
with haproxy and with nginx), both etcd topologies and both ways to run etcd, every kube-proxy mode,
NodeLocal DNSCache under iptables and ipvs, IPv6, kubeadm v1beta3 (Kubernetes < 1.31) and v1beta4,
every storage backend that can be rendered, and every pod-network plugin and encapsulation.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import yaml

from khatui.render import RenderedFile, render_cluster
from khatui.spec.cluster import Cluster
from khatui.spec.rules import check
from tests.conftest import EXAMPLES


def _example(stem: str) -> dict[str, Any]:
    path = next(p for p in EXAMPLES if p.stem == stem)
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    return data


def _nodes(*specs: tuple[str, str, list[str]]) -> list[dict[str, Any]]:
    return [{"name": name, "address": address, "roles": roles} for name, address, roles in specs]


def _kube_vip_nftables() -> dict[str, Any]:
    """kube-vip, systemd etcd, nftables, NodeLocal DNS, the three cloud CSI drivers, containerd 2.x with
    image mirrors, flannel host-gw at MTU 1450."""
    data = _example("stacked-haproxy-ipvs-nfs")
    spec = data["spec"]
    data["metadata"]["name"] = "vip-nft"
    spec["nodes"] = [n for n in spec["nodes"] if "lb" not in n["roles"]]
    spec["etcd"] = {"topology": "stacked", "runAs": "systemd"}
    spec["loadBalancer"] = {"mode": "kube-vip", "vip": "10.20.0.100", "vipPrefixLength": 24}
    spec["kubeProxy"] = {"mode": "nftables"}
    spec["dns"] = {"replicas": 4, "memoryLimit": "1Gi", "nodeLocalDNS": {"enabled": True}}
    spec["pki"] = {"keyAlgorithm": "ecdsa-p384"}
    spec["install"] = {
        "binaries": {"containerd": "2.0.2"},
        "images": {"mirrors": {"docker.io": ["https://mirror.local", "http://10.0.0.5:5000"], "quay.io:443": []}},
    }
    spec["network"] = {"plugin": "flannel", "encapsulation": "host-gw", "mtu": 1450}
    spec["persistence"] = {
        "classes": [
            {"name": "ebs", "backend": "aws-ebs", "type": "io2", "encrypted": False, "default": True},
            {"name": "pd", "backend": "gce-pd", "replicationType": "regional-pd"},
            {"name": "azure", "backend": "azure-disk", "skuName": "Premium_LRS", "reclaimPolicy": "Retain"},
        ]
    }
    return data


def _ipv6_nginx() -> dict[str, Any]:
    """IPv6 everywhere, nginx local proxy, ipvs with the lc scheduler, NodeLocal DNS, local + iSCSI."""
    return {
        "apiVersion": "khatui/v1",
        "kind": "Cluster",
        "metadata": {"name": "six"},
        "spec": {
            "nodes": _nodes(
                ("cp1", "fd00::11", ["control-plane", "etcd"]),
                ("cp2", "fd00::12", ["control-plane", "etcd"]),
                ("cp3", "fd00::13", ["control-plane", "etcd", "worker"]),
                ("w1", "fd00::31", ["worker"]),
            ),
            "etcd": {"runAs": "static-pod", "clientPort": 12379, "peerPort": 12380},
            "controlPlane": {"kubernetesVersion": "v1.32.1", "podCIDR": "fd01::/48", "serviceCIDR": "fd02::/112"},
            "loadBalancer": {"mode": "local-proxy", "implementation": "nginx", "port": 8443},
            "kubeProxy": {"mode": "ipvs", "ipvsScheduler": "lc"},
            "dns": {"cacheSize": 0, "nodeLocalDNS": {"enabled": True, "address": "fd03::a"}},
            "persistence": {
                "classes": [
                    {"name": "fast", "backend": "local", "paths": ["/mnt/ssd1", "/mnt/ssd2"], "default": True},
                    {
                        "name": "san",
                        "backend": "iscsi",
                        "portal": "[fd00::5]",
                        "iqn": "iqn.2024-01.com.example:k8s",
                        "lun": 3,
                        "capacity": "2Ti",
                    },
                ]
            },
        },
    }


def _v1beta3_external() -> dict[str, Any]:
    """Kubernetes v1.30 (kubeadm v1beta3), static-pod etcd on etcd-only nodes, one lb node,
    iptables with NodeLocal DNS, two Ceph classes and two NFS classes."""
    data = _example("external-etcd-cloudlb-ceph")
    spec = data["spec"]
    data["metadata"]["name"] = "old-ext"
    spec["highAvailability"] = False
    spec["etcd"]["runAs"] = "static-pod"
    spec["nodes"].append({"name": "lb1", "address": "10.30.0.41", "roles": ["lb"]})
    spec["controlPlane"] = {"kubernetesVersion": "v1.30.5", "leaderElect": True, "dnsDomain": "k8s.internal"}
    spec["loadBalancer"] = {"mode": "haproxy-keepalived", "vip": "10.30.0.100", "port": 6443, "virtualRouterId": 7}
    spec["dns"] = {"nodeLocalDNS": {"enabled": True}}
    ceph = spec["persistence"]["classes"][0]
    other = copy.deepcopy(ceph) | {"name": "ceph-ssd", "default": False, "pool": "ssd", "clusterId": "other-ceph"}
    nfs = {"name": "nfs-a", "backend": "nfs", "server": "nfs.example.com", "path": "/export/a"}
    spec["persistence"]["classes"] += [
        other,
        nfs,
        nfs | {"name": "nfs-b", "path": "/export/b", "reclaimPolicy": "Retain"},
    ]
    return data


def _v129_kube_vip() -> dict[str, Any]:
    """Kubernetes v1.29, single control plane with kube-vip, kubeadm v1beta3, no pod network (network: none)."""
    return {
        "apiVersion": "khatui/v1",
        "kind": "Cluster",
        "metadata": {"name": "tiny"},
        "spec": {
            "highAvailability": False,
            "nodes": _nodes(("cp", "192.168.5.10", ["control-plane", "etcd", "worker"])),
            "controlPlane": {"kubernetesVersion": "v1.29.9"},
            "loadBalancer": {"mode": "kube-vip", "vip": "192.168.5.100", "interface": "ens3"},
            "network": {"plugin": "none"},
        },
    }


def _ipv6_haproxy() -> dict[str, Any]:
    """IPv6 haproxy + keepalived on three lb nodes, systemd etcd, iptables."""
    return {
        "apiVersion": "khatui/v1",
        "kind": "Cluster",
        "metadata": {"name": "six-lb"},
        "spec": {
            "nodes": _nodes(
                *((f"cp{i}", f"fd00::1{i}", ["control-plane", "etcd"]) for i in (1, 2, 3)),
                *((f"lb{i}", f"fd00::2{i}", ["lb"]) for i in (1, 2, 3)),
                ("w1", "fd00::31", ["worker"]),
            ),
            "controlPlane": {"podCIDR": "fd01::/48", "serviceCIDR": "fd02::/112"},
            "loadBalancer": {"mode": "haproxy-keepalived", "vip": "fd00::100", "interface": "bond0", "port": 8443},
        },
    }


VARIANT_DATA = {
    "ipv6-haproxy-keepalived": _ipv6_haproxy,
    "kube-vip-nftables": _kube_vip_nftables,
    "ipv6-nginx-ipvs": _ipv6_nginx,
    "v1beta3-external-static-pod": _v1beta3_external,
    "v129-kube-vip": _v129_kube_vip,
}


@cache
def specs() -> dict[str, Cluster]:
    """Every spec the tests render, by name (the examples under their file stem). All are error-free."""
    found = {p.stem: Cluster.model_validate(yaml.safe_load(p.read_text())) for p in EXAMPLES}
    for name, build in VARIANT_DATA.items():
        found[name] = Cluster.model_validate(build())
    for name, cluster in found.items():
        errors = [p for p in check(cluster) if p.severity == "error"]
        assert not errors, f"test spec {name} has errors: {errors}"
    return found


@cache
def rendered() -> dict[str, list[RenderedFile]]:
    """Every spec's files, by spec name."""
    return {name: render_cluster(cluster) for name, cluster in specs().items()}


def files_named(suffix: str) -> list[tuple[str, RenderedFile]]:
    """(spec name, file) for every rendered file whose path ends with `suffix`, one per distinct content."""
    seen: set[str] = set()
    found = []
    for name, files in rendered().items():
        for file in files:
            if file.path.endswith(suffix) and file.text not in seen:
                seen.add(file.text)
                found.append((name, file))
    return found


def file_id(item: tuple[str, RenderedFile]) -> str:
    """Readable pytest id: spec/node:path."""
    name, file = item
    return f"{name}/{file.node}:{file.path}"
