"""The package mirror's signing key (`spec.install.packages.mirror.key`): read once, checked to be OpenPGP.

Checked when the spec is validated (a problem on the field, with its line) and read again when the
plan is built (`read_key`, what the `packages` phase uploads), both through `read_regular`, so a
FIFO or a huge file never hangs or floods khatui. apt tells an armored key from a binary one by the
keyring's file name (`.asc` / `.gpg`), so the kind is decided here, once, from the bytes.
"""

from __future__ import annotations

from khatui.boundedread import read_regular
from khatui.errors import InputError

FIELD = "spec.install.packages.mirror.key"
KEY_LIMIT = 1 << 20
"""Bytes of a key file read at most (a keyring of a few keys is a few KiB)."""
ARMOR = b"-----BEGIN PGP PUBLIC KEY BLOCK-----"
PUBLIC_KEY_TAG = 6
"""OpenPGP packet tag of a public key (RFC 4880 section 5.5.1.1): a transferable key starts with one."""


def is_armored(data: bytes) -> bool:
    """True for an ASCII-armored key (RFC 4880 section 6.2), after any leading blank lines."""
    return data.lstrip().startswith(ARMOR)


def _packet_tag(first: int) -> int | None:
    """The packet tag of a packet header's first octet (RFC 4880 section 4.2), None if it is none."""
    if not first & 0x80:
        return None
    return first & 0x3F if first & 0x40 else (first >> 2) & 0x0F


def key_problem(data: bytes) -> str | None:
    """Why `data` is not an OpenPGP public key (armored or binary), or None when it is one."""
    if len(data) > KEY_LIMIT:
        return f"larger than {KEY_LIMIT} bytes; not an OpenPGP key"
    if is_armored(data):
        return None
    if data and _packet_tag(data[0]) == PUBLIC_KEY_TAG:
        return None
    return f"not an OpenPGP public key (neither {ARMOR.decode()!r} armor nor a binary public-key packet)"


def read_key(path: str) -> bytes:
    """The key file's bytes; `InputError` naming the field when it is unreadable or not a key."""
    data = read_regular(path, KEY_LIMIT, "package mirror key")
    problem = key_problem(data)
    if problem:
        raise InputError(f"{path}: {FIELD}: {problem}")
    return data
