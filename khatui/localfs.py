"""Every file khatui writes, reads back or removes on the operator's machine, inside one folder.

Why this shape: a path joined from a folder and a name out of a spec, a manifest or a catalog can
leave the folder (`..`, an absolute name) or be redirected by a symlink someone planted in it. So no
caller joins paths: it opens a `Folder` (the one place a path is resolved) and names *members*, plain
relative names checked by `member_parts`. Below the folder every component is opened relative to its
parent's file descriptor with O_NOFOLLOW, so no symlink is ever followed (khatui makes none).

A file is written to a temporary file beside it (O_EXCL, created 0600 and given its final mode
before it has a name anyone reads), flushed, then renamed over its name: a reader sees the old file
or the new one, a key is never readable by others for a moment, and a symlink at the name is refused,
never written through. Folders khatui creates get the caller's mode (0700 for secrets); folders it
did not create are never chmodded: a `private` folder that is not private is refused with the command
that fixes it. Removal takes only regular files whose content is what khatui recorded writing.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from khatui.errors import InputError, KhatuiError

NAME_MAX = 255
"""Bytes in one path component (Linux NAME_MAX)."""
MEMBER_MAX = 4095
"""Bytes in a whole member name (PATH_MAX less the terminating NUL)."""
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC

Files = Mapping[str, tuple[bytes | Iterable[bytes], int | None]]
"""Member name -> (content, or its chunks as they arrive; mode); mode None: a new file's usual mode (0666 less the umask), or the
mode of the regular file it replaces."""


class UnsafePathError(InputError):
    """A path khatui refuses to write, read or remove through (a symlink, a name leaving its folder,
    a secret folder others can use); exit code 2."""


def member_parts(member: str) -> tuple[str, ...]:
    """The components of a member name; `UnsafePathError` unless it is a plain relative path that
    stays inside its folder (no `..`, `.` or empty component, no control character, within limits)."""
    shown = repr(member) if len(member) <= 80 else repr(member[:80]) + "..."
    if not member:
        raise UnsafePathError("an empty file name")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in member):
        raise UnsafePathError(f"{shown}: a control character in a file name")
    if member.startswith("/"):
        raise UnsafePathError(f"{shown}: an absolute path where a name inside the folder is expected")
    try:
        size = len(member.encode("utf-8"))
    except UnicodeEncodeError:
        raise UnsafePathError(f"{shown}: not valid UTF-8") from None
    if size > MEMBER_MAX:
        raise UnsafePathError(f"{shown}: longer than {MEMBER_MAX} bytes")
    parts = tuple(member.split("/"))
    for part in parts:
        if part in ("", ".", ".."):
            raise UnsafePathError(f"{shown}: {part or 'an empty'!s} component; names must stay inside the folder")
        if len(part.encode("utf-8")) > NAME_MAX:
            raise UnsafePathError(f"{shown}: a component longer than {NAME_MAX} bytes")
    return parts


def private_problem(path: Path, st: os.stat_result) -> str | None:
    """Why `path` (stat `st`) cannot hold secrets, with the fix; None when only its owner can use it."""
    directory = stat.S_ISDIR(st.st_mode)
    expected = PRIVATE_DIR if directory else PRIVATE_FILE
    mode = stat.S_IMODE(st.st_mode)
    if stat.S_ISLNK(st.st_mode):
        return f"{path} is a symlink; khatui does not follow symlinks here (replace it with the real file or folder)"
    if not directory and not stat.S_ISREG(st.st_mode):
        return f"{path} is not a regular file"
    if st.st_uid != os.geteuid():
        return f"{path} is owned by uid {st.st_uid}, not by you (uid {os.geteuid()}); use a folder of your own"
    if directory and mode & (stat.S_ISVTX | stat.S_IWOTH):
        return f"{path} is a shared folder (mode {mode:04o}); name a new folder instead, khatui creates it 0700"
    if mode & ~expected:
        return f"{path} has mode {mode:04o}, wider than {expected:04o}; run `chmod {expected:o} {path}`"
    return None


class Folder:
    """An open folder; members are reached from its descriptor, never through a symlink.

    Use `Folder.open(...)` as a context manager. With `private`, the folder and every existing folder
    and file reached below it must be the operator's and closed to others (`private_problem`).
    """

    def __init__(self, path: Path, fd: int, private: bool, dir_mode: int) -> None:
        self.path = path
        self.private = private
        self.dir_mode = dir_mode
        self._fd = fd

    @classmethod
    def open(cls, path: Path, *, create: bool = False, mode: int = 0o755, private: bool = False) -> Folder:
        """Open `path` (resolved; a private folder must not itself be a symlink), creating it and its
        missing parents with `mode` when `create`. Folders created below it get `mode` too."""
        if private and path.is_symlink():
            raise UnsafePathError(f"{path} is a symlink; name the folder itself ({path.resolve()})")
        resolved = path.resolve()
        try:
            for missing in [*reversed(resolved.parents), resolved] if create else []:
                if not missing.exists():
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(missing, mode)
            fd = os.open(resolved, _DIR_FLAGS)
        except FileNotFoundError:
            raise UnsafePathError(f"{path}: no such folder") from None
        except OSError as exc:
            if exc.errno in (errno.ENOTDIR, errno.ELOOP):
                raise UnsafePathError(f"{path} is not a folder") from None
            raise KhatuiError(f"{path}: cannot open: {exc.strerror}") from None
        folder = cls(resolved, fd, private, mode)
        if private:
            folder._check_private(resolved, os.fstat(fd))
        return folder

    def __enter__(self) -> Folder:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        os.close(self._fd)

    def child(self, member: str) -> Path:
        """The path of `member` below this folder, for messages (checked like every member)."""
        return self.path.joinpath(*member_parts(member))

    def write(self, files: Files, replace: bool = True, keep: Callable[[], bool] | None = None) -> list[Path]:
        """Write `files` atomically: every one is staged before the first is renamed into place, and
        only when `keep()` (asked once all are staged: a download's digest) is true, else none ([]).

        Refuses (`UnsafePathError`) a name that is a symlink, a folder or anything but a regular file,
        or any existing file when not `replace`; on any error no staged file is left behind.
        """
        staged: list[tuple[int, str, str, Path]] = []
        folders: dict[tuple[str, ...], int] = {}
        renamed = 0
        path = self.path
        try:
            for member, (data, mode) in files.items():
                parts = member_parts(member)
                path = self.path.joinpath(*parts)
                if parts[:-1] not in folders:
                    folders[parts[:-1]] = self._walk(parts[:-1], create=True)
                parent, name = folders[parts[:-1]], parts[-1]
                existing = self._existing_mode(parent, name, path, replace)
                temporary = f".khatui-{secrets.token_hex(8)}.tmp"
                staged.append((parent, temporary, name, path))
                _stage(parent, temporary, data, existing if mode is None else mode)
            if keep is not None and not keep():
                return []
            for parent, temporary, name, path in staged:
                self._existing_mode(parent, name, path, replace)
                os.rename(temporary, name, src_dir_fd=parent, dst_dir_fd=parent)
                renamed += 1
            for parent in folders.values():
                os.fsync(parent)
        except OSError as exc:
            raise KhatuiError(f"{path}: cannot write: {exc.strerror}") from None
        finally:
            for parent, temporary, _, _ in staged[renamed:]:
                with contextlib.suppress(OSError):
                    os.unlink(temporary, dir_fd=parent)
            for parent in folders.values():
                os.close(parent)
        return [path for _, _, _, path in staged]

    def check_writable(self, member: str, replace: bool) -> None:
        """What `write` would refuse about `member`, raised now (before any work is done)."""
        parts = member_parts(member)
        try:
            with self._opened(parts[:-1]) as parent:
                self._existing_mode(parent, parts[-1], self.path.joinpath(*parts), replace)
        except FileNotFoundError:
            return

    def read(self, member: str, limit: int) -> bytes | None:
        """Content of a regular file (at most `limit` bytes, else `UnsafePathError`); None if missing."""
        parts = member_parts(member)
        path = self.path.joinpath(*parts)
        try:
            with self._opened(parts[:-1]) as parent, self._regular(parent, parts[-1], path) as (handle, st):
                if self.private:
                    self._check_private(path, st)
                data = handle.read(limit + 1)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise self._refusal(path, exc) from None
        if len(data) > limit:
            raise UnsafePathError(f"{path} is larger than {limit} bytes")
        return data

    def append(self, member: str, mode: int = PRIVATE_FILE) -> BinaryIO:
        """`member` opened for appending (created with `mode` if missing), never through a symlink:
        for logs that grow line by line, where an atomic rewrite would not do."""
        parts = member_parts(member)
        path = self.path.joinpath(*parts)
        try:
            with self._opened(parts[:-1]) as parent:
                fd = os.open(
                    parts[-1],
                    # O_NONBLOCK: a FIFO planted at the name is refused (ENXIO), never waited on.
                    os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK,
                    mode,
                    dir_fd=parent,
                )
        except OSError as exc:
            raise self._refusal(path, exc) from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise UnsafePathError(f"{path} is not a regular file")
        return os.fdopen(fd, "ab")

    def digest(self, member: str) -> tuple[int, str] | None:
        """(size, sha256) of a regular file, read in chunks (files too large to hold); None if missing."""
        parts = member_parts(member)
        path = self.path.joinpath(*parts)
        try:
            with self._opened(parts[:-1]) as parent, self._regular(parent, parts[-1], path) as (handle, st):
                return st.st_size, _sha256(handle)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise self._refusal(path, exc) from None

    def holds(self, member: str) -> bool:
        """True when `member` is a regular file (not followed if a symlink)."""
        parts = member_parts(member)
        try:
            with self._opened(parts[:-1]) as parent:
                return stat.S_ISREG(os.lstat(parts[-1], dir_fd=parent).st_mode)
        except OSError:
            return False

    def remove_if_written(self, member: str, sha256: str) -> bool:
        """Delete `member` if it is a regular file whose SHA-256 is `sha256` (what khatui wrote there).

        Anything else (missing, a symlink, a folder, a file changed since) is left alone: False.
        """
        parts = member_parts(member)
        try:
            with self._opened(parts[:-1]) as parent:
                with self._regular(parent, parts[-1], self.path.joinpath(*parts)) as (handle, _):
                    if _sha256(handle) != sha256:
                        return False
                os.unlink(parts[-1], dir_fd=parent)
        except (OSError, UnsafePathError):
            return False
        return True

    def remove_empty_folders(self, members: list[str]) -> None:
        """Remove the folders holding `members` that are now empty, deepest first (never the folder itself)."""
        prefixes = {member_parts(m)[:depth] for m in members for depth in range(1, len(member_parts(m)))}
        for prefix in sorted(prefixes, key=len, reverse=True):
            with contextlib.suppress(OSError, UnsafePathError), self._opened(prefix[:-1]) as parent:
                os.rmdir(prefix[-1], dir_fd=parent)  # rmdir never follows a symlink

    def problems(self) -> list[str]:
        """`private_problem` of everything below this folder (symlinks included), and of the folder."""
        found = [p for p in [private_problem(self.path, os.fstat(self._fd))] if p]
        found += _tree_problems(self._fd, self.path)
        return found

    def is_empty(self) -> bool:
        """True when the folder has no entries."""
        return not os.listdir(self._fd)

    def _walk(self, parts: tuple[str, ...], create: bool) -> int:
        """A new descriptor for the folder `parts` below this one, creating missing ones if `create`."""
        fd = os.dup(self._fd)
        path = self.path
        try:
            for part in parts:
                path = path / part
                made = False
                if create:
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(part, self.dir_mode, dir_fd=fd)
                        made = True
                try:
                    child = os.open(part, _DIR_FLAGS, dir_fd=fd)
                except FileNotFoundError:
                    raise
                except OSError as exc:
                    raise self._refusal(path, exc) from None
                os.close(fd)
                fd = child
                if self.private and not made:
                    self._check_private(path, os.fstat(fd))
        except BaseException:
            os.close(fd)
            raise
        return fd

    @contextlib.contextmanager
    def _opened(self, parts: tuple[str, ...]) -> Iterator[int]:
        fd = self._walk(parts, create=False)
        try:
            yield fd
        finally:
            os.close(fd)

    @contextlib.contextmanager
    def _regular(self, parent: int, name: str, path: Path) -> Iterator[tuple[BinaryIO, os.stat_result]]:
        """`name` in `parent` opened for reading, never through a symlink; refused unless a regular file."""
        fd = os.open(name, _READ_FLAGS, dir_fd=parent)
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            raise UnsafePathError(f"{path} is not a regular file")
        with os.fdopen(fd, "rb") as handle:
            yield handle, st

    def _existing_mode(self, parent: int, name: str, path: Path, replace: bool) -> int | None:
        """Mode of the regular file at `name` (None if none); refuses anything else there."""
        try:
            st = os.lstat(name, dir_fd=parent)
        except FileNotFoundError:
            return None
        if stat.S_ISLNK(st.st_mode):
            raise UnsafePathError(f"{path} is a symlink; khatui does not write through symlinks (remove it)")
        if not stat.S_ISREG(st.st_mode):
            raise UnsafePathError(f"{path} exists and is not a regular file")
        if not replace:
            raise UnsafePathError(f"{path} exists; pass --force to overwrite it")
        if self.private:
            self._check_private(path, st)
        return stat.S_IMODE(st.st_mode)

    @staticmethod
    def _check_private(path: Path, st: os.stat_result) -> None:
        problem = private_problem(path, st)
        if problem:
            raise UnsafePathError(problem)

    def _refusal(self, path: Path, exc: OSError) -> KhatuiError:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
            if path.is_symlink():
                return UnsafePathError(
                    f"{path} is a symlink; khatui does not write or read through symlinks (remove it)"
                )
            return UnsafePathError(f"{path} is not a folder")
        return KhatuiError(f"{path}: {exc.strerror}")


def _stage(parent: int, temporary: str, data: bytes | Iterable[bytes], mode: int | None) -> None:
    """Create `temporary` (0600, or 0666 less the umask for mode None), fill it, give it `mode`, fsync."""
    fd = os.open(temporary, _CREATE_FLAGS, 0o666 if mode is None else PRIVATE_FILE, dir_fd=parent)
    try:
        for chunk in [data] if isinstance(data, bytes) else data:
            view = memoryview(chunk)
            while view:
                view = view[os.write(fd, view) :]
        if mode is not None:
            os.fchmod(fd, mode)
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha256(handle: BinaryIO) -> str:
    digest = hashlib.sha256()
    while chunk := handle.read(1 << 20):
        digest.update(chunk)
    return digest.hexdigest()


def _tree_problems(fd: int, path: Path) -> list[str]:
    found: list[str] = []
    with os.scandir(fd) as entries:
        listed = sorted(entries, key=lambda e: e.name)
    for entry in listed:
        st = entry.stat(follow_symlinks=False)
        problem = private_problem(path / entry.name, st)
        if problem:
            found.append(problem)
        if stat.S_ISDIR(st.st_mode):
            child = os.open(entry.name, _DIR_FLAGS, dir_fd=fd)
            try:
                found += _tree_problems(child, path / entry.name)
            finally:
                os.close(child)
    return found
