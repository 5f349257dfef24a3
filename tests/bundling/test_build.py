"""`khatui bundle` end to end on loopback sources, and what it refuses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from khatui.artifacts.bundle import Kind, open_bundle
from khatui.bundling.build import Request, build
from khatui.errors import InputError
from tests.bundling.conftest import DEPENDENCY, example_cluster
from tests.conftest import ROOT


def request(out: Path, target: tuple[str, str], mirror: tuple[str, Path], **more: object) -> Request:
    cluster = example_cluster(mirror[0], str(mirror[1]))
    spec = out.parent / "spec.yaml"
    spec.write_text("the spec's bytes\n")
    return Request(str(spec), cluster, out, target, ("debian", "12"), "amd64", **more)  # type: ignore[arg-type]


def test_a_bundle_holds_every_binary_package_and_image_verified(
    tmp_path: Path, files_mirror: tuple[str, Path], apt_repo: list[str], registry: str
) -> None:
    said: list[str] = []
    out = tmp_path / "bundle"
    req = request(out, ("debian", "12"), files_mirror, registries_conf=registry, apt_options=apt_repo)
    build(req, said.append)
    bundle = open_bundle(str(out))  # every file hashes to its manifest entry
    manifest = bundle.manifest
    assert (manifest.format, manifest.cluster, manifest.target.family) == (1, "single", "debian")
    assert {f.component for f in bundle.of_kind(Kind.BINARY)} == {
        "containerd", "runc", "cni-plugins", "crictl", "kubeadm", "kubelet", "kubectl", "etcd",
    }  # fmt: skip
    packages = {f.component: f for f in bundle.of_kind(Kind.PACKAGE)}
    assert set(packages) >= {"conntrack", "socat", "haproxy", DEPENDENCY}
    assert packages["conntrack"].version == "1:1.0-1" and packages["conntrack"].path.endswith("1%3a1.0-1_all.deb")
    assert set(manifest.package_sets) == {"kubernetes", "haproxy"}
    assert all(f"packages/debian/{DEPENDENCY}_1%3a1.0-1_all.deb" in s for s in manifest.package_sets.values())
    images = [f.component for f in bundle.of_kind(Kind.IMAGE)]
    assert "registry.k8s.io/pause:3.10" in images and "registry.k8s.io/kube-apiserver:v1.31.4" in images
    assert all((out / f.path).stat().st_size == f.size for f in manifest.files)
    assert any(line.startswith("image registry.k8s.io/pause:3.10") for line in said)
    assert not (out / "packages/debian/partial").exists()


def test_packages_for_another_release_are_refused_before_anything_is_fetched(
    tmp_path: Path, files_mirror: tuple[str, Path]
) -> None:
    out = tmp_path / "bundle"
    with pytest.raises(
        InputError, match=r"this machine is debian 12.*build the bundle for ubuntu 24.04 on a connected"
    ):
        build(request(out, ("ubuntu", "24.04"), files_mirror), print)
    assert not out.exists()


def test_a_folder_in_use_is_refused(tmp_path: Path, files_mirror: tuple[str, Path]) -> None:
    out = tmp_path / "bundle"
    out.mkdir()
    (out / "other").write_text("x")
    with pytest.raises(InputError, match="not empty"):
        build(request(out, ("debian", "12"), files_mirror), print)


def test_a_target_without_a_release_is_a_usage_error(tmp_path: Path, cli: Any) -> None:
    result = cli("bundle", ROOT / "assets/examples/single-node-lab.yaml", "-o", tmp_path / "b", "--target", "debian")
    assert result.code == 2 and "ID:VERSION_ID of the nodes' /etc/os-release" in result.err
    assert not (tmp_path / "b").exists()
