"""What the host must offer before a lab can exist: Linux, root, kernel features, Debian packages.

Packages are installed before any node boots because nodes see the host's /usr through an overlay
lower layer: what the host lacks, every node lacks. Debian's policy-rc.d (present on these images)
keeps the packages' postinst scripts from starting etcd, haproxy or keepalived on the host itself.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from khatui.errors import KhatuiError
from khatui_lab.host import run

PACKAGES = (
    "openssh-server",
    "etcd-server",
    "etcd-client",
    "haproxy",
    "keepalived",
    "python3-yaml",
    "openssl",
    "curl",
    "iproute2",
    "systemd",
)
"""Debian packages the lab needs: the real services khatui rolls out, sshd, systemd for each node's
PID 1, python3-yaml and openssl for the stand-ins, curl for the rollout's API health probe, iproute2
for links and namespaces."""
BARE_PACKAGES = ("debootstrap", "apt-utils", "gnupg", "dpkg-dev", "curl", "gpgv", "xz-utils")
"""What a bare lab also needs on the host: debootstrap for the nodes' image, apt-ftparchive (apt-utils)
and gpg for the signed repository, dpkg-deb (dpkg-dev) to repackage binaries, curl, gpgv and xz for
scripts/trixie-etcd."""
SYSTEMD = Path("/lib/systemd/systemd")
TOOLS = ("ip", "ss", "nsenter", "unshare", "setsid", "mount", "umount", "dpkg-query")


def require_linux_root() -> None:
    """`KhatuiError` unless this is Linux and we are root."""
    if not sys.platform.startswith("linux"):
        raise KhatuiError(f"the lab needs Linux (namespaces, overlayfs, cgroup2); this is {sys.platform}")
    if os.geteuid() != 0:
        raise KhatuiError("the lab needs root (it creates namespaces, links and mounts): run it with sudo")


def missing_packages(extra: tuple[str, ...] = ()) -> list[str]:
    """The lab's Debian packages (and `extra`) that are not installed."""
    missing = []
    for package in (*PACKAGES, *extra):
        result = run(["dpkg-query", "-W", "-f=${Status}", package], check=False)
        if b"install ok installed" not in result.stdout:
            missing.append(package)
    return missing


def install_packages(progress: Callable[[str], None], extra: tuple[str, ...] = ()) -> None:
    """Install the missing packages (and `extra`) with apt-get (after `apt-get update`), saying so first."""
    if shutil.which("dpkg-query") is None:
        raise KhatuiError("the lab needs a Debian-based host (dpkg and apt-get were not found)")
    missing = missing_packages(extra)
    if not missing:
        return
    progress(f"installing Debian packages the lab needs: {' '.join(missing)} (apt-get update first)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "-o", "DPkg::Lock::Timeout=300", "update", "-qq"], env=env, timeout=900)
    run(
        ["apt-get", "-o", "DPkg::Lock::Timeout=300", "install", "-y", "-qq", *missing],
        env=env,
        timeout=1800,
    )
    still = missing_packages(extra)
    if still:
        raise KhatuiError(f"apt-get did not install: {' '.join(still)}")


def check_host() -> None:
    """`KhatuiError` naming the first missing tool or kernel feature."""
    for tool in TOOLS:
        if shutil.which(tool) is None:
            raise KhatuiError(f"the lab needs {tool!r}, which is not on PATH")
    if not SYSTEMD.exists():
        raise KhatuiError(f"{SYSTEMD} is missing: the lab runs the host's systemd as each node's PID 1")
    filesystems = Path("/proc/filesystems").read_text()
    for fs in ("overlay", "cgroup2", "devpts", "tmpfs"):
        if fs not in filesystems:
            raise KhatuiError(f"the kernel lacks the {fs} filesystem the lab needs")
