"""What khatui installs on the nodes, and where the bits come from (`spec.install`).

Three kinds of bits, each with its own source, because they are fetched and verified differently:
release binaries (kubeadm, kubelet, kubectl, crictl, containerd, runc, the CNI plugins, etcd)
checked against published sha256 sums; distribution packages (conntrack, haproxy, nfs-common...)
from the node's package manager, whose repositories sign them; container images from registries.
An air-gapped `bundle` replaces all three sources at once. The defaults work on a connected
machine: upstream binaries fetched once on the operator's machine and uploaded over SSH, the nodes'
own package repositories, the images' own registries.
"""

from __future__ import annotations

import re
import urllib.parse
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field, field_validator, model_validator

from khatui.spec.base import SpecModel, Version, control_character

_URL_PATH = re.compile(r"[A-Za-z0-9._~/%+:@=,-]*")


def _http_url(value: str) -> str:
    """An http(s) base URL of plain characters (it reaches curl, apt sources and containerd's config)."""
    if control_character(value):  # urlsplit would quietly drop a newline or a tab
        raise ValueError(f"contains a control character ({control_character(value)}); a URL is one line of plain text")
    parsed = urllib.parse.urlsplit(value)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ValueError(f"{value!r} is not an http:// or https:// URL")
    if parsed.query or parsed.fragment or parsed.username or parsed.password:
        raise ValueError(f"{value!r}: a base URL has no query, fragment or credentials")
    if not _URL_PATH.fullmatch(parsed.path) or not re.fullmatch(r"[A-Za-z0-9.:\[\]-]+", parsed.netloc):
        raise ValueError(f"{value!r}: only letters, digits and . _ ~ / % + : @ = , - in a URL")
    return value.rstrip("/")


HttpURL = Annotated[str, AfterValidator(_http_url)]
"""An http:// or https:// base URL, without a trailing slash."""

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_REGISTRY_HOST = re.compile(rf"{_LABEL}(?:\.{_LABEL})*(?::(?P<port>[0-9]{{1,5}}))?")


def _registry_host_problem(value: str) -> str | None:
    """Why `value` is not a registry host as image names spell it (`registry.k8s.io`,
    `10.0.0.5:5000`), None when it is one. It names containerd's hosts directory
    (/etc/containerd/certs.d/<host>/), so nothing but a host and a port may be in it."""
    match = _REGISTRY_HOST.fullmatch(value)
    if match and (match["port"] is None or 0 < int(match["port"]) < 65536):
        return None
    return f"{value!r} is not a registry host (host or host:port, as in registry.k8s.io or 10.0.0.5:5000)"


class Fetcher(StrEnum):
    """Where release binaries are downloaded."""

    OPERATOR = "operator"
    NODES = "nodes"


class Binaries(SpecModel):
    """Release binaries, checked against their published sha256 before use."""

    fetch_on: Fetcher = Fetcher.OPERATOR
    """operator: downloaded once on the operator's machine into a verified cache and uploaded to each
    node over SSH (nodes need no internet; bastions just work); nodes: each node downloads them."""
    mirror: HttpURL | None = None
    """A base URL serving the upstream files under their upstream host and path (as Kubespray's
    `files_repo`: `<mirror>/dl.k8s.io/release/v1.31.4/bin/linux/amd64/kubeadm`); default: upstream."""
    checksums: str | None = None
    """A sha256sum file (on the operator's machine) for files that are not upstream's: lines
    `<sha256>  <path under the mirror>`; it extends khatui's table of published sums."""
    containerd: Version | None = None
    """containerd version; default: the one khatui pairs with kubernetesVersion."""
    runc: Version | None = None
    """runc version; default: the one khatui pairs with containerd."""
    cni_plugins: Version | None = Field(default=None, alias="cniPlugins")
    """containernetworking/plugins version; default: khatui's tested one."""
    crictl: Version | None = None
    """cri-tools version; default: the minor of kubernetesVersion."""


class PackageMirror(SpecModel):
    """A distribution package repository to use instead of the nodes' own."""

    url: HttpURL
    """Base URL of the repository (apt: the archive root; dnf: the baseurl)."""
    key: str
    """Its signing key, a file on the operator's machine (apt: OpenPGP, armored or binary; dnf: gpgkey)."""
    suite: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9.+-]*$")
    """apt suite; default: the node's codename."""
    components: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._/+-]*$")]] = Field(
        default=["main"], min_length=1
    )
    """apt components."""


class Packages(SpecModel):
    """Distribution packages the nodes' roles need (conntrack, haproxy, nfs-common, ...)."""

    mirror: PackageMirror | None = None
    """Install from this repository only; default: the nodes' configured repositories."""


class Images(SpecModel):
    """Container images (the control plane's, the addons', the pod network's)."""

    mirrors: dict[str, list[HttpURL]] = {}
    """Per registry host, mirror endpoints for containerd (e.g. registry.k8s.io: [https://mirror.local])."""

    @field_validator("mirrors")
    @classmethod
    def _registry_hosts(cls, mirrors: dict[str, list[str]]) -> dict[str, list[str]]:
        problems = [problem for host in mirrors if (problem := _registry_host_problem(host))]
        if problems:
            raise ValueError(problems[0])
        return mirrors


class Install(SpecModel):
    """What khatui installs on each node before it configures anything."""

    enabled: bool = True
    """Install and configure what each node's roles need; false: the operator has done it (plan
    then only checks it, in preflight)."""
    binaries: Binaries = Binaries()
    """Release binaries."""
    packages: Packages = Packages()
    """Distribution packages."""
    images: Images = Images()
    """Container images."""
    bundle: str | None = None
    """An air-gapped bundle (`khatui bundle`), a directory on the operator's machine: binaries,
    packages and images all come from it, every file verified against its manifest."""

    @model_validator(mode="after")
    def _one_source(self) -> Install:
        if self.bundle and (self.binaries.mirror or self.packages.mirror):
            raise ValueError("a bundle is the only source: leave out binaries.mirror and packages.mirror")
        return self
