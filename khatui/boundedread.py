"""Reading a local file the operator names (a spec, an inventory, a CA file) without hanging or
reading without end.

`open()` on a FIFO blocks until a writer appears, and `/dev/zero` never ends, so every such read
goes through `read_regular`: the file is opened non-blocking, checked with `fstat` to be a regular
file (the check is on the opened descriptor, so a swap after the check cannot fool it), and read to
at most `limit + 1` bytes, which lets the caller say "too large" without reading the rest.
"""

from __future__ import annotations

import os
import stat

from khatui.errors import InputError

_KINDS = (
    (stat.S_ISDIR, "Is a directory"),
    (stat.S_ISFIFO, "Is a named pipe (FIFO)"),
    (stat.S_ISCHR, "Is a character device"),
    (stat.S_ISBLK, "Is a block device"),
    (stat.S_ISSOCK, "Is a socket"),
)
"""Names of what a path may be instead of a regular file, worded as `strerror` words its reasons."""


def read_regular(path: str, limit: int, what: str | None = None) -> bytes:
    """At most `limit + 1` bytes of the regular file `path`; for a directory, a FIFO, a device or any
    OS error an `InputError`: '<path>: cannot read[ the <what>]: <reason>'."""
    prefix = f"{path}: cannot read" + (f" the {what}" if what else "")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise InputError(f"{prefix}: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _KINDS if test(mode)), "Is a special file")
            raise InputError(f"{prefix}: {kind}, not a regular file")
        chunks: list[bytes] = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 16))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise InputError(f"{prefix}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
