"""The release files khatui installs: where upstream publishes each, what is in it, where it goes.

Pure data and lookups (no I/O): the plan asks `wanted(...)` for a node's components and gets
`Artifact`s with their upstream path (Kubespray's `files_repo` layout, so a mirror of that layout
serves them unchanged), their published sha256 and their members. Versions default as Kubespray
v2.27 pairs them with Kubernetes 1.31 (containerd 1.7.24, runc 1.2.3, CNI plugins 1.4.0, crictl
1.31.1); a file whose sum is in no table is refused here, naming it, so `plan` fails before any
node is touched.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from khatui.errors import InputError
from khatui.spec.cluster import Cluster


class Component(StrEnum):
    """One upstream release file khatui installs."""

    KUBEADM = "kubeadm"
    KUBELET = "kubelet"
    KUBECTL = "kubectl"
    CRICTL = "crictl"
    CONTAINERD = "containerd"
    RUNC = "runc"
    CNI_PLUGINS = "cni-plugins"
    ETCD = "etcd"


ARCHES = {"x86_64": "amd64", "aarch64": "arm64", "amd64": "amd64", "arm64": "arm64"}
"""`uname -m` (or a Go arch) -> the arch in release file names."""

_PATHS = {
    Component.KUBEADM: "dl.k8s.io/release/v{v}/bin/linux/{a}/kubeadm",
    Component.KUBELET: "dl.k8s.io/release/v{v}/bin/linux/{a}/kubelet",
    Component.KUBECTL: "dl.k8s.io/release/v{v}/bin/linux/{a}/kubectl",
    Component.CRICTL: "github.com/kubernetes-sigs/cri-tools/releases/download/v{v}/crictl-v{v}-linux-{a}.tar.gz",
    Component.CONTAINERD: "github.com/containerd/containerd/releases/download/v{v}/containerd-{v}-linux-{a}.tar.gz",
    Component.RUNC: "github.com/opencontainers/runc/releases/download/v{v}/runc.{a}",
    Component.CNI_PLUGINS: "github.com/containernetworking/plugins/releases/download/v{v}/cni-plugins-linux-{a}-v{v}.tgz",
    Component.ETCD: "github.com/etcd-io/etcd/releases/download/v{v}/etcd-v{v}-linux-{a}.tar.gz",
}
"""Upstream host + path of each file (Kubespray's *_download_url without `files_repo`)."""

_MEMBERS: dict[Component, tuple[tuple[str, str], ...]] = {
    # (member in the archive, '' for a plain binary; where it goes on the node)
    Component.KUBEADM: (("", "/usr/bin/kubeadm"),),
    Component.KUBELET: (("", "/usr/bin/kubelet"),),
    Component.KUBECTL: (("", "/usr/bin/kubectl"),),
    Component.CRICTL: (("crictl", "/usr/local/bin/crictl"),),
    Component.CONTAINERD: (
        ("bin/containerd", "/usr/local/bin/containerd"),
        ("bin/containerd-shim-runc-v2", "/usr/local/bin/containerd-shim-runc-v2"),
        ("bin/ctr", "/usr/local/bin/ctr"),
    ),
    Component.RUNC: (("", "/usr/local/sbin/runc"),),
    Component.CNI_PLUGINS: (),  # every plugin of the archive, into CNI_BIN_DIR
    Component.ETCD: (
        ("etcd-v{v}-linux-{a}/etcd", "/usr/bin/etcd"),
        ("etcd-v{v}-linux-{a}/etcdctl", "/usr/bin/etcdctl"),
        ("etcd-v{v}-linux-{a}/etcdutl", "/usr/bin/etcdutl"),
    ),
}
"""Where the files land: the kube tools and etcd where the official packages and khatui's units put
them (/usr/bin), containerd, runc and crictl where their upstream install guides do."""
CNI_BIN_DIR = "/opt/cni/bin"

_PAIRED = {
    "1.31": {
        Component.CONTAINERD: "1.7.24",
        Component.RUNC: "1.2.3",
        Component.CNI_PLUGINS: "1.4.0",
        Component.CRICTL: "1.31.1",
    },
}
"""Kubernetes minor -> the versions Kubespray v2.27 ships with it (its README, Supported Components)."""

_VERSION_IN = re.compile(r"v?(\d+\.\d+\.\d+)")


@dataclass(frozen=True)
class Member:
    """One file of an artifact and where it is installed (`source` '' : the artifact itself)."""

    source: str
    target: str


@dataclass(frozen=True)
class Artifact:
    """One release file for one arch: where it comes from, its sum, what it installs."""

    component: Component
    version: str
    """Without a leading v: '1.31.4'."""
    arch: str
    path: str
    """Upstream host + path, the same under a `files_repo` mirror."""
    sha256: str
    members: tuple[Member, ...]
    """Empty for the CNI plugins: the whole archive goes into `CNI_BIN_DIR`."""

    @property
    def name(self) -> str:
        """The file's own name (the last part of its path)."""
        return self.path.rsplit("/", 1)[-1]

    @property
    def is_archive(self) -> bool:
        """A tarball to unpack rather than a binary to install as it is."""
        return self.name.endswith((".tar.gz", ".tgz"))

    def url(self, mirror: str | None) -> str:
        """Where to download it: `mirror` + path, or upstream over https."""
        return f"{mirror}/{self.path}" if mirror else f"https://{self.path}"


def plain_version(version: str) -> str:
    """'v1.31.4' -> '1.31.4'."""
    return version.removeprefix("v")


def found_version(line: str) -> str | None:
    """The x.y.z in a tool's version line ('Kubernetes v1.31.4', 'runc version 1.2.3',
    'containerd github.com/containerd/containerd v1.7.24 88bf19b', 'etcd Version: 3.5.16')."""
    match = _VERSION_IN.search(line)
    return match[1] if match else None


def version_of(cluster: Cluster, component: Component) -> str:
    """The version `cluster` wants of `component`: the spec's, else khatui's pairing."""
    spec = cluster.spec
    binaries = spec.install.binaries
    k8s = plain_version(spec.control_plane.kubernetes_version)
    chosen = {
        Component.KUBEADM: k8s,
        Component.KUBELET: k8s,
        Component.KUBECTL: k8s,
        Component.ETCD: spec.etcd.version,
        Component.CONTAINERD: binaries.containerd,
        Component.RUNC: binaries.runc,
        Component.CNI_PLUGINS: binaries.cni_plugins,
        Component.CRICTL: binaries.crictl,
    }[component]
    if chosen is not None:
        return plain_version(chosen)
    minor = ".".join(k8s.split(".")[:2])
    paired = _PAIRED.get(minor, {}).get(component)
    if paired is None:
        field = {Component.CNI_PLUGINS: "cniPlugins"}.get(component, component.value)
        raise InputError(
            f"spec.install.binaries.{field}: khatui has no default {component.value} for Kubernetes {minor}; set it"
        )
    return paired


def artifact(component: Component, version: str, arch: str, sums: Mapping[str, str]) -> Artifact:
    """The release file of `component` at `version` for `arch`; `InputError` when no table has its sum."""
    fill = {"v": plain_version(version), "a": arch}
    path = _PATHS[component].format(**fill)
    digest = sums.get(path)
    if digest is None:
        raise InputError(
            f"no published sha256 for {path}: khatui knows sums for its default versions only; "
            "add the file's sum to the sha256sum file named by spec.install.binaries.checksums"
        )
    members = tuple(Member(src.format(**fill), dst) for src, dst in _MEMBERS[component])
    return Artifact(component, fill["v"], arch, path, digest, members)
