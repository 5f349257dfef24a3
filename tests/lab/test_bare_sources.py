"""A bare lab's sources built on the host from small fake .debs: the files mirror's layout and sums,
the signed repository (gpgv accepts it, refuses it tampered), the spec it writes, its deviations.

Untiered: no lab is booted (dpkg-deb, apt-ftparchive and gpg are the lab's host tools).
"""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

import pytest

from khatui.spec.validate import validate_data
from khatui_lab import mirror, repo
from khatui_lab.deviations import describe
from khatui_lab.labspec import lab_spec_data
from khatui_lab.layout import parse_subnet, plan_layout
from khatui_lab.standins_install import archive

BINARIES = {
    ("containerd", "1.6.20~ds1-1+deb12u3"): {"usr/bin/containerd": b"c", "usr/bin/ctr": b"ctr", "usr/share/doc/x": b""},
    ("runc", "1.1.5+ds1-1+deb12u1"): {"usr/sbin/runc": b"\x7fELF runc"},
    ("containernetworking-plugins", "1.1.1+ds1-3+b5"): {
        "usr/lib/cni/bridge": b"b",
        "usr/lib/cni/loopback": b"l CNI %s plugin %s\x00version unknown\x00",
    },
    ("etcd-server", "3.5.16-4"): {"usr/bin/etcd": b"etcd", "usr/bin/etcdutl": b"etcdutl"},
    ("etcd-client", "3.5.16-4"): {"usr/bin/etcdctl": b"etcdctl"},
}


def make_deb(folder: Path, package: str, version: str, files: dict[str, bytes]) -> Path:
    """A minimal .deb of `package` holding `files` (built with dpkg-deb)."""
    tree = folder / f"{package}-tree"
    (tree / "DEBIAN").mkdir(parents=True)
    control = f"Package: {package}\nVersion: {version}\nArchitecture: amd64\nMaintainer: t <t@t>\nDescription: t\n"
    (tree / "DEBIAN/control").write_text(control)
    for path, data in files.items():
        (tree / path).parent.mkdir(parents=True, exist_ok=True)
        (tree / path).write_bytes(data)
    deb = folder / "debs" / f"{package}_{version.replace(':', '%3a')}_amd64.deb"
    deb.parent.mkdir(exist_ok=True)
    subprocess.run(["dpkg-deb", "--root-owner-group", "--build", str(tree), str(deb)], check=True, capture_output=True)
    return deb


@pytest.fixture(scope="module")
def debs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fake-debs")
    for (package, version), files in BINARIES.items():
        make_deb(folder, package, version, files)
    return folder / "debs"


@pytest.mark.parametrize(
    ("name", "upstream"),
    [
        ("containerd_1.6.20~ds1-1+deb12u3_amd64.deb", "1.6.20"),
        ("runc_1.1.5+ds1-1+deb12u1_amd64.deb", "1.1.5"),
        ("containernetworking-plugins_1.1.1+ds1-3+b5_amd64.deb", "1.1.1"),
        ("etcd-server_3.5.16-4_amd64.deb", "3.5.16"),
        ("conntrack_1%3a1.4.7-1+b2_amd64.deb", "1.4.7"),
    ],
)
def test_upstream_version_of_a_debian_package(name: str, upstream: str) -> None:
    assert mirror.upstream_version(Path(name)) == upstream


def _members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name: (tar.extractfile(m) or io.BytesIO()).read() for m in tar.getmembers()}


