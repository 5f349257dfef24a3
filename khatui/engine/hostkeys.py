"""Host key checking that fabric leaves out (it auto-adds every key and ignores known_hosts).

Keys are looked up in the operator's known_hosts files plus khatui's own pinned file. An unknown
key is refused, showing its SHA256 fingerprint, unless the operator accepts it (`--accept-new-host-keys`
headless, a dialog in the TUI); an accepted key is pinned so the next connection checks it. A changed
key is always refused (paramiko raises `BadHostKeyException` before any policy is asked).
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
from collections.abc import Callable
from pathlib import Path

import paramiko

from khatui.errors import KhatuiError

AcceptUnknown = Callable[[str, str, str], bool]
"""Asked for an unknown key: (host, key type, SHA256 fingerprint) -> accept?"""


class HostKeyError(KhatuiError):
    """A host key was unknown (and not accepted) or has changed."""

    title = "Host key refused"


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH-style `SHA256:...` fingerprint."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def known_host_name(host: str, port: int) -> str:
    """The name known_hosts files use: `host`, or `[host]:port` off port 22."""
    return host if port == 22 else f"[{host}]:{port}"


class PinningPolicy(paramiko.MissingHostKeyPolicy):
    """Refuse unknown keys unless `accept` says yes; pin accepted keys to `pin_file`."""

    _lock = threading.Lock()

    def __init__(self, pin_file: Path, accept: AcceptUnknown | None) -> None:
        self.pin_file = pin_file
        self.accept = accept

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        print_ = fingerprint(key)
        if self.accept is None or not self.accept(hostname, key.get_name(), print_):
            raise HostKeyError(
                f"{hostname}: unknown host key {key.get_name()} {print_}; refused "
                "(check the fingerprint on the node, then accept it: --accept-new-host-keys)"
            )
        client.get_host_keys().add(hostname, key.get_name(), key)
        with self._lock:
            self.pin_file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.pin_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "a") as handle:
                handle.write(f"{hostname} {key.get_name()} {key.get_base64()}\n")


def load_known_hosts(client: paramiko.SSHClient, files: list[Path]) -> None:
    """Load every existing known_hosts file into `client` (hashed entries included)."""
    for path in files:
        if path.is_file():
            try:
                client.load_host_keys(str(path))
            except (OSError, paramiko.SSHException) as exc:
                raise HostKeyError(f"{path}: cannot read known hosts: {exc}") from None


def changed_key_message(host: str, exc: paramiko.BadHostKeyException) -> str:
    """The refusal for a key that differs from the pinned one."""
    return (
        f"{host}: HOST KEY CHANGED: expected {fingerprint(exc.expected_key)}, got {fingerprint(exc.key)}; "
        "refused (if the node was reinstalled, remove its old key from known_hosts)"
    )
