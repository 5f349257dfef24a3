"""Which node gets which file, with which mode and stage, and the rules that span files: one default
StorageClass, addons only on the first control plane, IPVS module and sysctl files, the etcd
`existing` variant, the PKI seam, refusing GlusterFS."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import PurePosixPath
from typing import Any

import pytest
import yaml

from khatui import nodepaths
from khatui.render import NO_PKI, FileKind, RenderedFile, RenderError, Stage, render_cluster, render_node
from khatui.render.context import RenderContext
from khatui.render.kubelet import cluster_dns
from khatui.render.kubeproxy import MODULES_PATH, SYSCTL_PATH
from khatui.render.storage import DEFAULT_ANNOTATION
from khatui.spec.cluster import Cluster
from khatui.spec.loadbalancer import ExternalLB, HAProxyKeepalived, KubeVip, LocalProxy
from khatui.spec.nodes import Node, Role
from tests.render.variants import VARIANT_DATA, rendered, specs

SPEC_NAMES = sorted(specs())


def _by_node(name: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {n.name: set() for n in specs()[name].spec.nodes}
    for file in rendered()[name]:
        found[file.node].add(file.path)
    return found


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_paths_modes_and_uniqueness(name: str) -> None:
    files = rendered()[name]
    assert len({(f.node, f.path) for f in files}) == len(files), "a node got two files at one path"
    for file in files:
        assert PurePosixPath(file.path).is_absolute() and ".." not in file.path
        assert file.mode & ~0o777 == 0 and file.owner == "root:root"
        if file.kind is FileKind.SCRIPT:
            assert file.mode == 0o755
        elif file.kind is FileKind.UNIT:
            assert file.mode == 0o644, file.path  # as systemd's own units (10-kubeadm.conf as its package has it)
        elif file.path.endswith((".conf", ".yaml", ".env")) and ("kubeadm" in file.path or "kubelet.conf" in file.path):
            assert file.mode == 0o600, file.path
        assert file.text.endswith("\n")


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_files_per_role(name: str) -> None:
    cluster = specs()[name]
    ctx = RenderContext.of(cluster)
    lb = cluster.spec.load_balancer
    for node in cluster.spec.nodes:
        paths = _by_node(name)[node.name]
        etcd = {"/etc/systemd/system/etcd.service", "/etc/kubernetes/manifests/etcd.yaml"} & paths
        assert len(etcd) == node.has(Role.ETCD)
        kube = node.has(Role.CONTROL_PLANE) or node.has(Role.WORKER)
        assert (str(nodepaths.KUBELET_KUBECONFIG) in paths) == kube
        assert ("/etc/keepalived/keepalived.conf" in paths) == (isinstance(lb, HAProxyKeepalived) and node.has(Role.LB))
        assert ("/etc/kubernetes/manifests/kube-vip.yaml" in paths) == (
            isinstance(lb, KubeVip) and node.has(Role.CONTROL_PLANE)
        )
        local_proxy = isinstance(lb, LocalProxy) and kube
        proxy_files = {"/etc/haproxy/haproxy.cfg", "/etc/nginx/nginx.conf"} & paths
        if isinstance(lb, ExternalLB | KubeVip):
            assert not proxy_files
        elif isinstance(lb, LocalProxy):
            assert len(proxy_files) == local_proxy
        addons = {p for p in paths if p.startswith(str(nodepaths.ADDONS_DIR))}
        assert bool(addons) == ctx.is_first_control_plane(node)


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_exactly_the_default_class_is_annotated(name: str) -> None:
    classes = specs()[name].spec.persistence.classes
    annotated = []
    for file in rendered()[name]:
        for doc in yaml.safe_load_all(file.text) if file.kind is FileKind.ADDON else []:
            annotations = doc["metadata"].get("annotations", {}) if doc else {}
            if doc and doc["kind"] == "StorageClass" and annotations.get(DEFAULT_ANNOTATION) == "true":
                annotated.append(doc["metadata"]["name"])
    assert annotated == [k.name for k in classes if k.default]
    assert len(annotated) == (1 if classes else 0)


def test_ceph_secrets_are_references_only() -> None:
    text = "\n".join(f.text for f in rendered()["external-etcd-cloudlb-ceph"])
    assert "csi.storage.k8s.io/provisioner-secret-name: csi-rbd-secret" in text
    assert "csi.storage.k8s.io/node-stage-secret-namespace: ceph-csi-rbd" in text
    docs = [
        d
        for f in rendered()["external-etcd-cloudlb-ceph"]
        if f.kind is FileKind.ADDON
        for d in yaml.safe_load_all(f.text)
    ]
    assert not [d for d in docs if d and d["kind"] == "Secret"]


def test_local_volumes_pinned_to_workers() -> None:
    name = "ipv6-nginx-ipvs"
    workers = [n.name for n in specs()[name].spec.with_role(Role.WORKER)]
    docs = [d for f in rendered()[name] if f.kind is FileKind.ADDON for d in yaml.safe_load_all(f.text)]
    local = [d for d in docs if d and d["kind"] == "PersistentVolume" and "local" in d["spec"]]
    assert len(local) == 2 * len(workers)
    pinned = [
        d["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"][0]["values"] for d in local
    ]
    assert sorted(v[0] for v in pinned) == sorted(workers * 2)
    iscsi = next(d for d in docs if d and d["kind"] == "PersistentVolume" and "iscsi" in d["spec"])
    assert iscsi["spec"]["iscsi"]["targetPortal"] == "[fd00::5]:3260"
    assert iscsi["spec"]["capacity"] == {"storage": "2Ti"}
    assert {d["spec"]["capacity"]["storage"] for d in local} == {"100Gi"}  # the default


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_ipvs_node_files(name: str) -> None:
    cluster = specs()[name]
    ipvs = cluster.spec.kube_proxy.mode == "ipvs"
    for file in rendered()[name]:
        if file.path == str(MODULES_PATH):
            body = [line for line in file.text.splitlines() if not line.startswith("#")]
            assert {"ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_sh", "nf_conntrack"} <= set(body)
            assert f"ip_vs_{cluster.spec.kube_proxy.ipvs_scheduler or 'rr'}" in body
        if file.path == str(SYSCTL_PATH):
            body = [line for line in file.text.splitlines() if not line.startswith("#")]
            assert all(re.fullmatch(r"[a-z0-9_.]+ = [0-9]+", line) for line in body), body
            assert "net.ipv4.ip_forward = 1" in body
    kube_nodes = {n.name for n in cluster.spec.nodes if n.has(Role.CONTROL_PLANE) or n.has(Role.WORKER)}
    with_modules = {f.node for f in rendered()[name] if f.path == str(MODULES_PATH)}
    with_sysctls = {f.node for f in rendered()[name] if f.path == str(SYSCTL_PATH)}
    assert with_modules == (kube_nodes if ipvs else set())
    assert with_sysctls == kube_nodes  # forwarding is on for every mode: kubeadm's preflight requires it


def test_cluster_dns_follows_node_local_dns_and_proxy_mode() -> None:
    assert cluster_dns(RenderContext.of(specs()["stacked-haproxy-ipvs-nfs"])) == ["10.96.0.10"]
    assert cluster_dns(RenderContext.of(specs()["ipv6-nginx-ipvs"])) == ["fd03::a"]
    assert cluster_dns(RenderContext.of(specs()["kube-vip-nftables"])) == ["169.254.20.10"]
    assert cluster_dns(RenderContext.of(specs()["v1beta3-external-static-pod"])) == ["10.96.0.10"]


def test_corefile_uses_cache_capacity_and_max_concurrent() -> None:
    coredns = next(f for f in rendered()["stacked-haproxy-ipvs-nfs"] if f.path.endswith("30-coredns.yaml"))
    by_kind = {d["kind"]: d for d in yaml.safe_load_all(coredns.text) if d}
    config_map, deployment = by_kind["ConfigMap"], by_kind["Deployment"]
    corefile = config_map["data"]["Corefile"]
    assert "success 10000\n" in corefile and "denial 10000\n" in corefile
    assert "forward . /etc/resolv.conf {\n        max_concurrent 1000\n    }" in corefile
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] == "512Mi"
    no_cache = next(f for f in rendered()["ipv6-nginx-ipvs"] if f.path.endswith("30-coredns.yaml"))
    no_cache_map = next(d for d in yaml.safe_load_all(no_cache.text) if d and d["kind"] == "ConfigMap")
    assert "    cache" not in no_cache_map["data"]["Corefile"]


def test_stages() -> None:
    files = rendered()["stacked-haproxy-ipvs-nfs"]
    stage = {(f.node, PurePosixPath(f.path).name): f.stage for f in files}
    assert stage[("cp1", "etcd.yaml")] is Stage.BEFORE_KUBEADM
    assert stage[("cp2", "20-khatui-standalone.conf")] is Stage.UNTIL_KUBEADM
    assert stage[("cp1", "kubelet.conf")] is Stage.AFTER_KUBEADM
    assert all(f.stage is Stage.AFTER_KUBEADM for f in files if f.kind is FileKind.ADDON)
    external = {(f.node, PurePosixPath(f.path).name): f.stage for f in rendered()["v1beta3-external-static-pod"]}
    assert external[("etcd1", "20-khatui-standalone.conf")] is Stage.BEFORE_KUBEADM
    vip = {(f.node, PurePosixPath(f.path).name): f.stage for f in rendered()["kube-vip-nftables"]}
    assert vip[("cp1", "kube-vip.yaml")] is Stage.AFTER_KUBEADM and vip[("cp2", "kube-vip.yaml")] is Stage.AFTER_KUBEADM


def test_preflight_errors_ignored_only_where_khatui_causes_them() -> None:
    def registration(spec: str, node: str) -> dict[str, Any]:
        text = next(f.text for f in rendered()[spec] if f.node == node and "/kubeadm-" in f.path)
        doc = next(d for d in yaml.safe_load_all(text) if d and "nodeRegistration" in d)
        return dict(doc["nodeRegistration"])

    assert registration("stacked-haproxy-ipvs-nfs", "cp1")["ignorePreflightErrors"] == [
        "FileAvailable--etc-kubernetes-manifests-etcd.yaml",
        "Port-10250",
    ]
    assert (
        "DirAvailable--etc-kubernetes-manifests"
        in registration("stacked-haproxy-ipvs-nfs", "cp2")["ignorePreflightErrors"]
    )
    assert "ignorePreflightErrors" not in registration("stacked-haproxy-ipvs-nfs", "worker1")
    assert "ignorePreflightErrors" not in registration("kube-vip-nftables", "cp1")


def test_etcd_existing_variant_only_changes_the_state() -> None:
    cluster = specs()["stacked-haproxy-ipvs-nfs"]
    new = {f.path: f.text for f in render_node(cluster, "cp3")}
    existing = {f.path: f.text for f in render_node(cluster, "cp3", etcd_existing={"cp3"})}
    manifest = "/etc/kubernetes/manifests/etcd.yaml"
    assert "--initial-cluster-state=new" in new[manifest]
    assert "--initial-cluster-state=existing" in existing[manifest]
    strip = re.compile(r"^# Written by khatui.*\n", re.M)
    assert strip.sub("", existing[manifest]) == strip.sub("", new[manifest]).replace("state=new", "state=existing")
    assert "cp1=https://10.20.0.11:2380,cp2=https://10.20.0.12:2380,cp3=https://10.20.0.13:2380" in existing[manifest]


def test_pki_seam_adds_files() -> None:
    class FakeStore:
        def files_for(self, cluster: Cluster, node: Node) -> list[RenderedFile]:
            cert = RenderedFile(
                node.name, str(nodepaths.CA_CERT), b"-----BEGIN CERTIFICATE-----\n", FileKind.CERTIFICATE, "pki"
            )
            return [cert]

    cluster = specs()["single-node-lab"]
    with_pki = render_cluster(cluster, pki=FakeStore())
    assert len(with_pki) == len(render_cluster(cluster, pki=NO_PKI)) + 1
    assert Counter(f.kind for f in with_pki)[FileKind.CERTIFICATE] == 1


def test_glusterfs_is_refused() -> None:
    data = VARIANT_DATA["v129-kube-vip"]()
    data["spec"]["persistence"] = {
        "classes": [
            {"name": "gluster", "backend": "glusterfs", "endpoints": ["10.0.0.5"], "volume": "vol0", "default": True}
        ]
    }
    with pytest.raises(RenderError, match="GlusterFS"):
        render_cluster(Cluster.model_validate(data))


def test_nfs_provisioner_may_take_its_leader_lock() -> None:
    """The provisioner's leader election uses an Endpoints lock: its Role grants endpoints as well as
    leases, as upstream's deploy/rbac.yaml does (leases alone: the provisioner never becomes leader)."""
    files = rendered()["stacked-haproxy-ipvs-nfs"]
    documents = [d for f in files if f.kind is FileKind.ADDON for d in yaml.safe_load_all(f.text) if d]
    roles = [d for d in documents if d.get("kind") == "Role" and d["metadata"]["name"].startswith("nfs-provisioner-")]
    assert roles
    for role in roles:
        granted = {(r["apiGroups"][0], res): set(r["verbs"]) for r in role["rules"] for res in r["resources"]}
        assert {"get", "create", "update"} <= granted[("", "endpoints")]
        assert {"get", "create", "update"} <= granted[("coordination.k8s.io", "leases")]
