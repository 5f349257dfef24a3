"""SSH keys of a lab: the operator's client key, one host key per node, and the known_hosts file.

Keys are made with `cryptography` in OpenSSH format (no ssh-keygen subprocess). Every node gets a
host key of its own, and the image's other host keys are hidden in the node, so known_hosts pins
exactly one key per node and a client that checks host keys (RejectPolicy) can be tested for real.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def new_keypair(comment: str) -> tuple[bytes, bytes]:
    """(private key in OpenSSH PEM, public key line 'ssh-ed25519 AAAA... comment\\n')."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return private, public + f" {comment}\n".encode()


def write_keypair(private_path: Path, comment: str) -> bytes:
    """Write a new key pair at `private_path` (0600) and `<private_path>.pub`; returns the public line."""
    private, public = new_keypair(comment)
    write_private(private_path, private)
    private_path.with_name(private_path.name + ".pub").write_bytes(public)
    return public


def write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` created 0600 (never readable by others, not even briefly)."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def known_hosts(entries: Iterable[tuple[str, bytes]]) -> str:
    """known_hosts text from (host, public key line) pairs; the key's comment is dropped."""
    lines = []
    for host, public in entries:
        kind, blob = public.decode().split()[:2]
        lines.append(f"{host} {kind} {blob}")
    return "\n".join(lines) + "\n"
