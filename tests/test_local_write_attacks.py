"""The reported attacks on khatui's local writes (issue 11, items 3 and 8), each as an operator meets it.

Every case plants something in a folder khatui writes to, then checks the command exits 2 with one
line, and that nothing outside the folder (or nothing khatui did not write) changed.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from khatui.cli.render_index import INDEX, INDEX_HEADER
from khatui.errors import KhatuiError
from khatui.journal import open_journal
from khatui.localfs import Folder, UnsafePathError
from khatui.rollout.records import save_token
from khatui.tui.state import WizardState
from khatui.userdirs import cluster_dir, data_dir
from tests.pki.conftest import CLI, STACKED, snapshot, write_spec

INI = str(Path(__file__).parent / "inventory" / "fixtures" / "kubespray.ini")


def _outside(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim").write_text("keep me\n")
    (outside / "victim").chmod(0o640)
    return outside


def _planted_index(out: Path, *rows: str) -> None:
    out.mkdir(exist_ok=True)
    (out / INDEX).write_text(INDEX_HEADER + "".join(f"{row}\n" for row in rows))


DIGEST = hashlib.sha256(b"keep me\n").hexdigest()
ROW = "\t0644\troot:root\tconfig\tbefore-kubeadm\t"


@pytest.mark.parametrize(
    "row",
    [
        f"..\t/outside/victim{ROW}{DIGEST}",  # `..` as the node gets out of --out
        f"cp1\t/../../outside/victim{ROW}{DIGEST}",  # `..` inside the path
        f"/tmp\t/victim{ROW}{DIGEST}",  # an absolute node
        "cp1",  # an old index whose node name ended in a newline: the row is split in two
        f"cp1\t/etc/x\t0644{ROW}{DIGEST}",  # eight fields
        f"cp1\t/etc/x{ROW}not-a-digest",
    ],
    ids=["dotdot-node", "dotdot-path", "absolute-node", "newline-node", "extra-field", "bad-digest"],
)
def test_render_force_refuses_a_planted_or_broken_index_and_removes_nothing(tmp_path: Path, cli: CLI, row: str) -> None:
    outside = _outside(tmp_path)
    out = tmp_path / "out"
    _planted_index(out, row, f"\t/etc/y{ROW}{DIGEST}" if row == "cp1" else f"cp2\t/etc/kept{ROW}{DIGEST}")
    (out / "cp2" / "etc").mkdir(parents=True)
    (out / "cp2" / "etc" / "kept").write_text("keep me\n")
    before, inside = snapshot(outside), snapshot(out)
    result = cli("render", STACKED, "--out", out, "--force", "--no-pki")
    assert result.code == 2 and "Traceback" not in result.err
    assert "nothing removed" in result.err and len(result.err.strip().splitlines()) == 1
    assert snapshot(outside) == before and snapshot(out) == inside


def test_render_force_removes_only_files_still_holding_what_khatui_wrote(tmp_path: Path, cli: CLI) -> None:
    out = tmp_path / "out"
    assert cli("render", STACKED, "--out", out, "--no-pki").code == 0
    edited = out / "cp1" / "etc" / "operator-notes.txt"
    edited.write_text("mine\n")  # listed in a (tampered) index with another file's digest: not khatui's content
    (out / INDEX).write_text((out / INDEX).read_text() + f"cp1\t/etc/operator-notes.txt{ROW}{DIGEST}\n")
    result = cli("render", STACKED, "--out", out, "--force", "--no-pki")
    assert result.code == 0 and edited.read_text() == "mine\n"
    assert "kept cp1/etc/operator-notes.txt" in result.err


@pytest.mark.parametrize("pki", [True, False], ids=["with-keys", "no-pki"])
def test_render_never_writes_through_a_symlinked_folder_in_out(tmp_path: Path, cli: CLI, pki: bool) -> None:
    outside = _outside(tmp_path)
    out = tmp_path / "out"
    _planted_index(out)
    (out / "cp1" / "etc").mkdir(parents=True)
    (out / "cp1" / "etc" / "kubernetes").symlink_to(outside)  # would receive the CA keys and manifests
    before = snapshot(outside)
    result = cli("render", STACKED, "--out", out, "--force", *([] if pki else ["--no-pki"]))
    assert result.code == 2 and "is a symlink" in result.err and "Traceback" not in result.err
    assert snapshot(outside) == before and sorted(p.name for p in outside.iterdir()) == ["victim"]


def test_render_never_changes_an_outside_file_through_a_symlink(tmp_path: Path, cli: CLI) -> None:
    outside = _outside(tmp_path)
    out = tmp_path / "out"
    _planted_index(out)
    (out / "cp1" / "etc" / "kubernetes" / "manifests").mkdir(parents=True)
    (out / "cp1" / "etc" / "kubernetes" / "manifests" / "etcd.yaml").symlink_to(outside / "victim")
    result = cli("render", STACKED, "--out", out, "--force", "--no-pki")
    assert result.code == 2 and "is a symlink" in result.err
    assert (outside / "victim").read_text() == "keep me\n"
    assert stat.S_IMODE((outside / "victim").stat().st_mode) == 0o640


def _init(target: Path, *flags: str) -> tuple[str, ...]:
    return ("init", "-o", str(target), *flags)


def _import(target: Path, *flags: str) -> tuple[str, ...]:
    return ("import", "ansible", INI, "-o", str(target), "--name", "prod-eu", *flags)


@pytest.mark.parametrize("command", [_init, _import], ids=["init", "import"])
@pytest.mark.parametrize("force", [False, True], ids=["plain", "force"])
def test_o_file_refuses_a_symlink_dangling_or_not(
    tmp_path: Path, cli: CLI, command: Callable[..., tuple[str, ...]], force: bool
) -> None:
    outside = _outside(tmp_path)
    dangling, pointing = tmp_path / "dangling.yaml", tmp_path / "pointing.yaml"
    dangling.symlink_to(outside / "created-by-khatui")
    pointing.symlink_to(outside / "victim")
    for link in (dangling, pointing):
        result = cli(*command(link, *(["--force"] if force else [])))
        assert result.code == 2 and "is a symlink" in result.err and "Traceback" not in result.err
    assert sorted(p.name for p in outside.iterdir()) == ["victim"]
    assert (outside / "victim").read_text() == "keep me\n"


def test_init_force_replaces_a_regular_file_atomically_keeping_its_mode(tmp_path: Path, cli: CLI) -> None:
    target = tmp_path / "cluster.yaml"
    target.write_text("old\n")
    target.chmod(0o600)
    assert cli(*_init(target)).code == 2 and target.read_text() == "old\n"
    inode = target.stat().st_ino
    assert cli(*_init(target, "--force")).code == 0
    assert "apiVersion" in target.read_text() and target.stat().st_ino != inode
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_certs_dir_on_a_shared_folder_is_refused_and_left_as_it_is(tmp_path: Path, cli: CLI) -> None:
    spec = write_spec(tmp_path)
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    result = cli("certs", "generate", spec, "--dir", shared)
    assert result.code == 2 and "shared folder (mode 1777)" in result.err
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777 and not list(shared.iterdir())
    assert cli("certs", "generate", spec, "--dir", shared / "pki").code == 0
    assert stat.S_IMODE((shared / "pki").stat().st_mode) == 0o700


def _world_readable_store(store: Path, outside: Path) -> None:
    store.chmod(0o755)


def _world_readable_key(store: Path, outside: Path) -> None:
    (store / "ca" / "etcd.key").chmod(0o644)


def _group_writable_folder(store: Path, outside: Path) -> None:
    (store / "nodes").chmod(0o770)


def _symlinked_store(store: Path, outside: Path) -> None:
    real = outside / "real-pki"
    store.rename(real)
    store.symlink_to(real)


def _symlinked_key(store: Path, outside: Path) -> None:
    key = store / "ca" / "kubernetes.key"
    (outside / "kubernetes.key").write_bytes(key.read_bytes())
    key.unlink()
    key.symlink_to(outside / "kubernetes.key")


@pytest.mark.parametrize(
    "damage",
    [_world_readable_store, _world_readable_key, _group_writable_folder, _symlinked_store, _symlinked_key],
)
@pytest.mark.parametrize("command", ["plan", "render"])
def test_a_pki_store_others_can_use_is_refused_by_plan_and_render(
    tmp_path: Path, cli: CLI, damage: Callable[[Path, Path], None], command: str
) -> None:
    spec = write_spec(tmp_path)
    assert cli("certs", "generate", spec).code == 0
    store = cluster_dir("prod-stacked") / "pki"
    damage(store, _outside(tmp_path))
    args = ["plan", spec, "--offline"] if command == "plan" else ["render", spec, "--out", tmp_path / "out"]
    result = cli(*args)
    assert result.code == 2 and "Traceback" not in result.err
    assert ("chmod" in result.err or "symlink" in result.err) and len(result.err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_fresh_data_dir_and_store_are_created_private(tmp_path: Path, cli: CLI) -> None:
    spec = write_spec(tmp_path)
    assert cli("certs", "generate", spec).code == 0
    for folder in (data_dir(), data_dir() / "clusters", cluster_dir("prod-stacked")):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


def test_a_rollout_token_never_goes_through_a_symlink(tmp_path: Path) -> None:
    outside = _outside(tmp_path)
    save_token("r1", "abcdef.0123456789abcdef")
    token = data_dir() / "rollouts" / "r1.token"
    assert stat.S_IMODE(token.stat().st_mode) == 0o600
    assert stat.S_IMODE(token.parent.stat().st_mode) == 0o700
    planted = data_dir() / "rollouts" / "r2.token"
    planted.symlink_to(outside / "victim")
    with pytest.raises(Exception, match="is a symlink"):
        save_token("r2", "abcdef.0123456789abcdef")
    assert (outside / "victim").read_text() == "keep me\n"


def test_render_help_says_keys_are_written(cli: CLI) -> None:
    result = cli("render", "--help")
    assert result.code == 0 and "not written" not in result.out
    assert "private keys" in result.out and "--no-pki" in result.out


@pytest.mark.parametrize("planted", ["dangling", "pointing"])
def test_diagnose_never_writes_its_tarball_through_a_symlink(tmp_path: Path, cli: CLI, planted: str) -> None:
    spec = write_spec(tmp_path)
    journal = open_journal()
    try:
        record = journal.new_rollout("prod-stacked", str(spec), "x", spec.read_text(), tmp_path)
    finally:
        journal.close()
    outside = _outside(tmp_path)
    link = tmp_path / "bundle.tar.gz"
    link.symlink_to(outside / ("victim" if planted == "pointing" else "created-by-khatui"))
    result = cli("diagnose", record.id, "--offline", "-o", link)
    assert result.code == 2 and "is a symlink" in result.err
    assert sorted(p.name for p in outside.iterdir()) == ["victim"]
    assert (outside / "victim").read_text() == "keep me\n"
    assert cli("diagnose", record.id, "--offline", "-o", tmp_path / "real.tar.gz").code == 0
    assert stat.S_IMODE((tmp_path / "real.tar.gz").stat().st_mode) == 0o600


def test_the_journal_is_never_opened_through_a_symlink(tmp_path: Path, cli: CLI) -> None:
    outside = _outside(tmp_path)
    data_dir().mkdir(mode=0o700)
    (data_dir() / "journal.db").symlink_to(outside / "victim")
    result = cli("rollouts")
    assert result.code == 2 and "is a symlink" in result.err
    assert (outside / "victim").read_text() == "keep me\n"


def test_rollout_logs_are_appended_to_but_never_through_a_symlink(tmp_path: Path) -> None:
    outside = _outside(tmp_path)
    logs = tmp_path / "logs"
    logs.mkdir()
    with Folder.open(logs) as folder:
        with folder.append("r1.log") as log:
            log.write(b"one\n")
        with folder.append("r1.log") as log:
            log.write(b"two\n")
        (logs / "r2.log").symlink_to(outside / "victim")
        with pytest.raises(UnsafePathError, match="is a symlink"):
            folder.append("r2.log")
        os.mkfifo(logs / "r3.log")
        with pytest.raises(KhatuiError):
            folder.append("r3.log")  # refused at once, never waiting for a reader
    assert (logs / "r1.log").read_bytes() == b"one\ntwo\n"
    assert stat.S_IMODE((logs / "r1.log").stat().st_mode) == 0o600
    assert (outside / "victim").read_text() == "keep me\n"


def test_the_wizard_never_saves_the_spec_through_a_symlink(tmp_path: Path) -> None:
    outside = _outside(tmp_path)
    link = tmp_path / "cluster.yaml"
    link.symlink_to(outside / "victim")
    state = WizardState()
    with pytest.raises(UnsafePathError, match="is a symlink"):
        state.save(link)
    assert (outside / "victim").read_text() == "keep me\n"
    assert state.save(tmp_path / "real.yaml").read_text().startswith("apiVersion")
