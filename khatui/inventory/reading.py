"""Reading an inventory file as text, with one clear `InputError` for each way that can fail.

Importers are pointed at whatever file the operator has at hand (and an ssh config pulls in more
through `Include`), so a directory, a FIFO, a device, a binary file or a non-UTF-8 file must each
produce a sentence naming the file, never a traceback or a hang. The file is opened without
blocking and checked to be a regular file before a byte is read, and never more than `MAX_BYTES`
are read.
"""

from __future__ import annotations

import os
import stat

from khatui.errors import InputError

MAX_BYTES = 4 << 20
"""An inventory of thousands of hosts is well under 1 MiB; past 4 MiB it is not an inventory."""


def read_text(path: str, what: str) -> str:
    """The text of `path`, a `what` (e.g. 'Ansible inventory'); any failure is an `InputError`."""
    return decode_text(read_regular_file(path, what), path, what)


def read_regular_file(path: str, what: str) -> bytes:
    """Up to `MAX_BYTES` + 1 bytes of the regular file `path`; anything else is an `InputError`."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just below.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory; give the {what} file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise InputError(f"{path}: is a directory; give the {what} file")
        if not stat.S_ISREG(mode):
            raise InputError(f"{path}: is not a regular file (a FIFO, socket or device); give the {what} file")
        os.set_blocking(fd, True)
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_BYTES:
            chunk = os.read(fd, MAX_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    return b"".join(chunks)


def decode_text(raw: bytes, path: str, what: str) -> str:
    """Bytes -> text, refusing empty, oversized, binary and non-UTF-8 content."""
    if not raw.strip():
        raise InputError(f"{path}: the file is empty; expected an {what}")
    if len(raw) > MAX_BYTES:
        raise InputError(f"{path}: the file is larger than {MAX_BYTES >> 20} MiB; not an {what}")
    if b"\0" in raw:
        raise InputError(f"{path}: this is a binary file, not an {what}")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(f"{path}:{line}: not UTF-8 text; expected an {what}") from None
