"""The local store: private modes, atomic and idempotent writes, completing what is missing, nothing else."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from khatui.errors import KhatuiError
from khatui.localfs import UnsafePathError
from khatui.pki.store import Store
from khatui.userdirs import cluster_dir
from tests.pki.conftest import CLI, openssl, snapshot, write_spec


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A permissive umask (000), restored afterwards: modes must not depend on the operator's umask."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def modes(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): stat.S_IMODE(p.stat().st_mode) for p in [root, *root.rglob("*")]}


@pytest.mark.usefixtures("open_umask")
def test_default_store_is_in_the_cluster_data_dir_with_private_modes(tmp_path: Path, cli: CLI) -> None:
    spec = write_spec(tmp_path)
    result = cli("certs", "generate", spec)
    assert result.code == 0, result.err
    root = cluster_dir("prod-stacked") / "pki"
    assert str(root) in result.out and "created (22 issued, 0 kept)" in result.out
    found = modes(root)
    assert len(found) == 1 + 2 + 3 + 2 * 18 + 3 * 2 + 2  # root, ca/, nodes/, 3 node dirs, leaves, CAs, sa
    for name, mode in found.items():
        expected = 0o700 if (root / name).is_dir() else 0o600
        assert mode == expected, f"{name}: {mode:o}"
    assert not [p for p in root.rglob("*") if p.name.endswith(".tmp")]


def test_second_generate_changes_no_file(tmp_path: Path, cli: CLI) -> None:
    spec = write_spec(tmp_path)
    store = tmp_path / "pki"
    assert cli("certs", "generate", spec, "--dir", store).code == 0
    before = snapshot(store)
    result = cli("certs", "generate", spec, "--dir", store)
    assert result.code == 0 and "unchanged (0 issued, 22 kept)" in result.out
    assert snapshot(store) == before  # same bytes, same mtime, same inode


def test_generate_completes_only_what_is_missing_or_broken(tmp_path: Path, cli: CLI) -> None:
    spec = write_spec(tmp_path)
    store = tmp_path / "pki"
    assert cli("certs", "generate", spec, "--dir", store).code == 0
    (store / "nodes" / "cp2" / "etcd-peer.key").unlink()
    (store / "nodes" / "cp3" / "apiserver.crt").unlink()
    other = store / "nodes" / "cp1" / "front-proxy-client.key"
    other.write_bytes((store / "nodes" / "cp1" / "apiserver.key").read_bytes())  # key of another cert
    before = snapshot(store)
    result = cli("certs", "generate", spec, "--dir", store)
    assert result.code == 0
    assert "updated (3 issued, 19 kept)" in result.out
    assert "cp2/etcd-peer" in result.out and "its key is missing" in result.out
    assert "cp3/apiserver" in result.out and "missing" in result.out
    assert "cp1/front-proxy-client" in result.out and "does not match" in result.out
    after = snapshot(store)
    changed = {name for name in after if before.get(name) != after[name]}
    assert changed == {
        "nodes/cp2/etcd-peer.crt", "nodes/cp2/etcd-peer.key", "nodes/cp3/apiserver.crt", "nodes/cp3/apiserver.key",
        "nodes/cp1/front-proxy-client.crt", "nodes/cp1/front-proxy-client.key",
    }  # fmt: skip
    for name in ("cp2/etcd-peer", "cp3/apiserver"):
        ca = store / "ca" / ("etcd.crt" if "etcd" in name else "kubernetes.crt")
        assert openssl("verify", "-CAfile", ca, store / "nodes" / f"{name}.crt").returncode == 0


def test_a_new_ca_reissues_exactly_the_leaves_it_signs(tmp_path: Path, cli: CLI) -> None:
    spec = write_spec(tmp_path)
    store = tmp_path / "pki"
    assert cli("certs", "generate", spec, "--dir", store).code == 0
    (store / "ca" / "front-proxy.crt").unlink()
    (store / "ca" / "front-proxy.key").unlink()
    result = cli("certs", "generate", spec, "--dir", store)
    assert result.code == 0 and "updated (4 issued, 18 kept)" in result.out
    assert result.out.count("its front-proxy CA is new") == 3


def test_half_a_ca_is_a_damaged_store_and_nothing_is_written(tmp_path: Path, cli: CLI) -> None:
    spec = write_spec(tmp_path)
    store = tmp_path / "pki"
    assert cli("certs", "generate", spec, "--dir", store).code == 0
    (store / "ca" / "etcd.key").unlink()
    before = snapshot(store)
    result = cli("certs", "generate", spec, "--dir", store)
    assert result.code == 1 and "ca/etcd.key is missing" in result.err and "backup" in result.err
    assert snapshot(store) == before


@pytest.mark.usefixtures("open_umask")
def test_write_is_atomic_private_and_stays_inside(tmp_path: Path) -> None:
    store = Store(tmp_path / "deep" / "pki")
    written = store.write({"nodes/n1/x.crt": b"one", "ca/y.key": b"two"})
    assert [p.read_bytes() for p in written] == [b"one", b"two"]
    assert stat.S_IMODE(store.root.stat().st_mode) == 0o700
    assert stat.S_IMODE((store.root / "nodes" / "n1").stat().st_mode) == 0o700
    assert stat.S_IMODE((store.root / "ca" / "y.key").stat().st_mode) == 0o600
    inode = (store.root / "ca" / "y.key").stat().st_ino
    store.write({"ca/y.key": b"three"})
    assert store.read("ca/y.key") == b"three" and (store.root / "ca" / "y.key").stat().st_ino != inode
    assert sorted(p.name for p in (store.root / "ca").iterdir()) == ["y.key"]
    for bad in ("../escape", "/etc/passwd", ""):
        with pytest.raises(UnsafePathError):
            store.path(bad)


def test_wide_modes_are_reported(tmp_path: Path, cli: CLI) -> None:
    spec = write_spec(tmp_path)
    store = tmp_path / "pki"
    assert cli("certs", "generate", spec, "--dir", store).code == 0
    (store / "ca" / "sa.key").chmod(0o644)
    problems = Store(store).permission_problems()
    assert len(problems) == 1 and "sa.key has mode 0644" in problems[0]
    result = cli("certs", "generate", spec, "--dir", store)
    assert result.code == 2 and "sa.key has mode 0644" in result.err and "chmod 600" in result.err


def test_unwritable_store_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(KhatuiError, match="is not a folder"):
        Store(blocker).write({"ca/x.crt": b"x"})