def test_files_mirror_has_the_upstream_layout_and_its_sums_check(debs: Path, tmp_path: Path) -> None:
    files = mirror.ensure_files(tmp_path, debs)
    gh = files / "github.com"
    containerd = _members(gh / "containerd/containerd/releases/download/v1.6.20/containerd-1.6.20-linux-amd64.tar.gz")
    assert containerd == {"bin/containerd": b"c", "bin/ctr": b"ctr"}
    assert (gh / "opencontainers/runc/releases/download/v1.1.5/runc.amd64").read_bytes() == b"\x7fELF runc"
    cni = _members(gh / "containernetworking/plugins/releases/download/v1.1.1/cni-plugins-linux-amd64-v1.1.1.tgz")
    # Debian's build has no version: the mirror writes the archive's over "version unknown".
    assert cni == {"./bridge": b"b", "./loopback": b"l CNI %s plugin %s\x00v1.1.1         \x00"}
    etcd = _members(gh / "etcd-io/etcd/releases/download/v3.5.16/etcd-v3.5.16-linux-amd64.tar.gz")
    assert set(etcd) == {f"etcd-v3.5.16-linux-amd64/{name}" for name in ("etcd", "etcdctl", "etcdutl")}
    kubeadm = (files / "dl.k8s.io/release/v1.31.4/bin/linux/amd64/kubeadm").read_text()
    assert kubeadm.startswith("#!/usr/bin/python3\n# khatui lab stand-in for kubeadm")
    crictl = _members(gh / "kubernetes-sigs/cri-tools/releases/download/v1.31.0/crictl-v1.31.0-linux-amd64.tar.gz")
    assert b"khatui lab stand-in for crictl" in crictl["crictl"]
    checked = subprocess.run(["sha256sum", "--strict", "-c", mirror.SUMS], cwd=files, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert len(checked.stdout.splitlines()) == 8
    assert mirror.ensure_files(tmp_path, debs) == files  # cached: built once


def _gpgv(tmp_path: Path, key: Path, *signed: Path) -> subprocess.CompletedProcess[str]:
    keyring = tmp_path / "keyring.gpg"
    keyring.write_bytes(subprocess.run(["gpg", "--dearmor"], input=key.read_bytes(), capture_output=True).stdout)
    return subprocess.run(["gpgv", "--keyring", str(keyring), *map(str, signed)], capture_output=True, text=True)


def test_repository_is_signed_with_the_labs_key_and_refused_when_tampered(debs: Path, tmp_path: Path) -> None:
    lab_dir = tmp_path / "lab"
    lab_dir.mkdir()
    key = repo.build(lab_dir / "serve", debs, lab_dir / "gnupg", "unit")
    assert key == lab_dir / repo.KEY and b"BEGIN PGP PUBLIC KEY BLOCK" in key.read_bytes()
    dist = lab_dir / "serve/debian/dists/bookworm"
    packages = (dist / "main/binary-amd64/Packages").read_text()
    assert "Package: containerd\n" in packages and "Filename: pool/main/runc_1.1.5+ds1-1+deb12u1_amd64.deb" in packages
    release = (dist / "Release").read_text()
    assert "Suite: bookworm" in release and "main/binary-amd64/Packages.gz" in release
    assert _gpgv(tmp_path, key, dist / "InRelease").returncode == 0
    assert _gpgv(tmp_path, key, dist / "Release.gpg", dist / "Release").returncode == 0
    (dist / "Release").write_text(release.replace("Origin: khatui-lab", "Origin: someone-else"))
    refused = _gpgv(tmp_path, key, dist / "Release.gpg", dist / "Release")
    assert refused.returncode != 0 and "BAD signature" in refused.stderr


@pytest.mark.parametrize("bare", [False, True])
def test_lab_spec_names_the_labs_sources_only_when_bare(bare: bool) -> None:
    layout = plan_layout("unit", parse_subnet("10.95.9.0/24"), 3)
    data = lab_spec_data(layout, Path("/labs/unit/id_ed25519"), bare)
    report = validate_data(data)
    assert report.cluster is not None and not report.problems
    install = report.cluster.spec.install
    if not bare:
        assert install.binaries.mirror is None and install.packages.mirror is None
        return
    assert install.binaries.mirror == "http://10.95.9.1:8642/files"
    assert install.binaries.checksums == "/labs/unit/SHA256SUMS"
    versions = (install.binaries.containerd, install.binaries.runc, install.binaries.cni_plugins)
    assert versions == ("1.6.20", "1.1.5", "1.1.1")
    assert install.packages.mirror is not None and install.packages.mirror.url == "http://10.95.9.1:8642/debian"
    assert install.packages.mirror.key == "/labs/unit/repository.asc"
    assert report.cluster.spec.etcd.version == "3.5.16"


def test_bare_deviations_name_the_stand_in_kube_tools() -> None:
    assert describe(bare=False) == describe()
    extra = describe(bare=True)[len(describe()) :]
    assert len(extra) == 2 and "kubeadm, kubelet, kubectl and crictl" in extra[0]


def test_bare_nodes_get_only_the_control_plane_stand_ins() -> None:
    with tarfile.open(fileobj=io.BytesIO(archive(bare=True))) as tar:
        bare = set(tar.getnames())
    with tarfile.open(fileobj=io.BytesIO(archive())) as tar:
        full = set(tar.getnames())
    assert "usr/local/bin/kube-apiserver" in bare and "usr/local/lib/khatui-lab/khatui_lab_standins/kubeadm.py" in bare
    rollouts = {
        "usr/local/bin/kubeadm",
        "usr/local/bin/kubelet",
        "usr/bin/kubectl",
        "usr/lib/systemd/system/kubelet.service",
    }
    assert rollouts <= full and not rollouts & bare


@pytest.mark.parametrize(("args", "bare"), [([], True), (["--bare"], True), (["--host-image"], False)])
def test_lab_up_starts_bare_unless_asked_for_the_host_image(args: list[str], bare: bool) -> None:
    import argparse

    from khatui_lab import command

    parser = argparse.ArgumentParser()
    command.register(parser.add_subparsers())
    assert parser.parse_args(["lab", "up", *args]).bare is bare
