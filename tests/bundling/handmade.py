"""A small bundle written by hand (no network): stand-in binaries whose sums a checksums file
gives, two .deb entries per need, two image archives. For plan tests, which only read and hash."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from khatui.artifacts.bundle import FORMAT, MANIFEST, BundleFile, Kind, Manifest, Target
from khatui.bundling.build import artifacts_for
from khatui.facts.distro import Family, needs
from khatui.spec.cluster import Cluster

IMAGES = ("registry.k8s.io/pause:3.10", "registry.k8s.io/kube-apiserver:v1.31.4")


def _file(out: Path, path: str, body: bytes, kind: Kind, component: str, version: str, family: str = "") -> BundleFile:
    (out / path).parent.mkdir(parents=True, exist_ok=True)
    (out / path).write_bytes(body)
    sha = hashlib.sha256(body).hexdigest()
    return BundleFile(
        path=path,
        sha256=sha,
        size=len(body),
        kind=kind,
        component=component,
        version=version,
        arch="amd64",
        family=family,
    )


def write_bundle(out: Path, cluster: Cluster) -> Path:
    """The bundle of `cluster` in `out`; returns the checksums file the stand-in binaries need."""
    files, sums, sets = [], [], {}
    for art in artifacts_for(cluster, "amd64"):
        entry = _file(
            out, f"binaries/{art.path}", f"{art.path}\n".encode(), Kind.BINARY, art.component.value, art.version
        )
        files.append(entry)
        sums.append(f"{entry.sha256}  {art.path}\n")
    kinds = list(dict.fromkeys(need for node in cluster.spec.nodes for need in needs(cluster, node)))
    dep = _file(out, "packages/debian/libdep_1.0_amd64.deb", b"libdep", Kind.PACKAGE, "libdep", "1.0", "debian")
    files.append(dep)
    for need in kinds:
        deb = _file(
            out, f"packages/debian/{need}_1%3a2.0_amd64.deb", need.encode(), Kind.PACKAGE, need, "1:2.0", "debian"
        )
        files.append(deb)
        sets[need] = [deb.path, dep.path]
    for image in IMAGES:
        name = image.replace("/", "_").replace(":", "_")
        files.append(_file(out, f"images/{name}.tar", image.encode(), Kind.IMAGE, image, image.rsplit(":", 1)[1]))
    target = Target(os="debian", version="12", family=Family.DEBIAN.value, arch="amd64")
    manifest = Manifest(format=FORMAT, cluster="c", spec_digest="0" * 64, target=target, files=files, package_sets=sets)
    (out / MANIFEST).write_text(manifest.model_dump_json(by_alias=True, indent=1))
    (out.parent / "SHA256SUMS").write_text("".join(sums))
    return out.parent / "SHA256SUMS"


def bundle_spec(data: dict[str, Any], out: Path, checksums: Path) -> dict[str, Any]:
    """`data` (a spec document) installing from the bundle in `out`."""
    data["spec"]["install"] = {"enabled": True, "bundle": str(out), "binaries": {"checksums": str(checksums)}}
    return data
