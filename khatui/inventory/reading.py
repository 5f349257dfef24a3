"""Reading an inventory file as text, with one clear `InputError` for each way that can fail.

Importers are pointed at whatever file the operator has at hand (and an ssh config pulls in more
through `Include`), so a directory, a FIFO, a device, a binary file or a non-UTF-8 file must each
produce a sentence naming the file, never a traceback or a hang: `khatui.boundedread` opens it
without blocking, refuses anything but a regular file before a byte is read, and reads no more than
`MAX_BYTES` + 1 bytes.
"""

from __future__ import annotations

from khatui.boundedread import read_regular
from khatui.errors import InputError

MAX_BYTES = 4 << 20
"""An inventory of thousands of hosts is well under 1 MiB; past 4 MiB it is not an inventory."""


def read_text(path: str, what: str) -> str:
    """The text of `path`, a `what` (e.g. 'Ansible inventory'); any failure is an `InputError`."""
    return decode_text(read_regular(path, MAX_BYTES, what), path, what)


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
