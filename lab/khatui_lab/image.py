"""The bare nodes' root file system: a minimal Debian 12 made once with debootstrap, then cached.

A bare lab node sees this image, not the host, through its overlay lower layers (/etc, /usr, /var,
/opt, /home, /srv), so nothing the host installed (etcd, haproxy, containerd...) shows through.
The image holds only what makes a lab node a node: systemd as its PID 1, sshd, python3 with
PyYAML and openssl for the lab's stand-ins, iproute2, ca-certificates. Whatever the rollout
installs is deliberately absent. The cache folder is named after the package list's hash, so a
changed list builds a new image; a build goes to a temporary folder renamed into place when it is
complete, so a killed build is never used.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from khatui.userdirs import data_dir
from khatui_lab.host import run

SUITE = "bookworm"
REGISTRY = "http://deb.debian.org/debian"
PACKAGES = (
    "systemd",
    "dbus",
    "openssh-server",
    "python3",
    "python3-yaml",
    "openssl",
    "iproute2",
    "ca-certificates",
    "procps",
)
"""What a bare node has besides debootstrap's minbase (no package the rollout installs)."""
NOT_IN_IMAGE = ("containerd", "runc", "etcd-server", "etcd-client", "haproxy", "keepalived", "conntrack", "iptables")
"""Packages the rollout installs: a bare node must not have them (tests check it)."""
READY = "khatui-image.ready"
"""Written last into a finished image: its package list."""


def cache_dir() -> Path:
    """Where the lab caches what it builds once for every lab: `$KHATUI_LAB_CACHE`, else
    `<data dir>/lab-cache` (tests point the variable at a cache they keep between runs)."""
    explicit = os.environ.get("KHATUI_LAB_CACHE")
    return Path(explicit) if explicit else data_dir() / "lab-cache"


def image_key(packages: tuple[str, ...] = PACKAGES) -> str:
    """The cache key of an image: suite and package list, hashed."""
    return hashlib.sha256(" ".join((SUITE, *sorted(packages))).encode()).hexdigest()[:12]


def image_dir(cache: Path) -> Path:
    """The image's folder in `cache` (it may not be built yet)."""
    return cache / f"rootfs-{SUITE}-{image_key()}"


def ensure_image(cache: Path, progress: Callable[[str], None]) -> Path:
    """The cached image, built first when missing (debootstrap from the Debian registry, ~30 s)."""
    target = image_dir(cache)
    if (target / READY).exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    building = target.with_name(f"{target.name}.building-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    progress(f"building the bare nodes' root file system (debootstrap {SUITE} minbase) in {target}")
    argv = ["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", SUITE, str(building), REGISTRY]
    run(argv, timeout=1800)
    _make_node_ready(building)
    (building / READY).write_text("\n".join(PACKAGES) + "\n")
    shutil.rmtree(target, ignore_errors=True)
    building.rename(target)
    return target


def _make_node_ready(root: Path) -> None:
    """What every bare node shares: no upstream sources (the nodes are offline; the rollout names the
    lab's repository), apt's download cache emptied, no host keys (each node gets its own)."""
    (root / "etc/apt/sources.list").unlink(missing_ok=True)
    for deb in (root / "var/cache/apt/archives").glob("*.deb"):
        deb.unlink()
    for key in (root / "etc/ssh").glob("ssh_host_*"):
        key.unlink()
