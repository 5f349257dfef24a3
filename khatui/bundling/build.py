"""`khatui bundle`: everything a spec's nodes install, in one folder for an air-gapped site.

Built on a connected machine in the order a reader checks it: the release binaries each node's
roles need (through the operator's verified cache, so each matches its published sha256), the
distribution packages of every need with their dependencies (`debs`), the container images as OCI
archives (`images`), and last `manifest.json` with every file's sha256: a bundle cut short has no
manifest, and `plan` refuses a folder without one. The folder must be new or empty.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from khatui.artifacts import sums
from khatui.artifacts.bundle import FORMAT, MANIFEST, BundleFile, Kind, Manifest, Target
from khatui.artifacts.catalog import Artifact, Component, artifact, version_of
from khatui.bundling.debs import Apt, refuse_other_target
from khatui.bundling.images import cluster_images, copy_image
from khatui.engine.artifact_cache import ArtifactCache
from khatui.errors import InputError
from khatui.facts.distro import NEEDS, Family, needs
from khatui.localfs import Folder
from khatui.plan.phases.install import RUNTIME, kube_tools
from khatui.preflight.results import runs_kubelet
from khatui.render import render_cluster
from khatui.spec.cluster import Cluster
from khatui.spec.components import EtcdRunAs
from khatui.spec.nodes import Role

FAMILIES = {
    "debian": Family.DEBIAN,
    "ubuntu": Family.DEBIAN,
    **{os_id: Family.RHEL for os_id in ("rhel", "rocky", "almalinux", "centos", "fedora")},
}
"""os-release ID -> its family."""
Say = Callable[[str], None]


@dataclass(frozen=True)
class Request:
    """What to bundle and for which machines."""

    spec_file: str
    cluster: Cluster
    out: Path
    target: tuple[str, str]
    """os-release (ID, VERSION_ID) of the nodes."""
    here: tuple[str, str]
    """os-release (ID, VERSION_ID) of this machine."""
    arch: str
    registries_conf: str | None = None
    """skopeo's registries.conf to fetch the images with (mirrors, insecure registries)."""
    apt_options: Sequence[str] = ()
    """More apt-get `-o` settings (another sources list)."""


def artifacts_for(cluster: Cluster, arch: str) -> list[Artifact]:
    """Every release file some node of `cluster` installs, each once."""
    table = sums.table(cluster.spec.install.binaries.checksums)
    wanted: dict[str, Artifact] = {}
    for node in cluster.spec.nodes:
        components = [*RUNTIME, *kube_tools(node)] if runs_kubelet(cluster, node) else []
        if node.has(Role.ETCD) and cluster.spec.etcd.run_as is EtcdRunAs.SYSTEMD:
            components.append(Component.ETCD)
        for component in components:
            art = artifact(component, version_of(cluster, component), arch, table)
            wanted.setdefault(art.path, art)
    return list(wanted.values())


def _entry(
    folder: Folder, path: str, kind: Kind, component: str, version: str, arch: str, family: str = ""
) -> BundleFile:
    found = folder.digest(path)
    if found is None:
        raise InputError(f"{folder.child(path)}: not written")
    size, sha256 = found
    return BundleFile(
        path=path, sha256=sha256, size=size, kind=kind, component=component, version=version, arch=arch, family=family
    )


def _binaries(req: Request, folder: Folder, say: Say) -> list[BundleFile]:
    cache, mirror = ArtifactCache(), req.cluster.spec.install.binaries.mirror
    files = []
    for art in artifacts_for(req.cluster, req.arch):
        say(f"binary {art.component.value} {art.version} ({art.arch}): {art.url(mirror)}")
        path = f"binaries/{art.path}"
        folder.write({path: (cache.content(art.sha256, art.url(mirror)), 0o644)})
        files.append(_entry(folder, path, Kind.BINARY, art.component.value, art.version, art.arch))
    return files


def _needs(req: Request) -> list[str]:
    """What the nodes need packages for; `InputError` when this machine cannot fetch them for the target."""
    if req.target[0] not in FAMILIES:
        raise InputError(f"--target {req.target[0]}: not a distribution khatui installs ({', '.join(FAMILIES)})")
    wanted = list(dict.fromkeys(need for node in req.cluster.spec.nodes for need in needs(req.cluster, node)))
    if wanted and FAMILIES[req.target[0]] is not Family.DEBIAN:
        raise InputError(f"khatui bundle: fetching {req.target[0]} packages is not built yet (Debian and Ubuntu are)")
    if wanted:
        refuse_other_target(req.target, req.here)
    return wanted


def _packages(req: Request, folder: Folder, say: Say) -> tuple[list[BundleFile], dict[str, list[str]]]:
    family, wanted = FAMILIES[req.target[0]], _needs(req)
    if not wanted:
        return [], {}
    out = folder.child(f"packages/{family.value}")
    with tempfile.TemporaryDirectory(prefix="khatui-bundle-apt-") as scratch:
        apt = Apt(Path(scratch), out, req.apt_options)
        say("packages: apt-get update (package lists of this machine's sources, kept apart from its own)")
        apt.update()
        closures = {need: apt.closure(NEEDS[need][family]) for need in wanted}
        names = list(dict.fromkeys(p for need in wanted for p in NEEDS[need][family]))
        say(f"packages: {' '.join(names)} with their dependencies")
        apt.download(names)
    debs = {deb.file: deb for closure in closures.values() for deb in closure}
    files = [
        _entry(folder, f"packages/{family.value}/{d.file}", Kind.PACKAGE, d.package, d.version, d.arch, family.value)
        for d in debs.values()
    ]
    sets = {need: [f"packages/{family.value}/{d.file}" for d in closure] for need, closure in closures.items()}
    return files, sets


def _images(req: Request, folder: Folder, say: Say) -> list[BundleFile]:
    files = []
    with Folder.open(folder.child("images"), create=True):
        pass  # skopeo writes the archives into it
    for reference in cluster_images(req.cluster, render_cluster(req.cluster)):
        path = f"images/{re.sub(r'[^A-Za-z0-9._-]', '_', reference)}.tar"
        say(f"image {reference}")
        copy_image(reference, str(folder.child(path)), req.arch, req.registries_conf)
        tag = reference.rsplit(":", 1)[-1] if ":" in reference.rsplit("/", 1)[-1] else ""
        files.append(_entry(folder, path, Kind.IMAGE, reference, tag, req.arch))
    return files


def build(req: Request, say: Say) -> Manifest:
    """Write the bundle of `req` into `req.out` (new or empty), its manifest last."""
    _needs(req)  # refused before anything is fetched
    with Folder.open(req.out, create=True) as folder:
        if not folder.is_empty():
            raise InputError(f"{req.out}: not empty; name a new folder for the bundle")
        binaries = _binaries(req, folder, say)
        packages, sets = _packages(req, folder, say)
        images = _images(req, folder, say)
        family = FAMILIES[req.target[0]]
        digest = hashlib.sha256(Path(req.spec_file).read_bytes()).hexdigest()
        manifest = Manifest(
            format=FORMAT,
            cluster=req.cluster.metadata.name,
            spec_digest=digest,
            target=Target(os=req.target[0], version=req.target[1], family=family.value, arch=req.arch),
            files=[*binaries, *packages, *images],
            package_sets=sets,
        )
        folder.write({MANIFEST: (manifest.model_dump_json(by_alias=True, indent=2).encode() + b"\n", 0o644)})
    say(f"wrote {len(manifest.files)} files and {MANIFEST} to {req.out}")
    return manifest
