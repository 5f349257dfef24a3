"""The bare lab's files mirror: release binaries in Kubespray's `files_repo` layout, with SHA256SUMS.

No registry this machine reaches has the upstream release archives, so the lab repackages the
real binaries from Debian's .debs into the upstream archives' shapes (as their release pages and
Kubespray's download roles unpack them):

    github.com/containerd/containerd/releases/download/v{v}/containerd-{v}-linux-{arch}.tar.gz  bin/containerd ...
    github.com/opencontainers/runc/releases/download/v{v}/runc.{arch}                          the binary itself
    github.com/containernetworking/plugins/releases/download/v{v}/cni-plugins-linux-{arch}-v{v}.tgz  ./bridge ...
    github.com/etcd-io/etcd/releases/download/v{v}/etcd-v{v}-linux-{arch}.tar.gz  etcd-v{v}-linux-{arch}/etcd ...

kubeadm, kubelet and kubectl are in no registry at all: under dl.k8s.io/release/{v}/bin/linux/{arch}/
sit the lab's stand-in launchers (headed "khatui lab stand-in", needing the stand-ins package the
lab puts on its nodes), and crictl's archive holds a stand-in crictl (a declared deviation).
Debian builds the CNI plugins without their version (`loopback --version` says "CNI loopback plugin
version unknown", where upstream's say "v1.1.1"), so the lab writes the archive's version over that
text, padded to its length (`stamp_cni_version`): khatui reads the version as it does upstream's.
`SHA256SUMS` at the root lists every file as sha256sum prints it. Built once into the cache.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import re
import shutil
import tarfile
from pathlib import Path

from khatui_lab.host import run
from khatui_lab.standins_install import launcher

ARCH = "amd64"
KUBERNETES = "v1.31.4"
"""The Kubernetes version the stand-ins claim (the lab spec's kubernetesVersion)."""
CRICTL = "1.31.0"
"""The crictl version of the stand-in crictl."""
SUMS = "SHA256SUMS"
READY = "khatui-files.ready"
CRICTL_STANDIN = """\
#!/usr/bin/python3
# khatui lab stand-in for crictl: NOT the real crictl (cri-tools has no Debian package).
# It answers `crictl --version` only; the lab's kubeadm stand-in skips ImagePull (imagePullPolicy Never).
import sys

if sys.argv[1:] in (["--version"], ["-v"], ["version"]):
    print("crictl version v{version}")
    sys.exit(0)
print("crictl (khatui lab stand-in): only --version is implemented", file=sys.stderr)
sys.exit(1)
"""


def upstream_version(deb: Path) -> str:
    """The upstream version of a .deb named `name_version_arch.deb` (epoch, ~ds, + and revision cut)."""
    version = deb.name.split("_")[1].replace("%3a", ":")
    found = re.match(r"(?:\d+:)?(\d+(?:\.\d+)*)", version)
    if found is None:
        raise ValueError(f"{deb.name}: no upstream version")
    return found.group(1)


UNKNOWN_VERSION = b"version unknown"
"""containernetworking/plugins pkg/utils/buildversion: BuildVersion when the build sets none."""
LAYOUT = b"2"
"""The mirror's build recipe revision (in the cache key: a changed recipe builds it again)."""


def stamp_cni_version(data: bytes, version: str) -> bytes:
    """A CNI plugin binary whose version line names `version` (upstream's `v1.1.1` form)."""
    stamp = f"v{version}".encode().ljust(len(UNKNOWN_VERSION))
    return data.replace(UNKNOWN_VERSION, stamp[: len(UNKNOWN_VERSION)])


def files_dir(cache: Path, debs: Path) -> Path:
    """The cached mirror built from `debs` (its name hashes the deb set, the stand-ins' launchers and
    the recipe's revision)."""
    key = hashlib.sha256(debs.name.encode() + launcher("kubeadm").encode() + CRICTL_STANDIN.encode() + LAYOUT)
    return cache / f"files-{key.hexdigest()[:12]}"


def ensure_files(cache: Path, debs: Path) -> Path:
    """The files mirror (with SHA256SUMS at its root), built when missing."""
    target = files_dir(cache, debs)
    if (target / READY).exists():
        return target
    building = target.with_name(f"{target.name}.building-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    for path, data, mode in _artifacts(debs):
        out = building / path
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
        out.chmod(mode)
    lines = [f"{hashlib.sha256((building / p).read_bytes()).hexdigest()}  {p}" for p in _listing(building)]
    (building / SUMS).write_text("\n".join(lines) + "\n")
    (building / READY).write_text("")
    shutil.rmtree(target, ignore_errors=True)
    building.rename(target)
    return target


def _listing(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def _artifacts(debs: Path) -> list[tuple[str, bytes, int]]:
    """(path under the mirror, content, mode) of every file of the mirror."""
    deb = {name: _one(debs, name) for name in ("containerd", "runc", "containernetworking-plugins", "etcd-server")}
    containerd, runc, cni, etcd = (upstream_version(deb[n]) for n in deb)
    containerd_bin = _members(deb["containerd"], "usr/bin/")
    etcd_bin = _members(deb["etcd-server"], "usr/bin/") | _members(_one(debs, "etcd-client"), "usr/bin/")
    gh = "github.com"
    kube = f"dl.k8s.io/release/{KUBERNETES}/bin/linux/{ARCH}"
    etcd_top = f"etcd-v{etcd}-linux-{ARCH}"
    return [
        *((f"{kube}/{name}", launcher(name).encode(), 0o755) for name in ("kubeadm", "kubelet", "kubectl")),
        (
            f"{gh}/containerd/containerd/releases/download/v{containerd}/containerd-{containerd}-linux-{ARCH}.tar.gz",
            _targz({f"bin/{name}": data for name, data in containerd_bin.items()}),
            0o644,
        ),
        (
            f"{gh}/opencontainers/runc/releases/download/v{runc}/runc.{ARCH}",
            _members(deb["runc"], "usr/sbin/")["runc"],
            0o755,
        ),
        (
            f"{gh}/containernetworking/plugins/releases/download/v{cni}/cni-plugins-linux-{ARCH}-v{cni}.tgz",
            _targz(
                {
                    f"./{name}": stamp_cni_version(data, cni)
                    for name, data in _members(deb["containernetworking-plugins"], "usr/lib/cni/").items()
                }
            ),
            0o644,
        ),
        (
            f"{gh}/etcd-io/etcd/releases/download/v{etcd}/{etcd_top}.tar.gz",
            _targz({f"{etcd_top}/{name}": data for name, data in etcd_bin.items()}),
            0o644,
        ),
        (
            f"{gh}/kubernetes-sigs/cri-tools/releases/download/v{CRICTL}/crictl-v{CRICTL}-linux-{ARCH}.tar.gz",
            _targz({"crictl": CRICTL_STANDIN.format(version=CRICTL).encode()}),
            0o644,
        ),
    ]


def _one(debs: Path, package: str) -> Path:
    found = sorted(debs.glob(f"{package}_*.deb"))
    if len(found) != 1:
        raise FileNotFoundError(f"{debs}: expected one {package}_*.deb, found {len(found)}")
    return found[0]


def _members(deb: Path, folder: str) -> dict[str, bytes]:
    """The regular files directly in `folder` of the .deb's file system tree, by name."""
    tree = run(["dpkg-deb", "--fsys-tarfile", str(deb)], timeout=300).stdout
    found: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(tree)) as tar:
        for member in tar.getmembers():
            name = member.name.removeprefix("./")
            if member.isfile() and name.startswith(folder) and "/" not in name[len(folder) :]:
                extracted = tar.extractfile(member)
                assert extracted is not None  # a regular file always has content
                found[name[len(folder) :]] = extracted.read()
    return found


def _targz(files: dict[str, bytes]) -> bytes:
    """A .tar.gz of executables (mode 0755, root-owned, fixed mtime: the same input gives the same bytes)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(files[name]), 0o755, 0
            tar.addfile(info, io.BytesIO(files[name]))
    return gzip.compress(raw.getvalue(), compresslevel=1, mtime=0)
