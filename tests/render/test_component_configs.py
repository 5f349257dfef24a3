"""kubeadm, kubelet, kube-proxy and kubeconfig documents: strict structure (see component_schemas)
and the guide's rules — every client talks to the load balancer, leader election is on, the API
version fits the Kubernetes version, etcd endpoints and certificates are kubeadm's layout."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from khatui import nodepaths
from khatui.render import FileKind, RenderedFile, kubeadm, kubelet
from khatui.render.context import RenderContext
from khatui.spec.cluster import Cluster
from khatui.spec.nodes import Role
from tests.render import component_schemas as schemas
from tests.render.variants import rendered, specs

SPEC_NAMES = sorted(specs())


def _docs(file: RenderedFile) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(file.text) if doc is not None]


def _kubeadm_docs(name: str) -> list[tuple[RenderedFile, dict[str, Any]]]:
    return [(f, doc) for f in rendered()[name] if "/kubeadm-" in f.path for doc in _docs(f)]


def _schema_for(doc: dict[str, Any]) -> Any:
    if doc["apiVersion"] in schemas.KUBEADM:
        return schemas.KUBEADM[doc["apiVersion"]][doc["kind"]]
    table = {
        ("kubelet.config.k8s.io/v1beta1", "KubeletConfiguration"): schemas.KUBELET_CONFIGURATION,
        ("kubeproxy.config.k8s.io/v1alpha1", "KubeProxyConfiguration"): schemas.KUBE_PROXY_CONFIGURATION,
        ("v1", "Config"): schemas.KUBECONFIG,
    }
    return table[(doc["apiVersion"], doc["kind"])]


COMPONENT_FILES = (
    str(kubeadm.INIT_PATH),
    str(kubeadm.JOIN_PATH),
    str(kubelet.STANDALONE_CONFIG),
    str(nodepaths.KUBELET_KUBECONFIG),
    str(nodepaths.ADDONS_DIR / "20-kube-proxy.yaml"),
)


def _component_docs(name: str) -> list[tuple[str, dict[str, Any]]]:
    """Every component document of a spec's render, including those inside the kube-proxy ConfigMap."""
    found = []
    for file in rendered()[name]:
        if file.path not in COMPONENT_FILES:
            continue
        for doc in _docs(file):
            if doc["kind"] == "ConfigMap":
                found += [(f"{file.path}#{key}", yaml.safe_load(text)) for key, text in doc["data"].items()]
            elif file.kind is not FileKind.ADDON:  # the kube-proxy addon's other objects: API kinds
                found.append((file.path, doc))
    return found


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_component_documents_are_strictly_well_formed(name: str) -> None:
    docs = _component_docs(name)
    kinds = {doc["kind"] for _, doc in docs}
    assert {
        "ClusterConfiguration",
        "InitConfiguration",
        "KubeletConfiguration",
        "KubeProxyConfiguration",
        "Config",
    } <= kinds
    for where, doc in docs:
        assert schemas.problems(doc, _schema_for(doc), doc["kind"]) == [], where


