"""containerd's files: read back by containerd itself (`containerd config dump` merges the rendered
config into its defaults, so a misspelt key or table would not show), hosts.toml per mirror, the
units run what the runtime phases install, and nothing at all when khatui does not install."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from khatui.artifacts import sums
from khatui.artifacts.catalog import Component, artifact, version_of
from khatui.quoting import toml
from khatui.quoting.lines import UnsafeValue
from khatui.render import RenderedFile, RenderError, render_cluster
from khatui.render.containerd import CONFIG_PATH, HOSTS_DIR, SOCKET
from khatui.render.kubelet import CRI_SOCKET
from khatui.spec.cluster import Cluster
from khatui.spec.nodes import Role
from tests.render.tools import require, run, write
from tests.render.variants import rendered, specs


def _files(spec: str, suffix: str) -> list[RenderedFile]:
    return [f for f in rendered()[spec] if f.path.endswith(suffix)]


def _config(spec: str) -> RenderedFile:
    return next(f for f in rendered()[spec] if f.path == str(CONFIG_PATH))


@pytest.mark.parametrize("spec", ["stacked-haproxy-ipvs-nfs", "v1beta3-external-static-pod", "v129-kube-vip"])
def test_containerd_reads_the_config_as_kubernetes_needs_it(spec: str, tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", _config(spec).text)
    result = run([require("containerd"), "--config", str(path), "config", "dump"])
    assert result.returncode == 0, result.stderr
    dump = tomllib.loads(result.stdout)
    cri = dump["plugins"]["io.containerd.grpc.v1.cri"]
    assert "io.containerd.grpc.v1.cri" not in dump["disabled_plugins"]
    assert cri["containerd"]["runtimes"]["runc"]["options"]["SystemdCgroup"] is True
    assert cri["registry"]["config_path"] == str(HOSTS_DIR)
    assert dump["grpc"]["address"] == SOCKET == CRI_SOCKET.replace("unix:///var/run/", "/run/")
    minor = int(specs()[spec].spec.control_plane.kubernetes_version.split(".")[1])
    assert cri["sandbox_image"] == ("registry.k8s.io/pause:3.9" if minor < 31 else "registry.k8s.io/pause:3.10")


def test_containerd_2_gets_the_version_3_config() -> None:
    config = tomllib.loads(_config("kube-vip-nftables").text)
    assert config["version"] == 3
    images = config["plugins"]["io.containerd.cri.v1.images"]
    runtime = config["plugins"]["io.containerd.cri.v1.runtime"]["containerd"]
    assert images["pinned_images"]["sandbox"] == "registry.k8s.io/pause:3.10"
    assert images["registry"]["config_path"] == str(HOSTS_DIR)
    assert runtime["runtimes"]["runc"]["options"]["SystemdCgroup"] is True


def test_every_mirrored_registry_gets_its_hosts_toml_mirrors_first() -> None:
    hosts = {f.path: tomllib.loads(f.text) for f in _files("kube-vip-nftables", "/hosts.toml")}
    assert hosts[f"{HOSTS_DIR}/docker.io/hosts.toml"] == {
        "server": "https://registry-1.docker.io",
        "host": {
            "https://mirror.local": {"capabilities": ["pull", "resolve"]},
            "http://10.0.0.5:5000": {"capabilities": ["pull", "resolve"]},
        },
    }
    assert hosts[f"{HOSTS_DIR}/quay.io:443/hosts.toml"] == {"server": "https://quay.io:443"}
    assert len(hosts) == 2
    assert not _files("stacked-haproxy-ipvs-nfs", "/hosts.toml")


@pytest.mark.parametrize("spec", sorted(specs()))
def test_nodes_with_a_kubelet_get_containerd_and_the_kubelet_unit_others_nothing(spec: str) -> None:
    cluster = specs()[spec]
    static_etcd = cluster.spec.etcd.run_as.value == "static-pod"
    for node in cluster.spec.nodes:
        paths = {f.path for f in rendered()[spec] if f.node == node.name}
        kubelet = node.has(Role.CONTROL_PLANE) or node.has(Role.WORKER) or (static_etcd and node.has(Role.ETCD))
        wanted = {str(CONFIG_PATH), "/etc/systemd/system/containerd.service", "/etc/systemd/system/kubelet.service"}
        assert wanted <= paths if kubelet else not wanted & paths, node.name


def test_without_install_khatui_writes_no_runtime_or_kubelet_unit() -> None:
    data: dict[str, Any] = specs()["stacked-haproxy-ipvs-nfs"].model_dump(by_alias=True, mode="json")
    data["spec"]["install"] = {"enabled": False}
    paths = {f.path for f in render_cluster(Cluster.model_validate(data))}
    assert not {p for p in paths if "containerd" in p or p.endswith(("kubelet.service", "10-kubeadm.conf"))}


def test_the_units_run_the_binaries_where_the_runtime_phases_put_them() -> None:
    cluster = specs()["stacked-haproxy-ipvs-nfs"]
    files = {f.path: f.text for f in rendered()["stacked-haproxy-ipvs-nfs"] if f.node == "cp1"}
    for component, unit in ((Component.CONTAINERD, "containerd.service"), (Component.KUBELET, "kubelet.service")):
        found = artifact(component, version_of(cluster, component), "amd64", sums.published())
        binary = found.members[0].target
        assert f"\nExecStart={binary}\n" in files[f"/etc/systemd/system/{unit}"]


def test_a_kubernetes_version_without_a_known_pause_image_is_a_render_error() -> None:
    data: dict[str, Any] = specs()["stacked-haproxy-ipvs-nfs"].model_dump(by_alias=True, mode="json")
    data["spec"]["controlPlane"]["kubernetesVersion"] = "v1.40.0"
    with pytest.raises(RenderError, match=r"kubernetesVersion: khatui knows the pause image of Kubernetes .*not 1\.40"):
        render_cluster(Cluster.model_validate(data))


@given(st.text(st.characters(exclude_categories=["Cs"])))
def test_a_toml_string_reads_back_as_the_value(value: str) -> None:
    document = f"k = {toml.string(value)}\nafter = 1\n"
    assert tomllib.loads(document) == {"k": value, "after": 1}
    assert len(document.splitlines()) == 2


def test_a_lone_surrogate_is_refused_in_toml() -> None:
    with pytest.raises(UnsafeValue, match="surrogate"):
        toml.string("a\ud800")
