"""khatui.localfs: whatever member name and whatever symlinks are planted, a write lands inside the
folder as a regular file with its mode, or is refused; nothing outside the folder ever changes."""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from khatui.cli.render_index import read_index
from khatui.errors import InputError
from khatui.localfs import Folder, UnsafePathError, member_parts

Snapshot = dict[str, tuple[int, int, int, bytes | str]]

PLANTED = ("link", "dangling", "filelink", "sub/link", "sub/real")
"""What `_scene` puts in the folder: symlinks to an outside folder, to nothing, to an outside file."""
HOSTILE = [
    "..", "../x", "../outside/file", "/etc/passwd", "/", "", ".", "a/./b", "a//b", "a/../../x", "link/x",
    "link/deep/x", "dangling", "filelink", "sub/link/x", "sub/real/../../outside/file", "x\n", "a\nb/c",
    "nul\0x", "tab\tx", "\x7f", "a" * 256, "é" * 128, ("b" * 200 + "/") * 21 + "c", "\udcff", "sub", "sub/real",
]  # fmt: skip
names = st.one_of(
    st.sampled_from(HOSTILE + list(PLANTED)),
    st.lists(st.sampled_from(["..", ".", "", "a", "link", "dangling", "filelink", "sub", "real", "x\n", "é"]),
             min_size=1, max_size=5).map("/".join),
    st.text(min_size=0, max_size=300),
)  # fmt: skip
modes = st.sampled_from([0o600, 0o644, 0o755, 0o400, None])


@contextmanager
def _scene() -> Iterator[tuple[Path, Path]]:
    """(folder, outside): a folder with planted symlinks, beside an outside tree they point into."""
    with tempfile.TemporaryDirectory() as temporary:
        base = Path(temporary)
        root, outside = base / "root", base / "outside"
        (outside / "deep").mkdir(parents=True)
        (outside / "file").write_text("secret\n")
        (outside / "file").chmod(0o640)
        (root / "sub" / "real").mkdir(parents=True)
        (root / "link").symlink_to(outside)
        (root / "dangling").symlink_to(outside / "missing")
        (root / "filelink").symlink_to(outside / "file")
        (root / "sub" / "link").symlink_to(outside / "deep")
        yield root, outside


def _snapshot(base: Path) -> Snapshot:
    """Every path under `base` (the base itself included): mode, inode, mtime, content or link target."""
    found: Snapshot = {}
    for path in [base, *base.rglob("*")]:
        st_ = path.lstat()
        content: bytes | str = (
            os.readlink(path) if path.is_symlink() else (path.read_bytes() if path.is_file() else b"")
        )
        found[str(path)] = (st_.st_mode, st_.st_ino, st_.st_mtime_ns, content)
    return found


def _inside_without_symlinks(root: Path, member: str) -> Path:
    path = root
    for part in member.split("/"):
        path = path / part
        assert not path.is_symlink(), f"{path} is a symlink"
    return path


@settings(max_examples=300, deadline=None)
@given(member=names, mode=modes, data=st.binary(max_size=64))
def test_a_write_lands_inside_as_a_regular_file_or_is_refused(member: str, mode: int | None, data: bytes) -> None:
    with _scene() as (root, outside):
        before = _snapshot(outside)
        planted = {name: os.readlink(root / name) for name in PLANTED if (root / name).is_symlink()}
        try:
            with Folder.open(root) as folder:
                written = folder.write({member: (data, mode)})
        except UnsafePathError:
            written = []
        else:
            target = _inside_without_symlinks(root, member)
            assert written == [target.resolve()]
            assert stat.S_ISREG(target.lstat().st_mode) and target.read_bytes() == data
            if mode is not None:
                assert stat.S_IMODE(target.lstat().st_mode) == mode
        assert _snapshot(outside) == before, "something outside the folder changed"
        assert {name: os.readlink(root / name) for name in PLANTED if (root / name).is_symlink()} == planted
        assert not [p for p in root.rglob("*.tmp")], "a temporary file was left behind"


@settings(max_examples=200, deadline=None)
@given(member=names)
def test_read_and_remove_never_reach_outside(member: str) -> None:
    with _scene() as (root, outside):
        before = _snapshot(outside)
        digest = hashlib.sha256(b"secret\n").hexdigest()
        with Folder.open(root) as folder:
            for attempt in (lambda: folder.read(member, 100), lambda: folder.remove_if_written(member, digest)):
                try:
                    result = attempt()
                except UnsafePathError:
                    continue
                assert result in (None, False), f"{member!r} reached {result!r} through a planted symlink"
            folder.remove_empty_folders([member] if _valid(member) else [])
        assert _snapshot(outside) == before


def _valid(member: str) -> bool:
    try:
        member_parts(member)
    except UnsafePathError:
        return False
    return True


@settings(max_examples=200, deadline=None)
@given(
    lines=st.lists(
        st.one_of(
            st.text(max_size=80),
            st.tuples(names, st.sampled_from(["/etc/x", "etc/x", "/a/../../b", "/"]), st.sampled_from(["0644", "9"]),
                      st.sampled_from(["a" * 64, "x"])).map(lambda t: f"{t[0]}\t{t[1]}\t{t[2]}\tr\tk\ts\t{t[3]}"),
        ),
        max_size=5,
    ),
    header=st.booleans(),
)  # fmt: skip
def test_an_untrusted_index_is_read_or_refused_with_one_error(lines: list[str], header: bool) -> None:
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        head = ["node\tpath\tmode\towner\tkind\tstage\tsha256"] if header else []
        (root / "khatui-files.tsv").write_text("".join(f"{line}\n" for line in head + lines), errors="surrogatepass")
        with Folder.open(root) as folder:
            try:
                entries, _ = read_index(folder)
            except InputError as exc:
                assert "\n" not in exc.message and "nothing removed" in exc.message
                return
        for entry in entries:
            member_parts(entry.member)  # every accepted entry names a path inside the folder


@pytest.mark.parametrize("member", ["..", "../x", "/etc/passwd", "a/../b", "x\n", "a\0b", "", "a//b", "a" * 256])
def test_member_names_that_could_leave_or_mislead_are_refused(member: str) -> None:
    with pytest.raises(UnsafePathError):
        member_parts(member)


def test_a_private_folder_refuses_wide_modes_and_is_never_chmodded(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    with pytest.raises(UnsafePathError, match="shared folder"):
        Folder.open(shared, private=True)
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777
    made = shared / "new" / "store"
    with Folder.open(made, create=True, mode=0o700, private=True) as folder:
        folder.write({"ca/x.key": (b"k", 0o600)})
    assert {stat.S_IMODE(p.stat().st_mode) for p in (shared / "new", made, made / "ca")} == {0o700}
    assert stat.S_IMODE((made / "ca" / "x.key").stat().st_mode) == 0o600


def test_a_key_is_never_readable_by_others_while_it_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []
    real_write = os.write

    def spying_write(fd: int, data: bytes | memoryview) -> int:
        seen.append(stat.S_IMODE(os.fstat(fd).st_mode))
        return real_write(fd, data)

    old = os.umask(0)
    try:
        monkeypatch.setattr(os, "write", spying_write)
        with Folder.open(tmp_path) as folder:
            folder.write({"k.key": (b"secret", 0o600)})
    finally:
        os.umask(old)
    assert seen and all(mode & 0o077 == 0 for mode in seen)