def test_structure_check_catches_unknown_fields() -> None:
    doc = next(doc for _, doc in _kubeadm_docs(SPEC_NAMES[0]) if doc["kind"] == "ClusterConfiguration")
    bad = {**doc, "apiServer": {**doc["apiServer"], "certSans": ["x"]}}
    assert schemas.problems(bad, _schema_for(bad), "c") == ["c.apiServer.certSans: unknown field"]


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_kubeadm_api_version_and_shapes(name: str) -> None:
    cluster = specs()[name]
    ctx = RenderContext.of(cluster)
    expected = "kubeadm.k8s.io/v1beta4" if ctx.minor >= 31 else "kubeadm.k8s.io/v1beta3"
    docs = _kubeadm_docs(name)
    assert {doc["apiVersion"] for _, doc in docs if doc["apiVersion"].startswith("kubeadm")} == {expected}
    config = next(doc for _, doc in docs if doc["kind"] == "ClusterConfiguration")
    host, port = ctx.api_endpoint
    assert config["controlPlaneEndpoint"] in (f"{host}:{port}", f"[{host}]:{port}")
    leader = config["controllerManager"]["extraArgs"], config["scheduler"]["extraArgs"]
    for args in leader:
        assert args == ([{"name": "leader-elect", "value": "true"}] if ctx.minor >= 31 else {"leader-elect": "true"})
    external = config["etcd"]["external"]
    assert external["endpoints"] == ctx.etcd_client_urls
    assert (external["caFile"], external["certFile"], external["keyFile"]) == (
        str(nodepaths.ETCD_CA_CERT),
        str(nodepaths.APISERVER_ETCD_CLIENT_CERT),
        str(nodepaths.APISERVER_ETCD_CLIENT_KEY),
    )
    assert host in config["apiServer"]["certSANs"]
    assert set(cluster.spec.pki.extra_sans) <= set(config["apiServer"]["certSANs"])
    networking = config["networking"]
    assert networking["podSubnet"] == str(cluster.spec.control_plane.pod_cidr)
    assert networking["serviceSubnet"] == str(cluster.spec.control_plane.service_cidr)


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_every_kubernetes_node_gets_one_kubeadm_config(name: str) -> None:
    cluster = specs()[name]
    docs = _kubeadm_docs(name)
    by_node: dict[str, list[str]] = {}
    for file, doc in docs:
        by_node.setdefault(file.node, []).append(doc["kind"])
    kube_nodes = [n for n in cluster.spec.nodes if n.has(Role.CONTROL_PLANE) or n.has(Role.WORKER)]
    assert set(by_node) == {n.name for n in kube_nodes}
    first = cluster.spec.with_role(Role.CONTROL_PLANE)[0]
    for node in kube_nodes:
        kinds = by_node[node.name]
        if node.name == first.name:
            assert kinds == ["InitConfiguration", "ClusterConfiguration", "KubeletConfiguration"]
            continue
        assert kinds == ["JoinConfiguration"]
        join = next(doc for f, doc in docs if f.node == node.name)
        assert join["discovery"] == {"file": {"kubeConfigPath": str(nodepaths.DISCOVERY_KUBECONFIG)}}
        assert ("controlPlane" in join) == node.has(Role.CONTROL_PLANE)
        if node.has(Role.CONTROL_PLANE):
            assert join["controlPlane"]["localAPIEndpoint"]["advertiseAddress"] == str(node.address)


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_kubeconfigs_point_at_the_load_balancer(name: str) -> None:
    url = RenderContext.of(specs()[name]).api_server_url
    configs = [doc for _, doc in _component_docs(name) if doc["kind"] == "Config"]
    assert len(configs) >= 2  # the kubelet's and kube-proxy's
    for config in configs:
        assert [c["cluster"]["server"] for c in config["clusters"]] == [url]


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_kube_proxy_mode(name: str) -> None:
    cluster: Cluster = specs()[name]
    proxies = [doc for _, doc in _component_docs(name) if doc["kind"] == "KubeProxyConfiguration"]
    assert len(proxies) == 1  # in the kube-proxy ConfigMap only: kubeadm's kube-proxy addon is off
    for proxy in proxies:
        assert proxy["mode"] == cluster.spec.kube_proxy.mode.value
        assert proxy["clusterCIDR"] == str(cluster.spec.control_plane.pod_cidr)
        if proxy["mode"] == "ipvs":
            assert proxy["ipvs"]["scheduler"] == (cluster.spec.kube_proxy.ipvs_scheduler or "rr")
        else:
            assert "ipvs" not in proxy


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_kubeadm_leaves_coredns_and_kube_proxy_to_khatui(name: str) -> None:
    """khatui applies CoreDNS and kube-proxy itself: kubeadm's two addons are off, in the way the API
    version allows (v1beta4's disabled fields, v1beta3's skipPhases), and khatui renders every object
    kubeadm's addons would have created."""
    docs = {doc["kind"]: doc for _, doc in _kubeadm_docs(name)}
    init, cluster = docs["InitConfiguration"], docs["ClusterConfiguration"]
    if cluster["apiVersion"].endswith("v1beta4"):
        assert (cluster["dns"], cluster["proxy"]) == ({"disabled": True}, {"disabled": True})
        assert "skipPhases" not in init
    else:
        assert init["skipPhases"] == ["addon/coredns", "addon/kube-proxy"]
        assert "dns" not in cluster and "proxy" not in cluster
    addons = [doc for f in rendered()[name] if f.path.startswith(str(nodepaths.ADDONS_DIR)) for doc in _docs(f)]
    names = {(doc["kind"], doc["metadata"]["name"]) for doc in addons}
    assert {
        ("ServiceAccount", "coredns"), ("ClusterRole", "system:coredns"), ("ClusterRoleBinding", "system:coredns"),
        ("ConfigMap", "coredns"), ("Deployment", "coredns"), ("Service", "kube-dns"),
        ("ServiceAccount", "kube-proxy"), ("ClusterRoleBinding", "kubeadm:node-proxier"),
        ("ConfigMap", "kube-proxy"), ("DaemonSet", "kube-proxy"),
    } <= names  # fmt: skip
    dns_service = next(doc for doc in addons if doc["kind"] == "Service" and doc["metadata"]["name"] == "kube-dns")
    assert dns_service["spec"]["clusterIP"] == RenderContext.of(specs()[name]).dns_service_ip
