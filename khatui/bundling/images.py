"""The container images a spec's cluster runs, and copying each into an OCI archive with skopeo.

The list is kubeadm's own for the Kubernetes version (what `kubeadm config images list` prints:
the control plane, kube-proxy, CoreDNS, pause, etcd) plus every `image:` of the rendered static-pod
manifests and addons (khatui's etcd, NodeLocal DNSCache, storage, CSI). skopeo copies one
platform (the target's) into `oci-archive:FILE:REFERENCE`, so the archive's index names the image
by its full reference, which `ctr images import` takes as the image's name.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import yaml

from khatui.artifacts.catalog import plain_version
from khatui.bundling.tools import run_tool
from khatui.errors import InputError
from khatui.render.dns import COREDNS_IMAGE, COREDNS_VERSIONS
from khatui.render.files import FileKind, RenderedFile
from khatui.spec.cluster import Cluster

KUBEADM_PINS = {31: {"pause": "3.10", "etcd": "3.5.15-0"}}
"""Kubernetes minor -> kubeadm's PauseVersion and SupportedEtcdVersion (kubernetes/kubernetes@v1.31.0
cmd/kubeadm/app/constants/constants.go); CoreDNS's is `dns.COREDNS_VERSIONS`."""
REGISTRY = "registry.k8s.io"
COPY_TIMEOUT_S = 1800


def kubeadm_images(cluster: Cluster) -> list[str]:
    """What kubeadm pulls for the spec's version (`kubeadm config images list`)."""
    version = plain_version(cluster.spec.control_plane.kubernetes_version)
    minor = int(version.split(".")[1])
    pins = KUBEADM_PINS.get(minor)
    if pins is None or minor not in COREDNS_VERSIONS:
        raise InputError(f"khatui bundle: no list of kubeadm's images for Kubernetes 1.{minor}")
    control = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy")
    return [
        *(f"{REGISTRY}/{name}:v{version}" for name in control),
        f"{COREDNS_IMAGE}:{COREDNS_VERSIONS[minor]}",
        f"{REGISTRY}/pause:{pins['pause']}",
        f"{REGISTRY}/etcd:{pins['etcd']}",
    ]


def _images_in(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "image" and isinstance(item, str):
                yield item
            else:
                yield from _images_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _images_in(item)


def rendered_images(files: Iterable[RenderedFile]) -> list[str]:
    """Every `image:` of the static-pod manifests and addons among `files`, each once."""
    found: list[str] = []
    for file in files:
        if file.kind in (FileKind.MANIFEST, FileKind.ADDON):
            for document in yaml.safe_load_all(file.text):
                found += _images_in(document)
    return list(dict.fromkeys(found))


def cluster_images(cluster: Cluster, files: Iterable[RenderedFile]) -> list[str]:
    """kubeadm's images, then the rendered files' others."""
    return list(dict.fromkeys([*kubeadm_images(cluster), *rendered_images(files)]))


def copy_image(reference: str, archive: str, arch: str, registries_conf: str | None = None) -> None:
    """`skopeo copy` the `arch` image of `reference` into the OCI archive `archive`; `registries_conf`:
    skopeo's registries.conf (mirrors, insecure registries) instead of the machine's."""
    if reference.startswith("-") or any(c.isspace() for c in reference):
        raise InputError(f"{reference!r} is not an image reference")
    command = [
        "skopeo",
        *(["--registries-conf", registries_conf] if registries_conf else []),
        "--override-os",
        "linux",
        "--override-arch",
        arch,
        "copy",
        "--quiet",
        f"docker://{reference}",
        f"oci-archive:{archive}:{reference}",
    ]
    missing = "khatui bundle: skopeo is not installed (Debian/Ubuntu: apt-get install skopeo)"
    run_tool(command, f"skopeo copy {reference}", COPY_TIMEOUT_S, _last_line, missing)


def _last_line(stderr: str) -> str:
    """skopeo's last line (its fatal error)."""
    return (stderr.strip().splitlines() or [""])[-1]
