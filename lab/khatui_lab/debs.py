"""The real Debian packages the rollout installs on bare nodes, fetched once on the host with apt.

apt resolves the dependencies against the bare image's own dpkg status (not the host's), so the
download holds exactly what a bare node lacks; it only downloads (`--download-only`), nothing is
installed on the host. etcd comes from Debian trixie (3.5.16; bookworm's 3.4.23 is too old for
kubeadm v1.31), fetched and verified against the Debian archive key by `scripts/trixie-etcd`, and
handed to apt as local .debs so their dependencies are resolved the same way. The result is cached
under a name hashed from the package list, built aside and renamed into place when complete.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from khatui.errors import KhatuiError
from khatui_lab.host import run

PACKAGES = (
    "containerd",
    "runc",
    "containernetworking-plugins",
    "conntrack",
    "socat",
    "iptables",
    "ebtables",
    "ipset",
    "ipvsadm",
    "curl",
    "haproxy",
    "keepalived",
    "nginx-light",
    "libnginx-mod-stream",
    "nfs-common",
    "open-iscsi",
)
"""Bookworm packages the install phase wants (with etcd-server and etcd-client from trixie)."""
TRIXIE = ("etcd-server", "etcd-client")
TRIXIE_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "trixie-etcd"
READY = "khatui-debs.ready"


def debs_dir(cache: Path, image: Path) -> Path:
    """The cached download for `image` (its name hashes the package lists and the image)."""
    key = hashlib.sha256(" ".join((image.name, *PACKAGES, *TRIXIE)).encode()).hexdigest()[:12]
    return cache / f"debs-{key}"


def ensure_debs(cache: Path, image: Path, progress: Callable[[str], None]) -> Path:
    """The folder of every .deb a bare node needs for the install phase, downloaded when missing."""
    target = debs_dir(cache, image)
    if (target / READY).exists():
        return target
    building = target.with_name(f"{target.name}.building-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    (building / "partial").mkdir(parents=True)
    progress(f"fetching the Debian packages bare nodes install ({len(PACKAGES) + len(TRIXIE)}, with dependencies)")
    trixie = _trixie_debs(cache / "trixie-etcd")
    argv = [
        "apt-get",
        "--download-only",
        "--yes",
        "--quiet=2",
        "-o",
        f"Dir::State::status={image / 'var/lib/dpkg/status'}",
        "-o",
        f"Dir::Cache::archives={building}",
        "-o",
        "Debug::NoLocking=1",
        "-o",
        "APT::Install-Recommends=false",
        "install",
        *PACKAGES,
        *(str(deb) for deb in trixie),
    ]
    run(argv, env={"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "LC_ALL": "C"}, timeout=1800)
    shutil.rmtree(building / "partial")
    (building / "lock").unlink(missing_ok=True)
    for deb in trixie:
        shutil.copy2(deb, building / deb.name)
    names = sorted(path.name for path in building.glob("*.deb"))
    (building / READY).write_text("\n".join(names) + "\n")
    shutil.rmtree(target, ignore_errors=True)
    building.rename(target)
    return target


def _trixie_debs(folder: Path) -> list[Path]:
    """trixie's etcd-server and etcd-client, fetched and verified by scripts/trixie-etcd."""
    if not TRIXIE_SCRIPT.exists():
        raise KhatuiError(f"{TRIXIE_SCRIPT} is missing: bare labs need khatui's source tree for trixie's etcd")
    listed = run([str(TRIXIE_SCRIPT), str(folder)], timeout=600).stdout.decode().split()
    return [Path(line) for line in listed]
