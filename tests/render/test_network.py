"""The pod network: each choice renders schema-valid objects carrying the spec's pod CIDR, backend and
MTU, lists its images for the air-gapped bundle, and `none` renders nothing."""

from __future__ import annotations

import json
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml

from khatui.render import network, render_cluster
from khatui.render.context import RenderContext
from khatui.spec.cluster import Cluster
from khatui.spec.network import ENCAPSULATIONS, NetworkPlugin
from tests.render.variants import specs

BASE = "stacked-haproxy-ipvs-nfs"
CHOICES = [
    (plugin, encapsulation, mtu)
    for plugin in NetworkPlugin
    if plugin is not NetworkPlugin.NONE
    for encapsulation in ENCAPSULATIONS[plugin]
    for mtu in (None, 1400)
]


def _with_network(settings: dict[str, Any], base: str = BASE, **control_plane: str) -> Cluster:
    data = specs()[base].model_dump(by_alias=True, exclude_none=True, mode="json")
    data["spec"]["network"] = settings
    data["spec"]["controlPlane"].update(control_plane)
    return Cluster.model_validate(data)


def _manifest(cluster: Cluster) -> list[dict[str, Any]]:
    files = [f for f in render_cluster(cluster) if f.path.endswith(network.FILE_NAME)]
    assert len(files) == 1
    return [doc for doc in yaml.safe_load_all(files[0].text) if doc]


def _flannel_config(documents: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    data = next(d for d in documents if d["kind"] == "ConfigMap")["data"]
    return json.loads(data["net-conf.json"]), json.loads(data["cni-conf.json"])


@pytest.mark.parametrize(("plugin", "encapsulation", "mtu"), CHOICES)
@pytest.mark.parametrize("version", ["v1.29.9", "v1.31.4", "v1.32.1"])
def test_every_choice_validates_strictly(plugin: str, encapsulation: str, mtu: int | None, version: str) -> None:
    settings: dict[str, Any] = {"plugin": plugin, "encapsulation": encapsulation}
    if mtu:
        settings["mtu"] = mtu
    documents = _manifest(_with_network(settings, kubernetesVersion=version))
    assert {"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "ConfigMap", "DaemonSet"} <= {
        d["kind"] for d in documents
    }
    for document in documents:
        kubernetes_validate.validate(document, version.lstrip("v"), strict=True)


@pytest.mark.parametrize(("encapsulation", "mtu"), [("vxlan", None), ("host-gw", 1450)])
def test_flannel_carries_the_spec_values(encapsulation: str, mtu: int | None) -> None:
    cluster = _with_network({"plugin": "flannel", "encapsulation": encapsulation, "mtu": mtu}, podCIDR="10.50.0.0/16")
    net_conf, cni_conf = _flannel_config(_manifest(cluster))
    assert net_conf == {"Network": "10.50.0.0/16", "EnableNFTables": False, "Backend": {"Type": encapsulation}}
    delegate = cni_conf["plugins"][0]["delegate"]
    assert delegate.get("mtu") == mtu  # absent: flannel's CNI plugin takes the MTU from the node
    assert delegate["hairpinMode"] and delegate["isDefaultGateway"]


def test_flannel_defaults_to_vxlan() -> None:
    net_conf, _ = _flannel_config(_manifest(specs()[BASE]))
    assert net_conf["Backend"] == {"Type": "vxlan"}
    assert net_conf["Network"] == str(specs()[BASE].spec.control_plane.pod_cidr)


def test_flannel_on_an_ipv6_cluster_uses_its_ipv6_network() -> None:
    net_conf, _ = _flannel_config(_manifest(specs()["ipv6-haproxy-keepalived"]))
    assert net_conf["EnableIPv4"] is False and net_conf["EnableIPv6"] is True
    assert net_conf["IPv6Network"] == "fd01::/48" and "Network" not in net_conf


def test_flannel_uses_nftables_with_kube_proxy_in_nftables_mode() -> None:
    net_conf, _ = _flannel_config(_manifest(specs()["kube-vip-nftables"]))
    assert net_conf["EnableNFTables"] is True


def test_images_are_the_ones_the_manifest_runs() -> None:
    cluster = specs()[BASE]
    assert network.images(cluster) == [
        "ghcr.io/flannel-io/flannel-cni-plugin:v1.8.0-flannel1",
        "ghcr.io/flannel-io/flannel:v0.27.4",
    ]
    images = {c["image"] for d in _manifest(cluster) for c in network.pod_containers(d)}
    assert images == set(network.images(cluster))


def test_none_renders_no_network_and_no_images() -> None:
    cluster = specs()["v129-kube-vip"]
    assert cluster.spec.network.plugin is NetworkPlugin.NONE
    assert not [f for f in render_cluster(cluster) if f.path.endswith(network.FILE_NAME)]
    assert network.images(cluster) == []
    assert network.objects(RenderContext.of(cluster)) == []
