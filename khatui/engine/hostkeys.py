"""Host key checking that fabric leaves out (it auto-adds every key and ignores known_hosts).

Keys are looked up in the operator's known_hosts files plus khatui's own pinned file. An unknown
key is refused, showing its SHA256 fingerprint, unless the operator accepts it (`--accept-new-host-keys`
headless, a dialog in the TUI); an accepted key is pinned so the next connection checks it. A changed
key is always refused (paramiko raises `BadHostKeyException` before any policy is asked). A key on
an `@revoked` line is refused for every host. known_hosts files are parsed here, not by paramiko,
whose loader stops with a traceback on `@cert-authority`/`@revoked` lines and non-UTF-8 bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import paramiko
from paramiko.hostkeys import HostKeyEntry

from khatui.boundedread import read_regular
from khatui.errors import InputError, KhatuiError
from khatui.localfs import PRIVATE_DIR, PRIVATE_FILE, Folder

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
    """Refuse unknown keys unless `accept` says yes, and `revoked` keys always; pin accepted keys to `pin_file`."""

    _lock = threading.Lock()

    def __init__(self, pin_file: Path, accept: AcceptUnknown | None, revoked: frozenset[bytes] = frozenset()) -> None:
        self.pin_file = pin_file
        self.accept = accept
        self.revoked = revoked

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        print_ = fingerprint(key)
        if key.asbytes() in self.revoked:
            raise HostKeyError(
                f"{hostname}: host key {key.get_name()} {print_} is marked @revoked in known_hosts; refused"
            )
        if self.accept is None or not self.accept(hostname, key.get_name(), print_):
            raise HostKeyError(
                f"{hostname}: unknown host key {key.get_name()} {print_}; refused "
                "(check the fingerprint on the node, then accept it: --accept-new-host-keys)"
            )
        client.get_host_keys().add(hostname, key.get_name(), key)
        line = f"{hostname} {key.get_name()} {key.get_base64()}\n".encode()
        # Through localfs: the data dir is created 0700 and a symlink planted as the pin file is refused.
        with self._lock, Folder.open(self.pin_file.parent, create=True, mode=PRIVATE_DIR) as folder:
            pinned = folder.read(self.pin_file.name, MAX_KNOWN_HOSTS) or b""
            if pinned and not pinned.endswith(b"\n"):
                pinned += b"\n"
            folder.write({self.pin_file.name: (pinned + line, PRIVATE_FILE)})


MAX_KNOWN_HOSTS = 16 << 20
"""A known_hosts file of 100,000 hosts is ~20 MiB less than this; past it, it is not one."""


@dataclass(frozen=True)
class KnownHosts:
    """What the known_hosts files say: keys by host name, and keys revoked for every host."""

    entries: tuple[HostKeyEntry, ...]
    revoked: frozenset[bytes]
    """Key blobs of `@revoked` lines: refused for every host, even when listed or accepted."""


def parse_known_hosts(raw: bytes) -> KnownHosts:
    """Parse known_hosts bytes tolerantly: a line that is not UTF-8, not a key paramiko can read, or
    a `@cert-authority` line (khatui does not use host certificates) is skipped, as OpenSSH skips
    lines it cannot use; `@revoked` keys are collected."""
    entries: list[HostKeyEntry] = []
    revoked: set[bytes] = set()
    for number, data in enumerate(raw.split(b"\n"), 1):
        try:
            fields = data.decode("utf-8").split()
        except UnicodeDecodeError:
            continue
        if not fields or fields[0].startswith("#"):
            continue
        marker = fields.pop(0) if fields[0].startswith("@") else ""
        if len(fields) < 3:
            continue
        if marker == "@revoked":
            try:
                revoked.add(base64.b64decode(fields[2], validate=True))
            except binascii.Error:
                continue
        elif not marker:
            try:
                entry = HostKeyEntry.from_line(" ".join(fields[:3]), number)
            except Exception:  # noqa: BLE001 - paramiko's key parsers raise many types on bad bytes: skip the line
                continue
            if entry is not None:
                entries.append(entry)
    return KnownHosts(tuple(entries), frozenset(revoked))


def read_known_hosts(files: list[Path]) -> KnownHosts:
    """Every existing regular file of `files`, parsed; an unreadable one is a `HostKeyError`."""
    entries: list[HostKeyEntry] = []
    revoked: set[bytes] = set()
    for path in files:
        if not path.is_file():
            continue
        try:
            raw = read_regular(str(path), MAX_KNOWN_HOSTS, "known_hosts file")
        except InputError as exc:
            raise HostKeyError(exc.message) from None
        if len(raw) > MAX_KNOWN_HOSTS:
            raise HostKeyError(f"{path}: larger than {MAX_KNOWN_HOSTS >> 20} MiB; not a known_hosts file")
        found = parse_known_hosts(raw)
        entries += found.entries
        revoked |= found.revoked
    return KnownHosts(tuple(entries), frozenset(revoked))


def load_known_hosts(client: paramiko.SSHClient, files: list[Path]) -> frozenset[bytes]:
    """Load every existing known_hosts file into `client` (hashed entries included), leaving out
    revoked keys; returns the revoked key blobs, for `PinningPolicy` to refuse."""
    known = read_known_hosts(files)
    host_keys = client.get_host_keys()
    for entry in known.entries:
        if entry.key.asbytes() in known.revoked:
            continue
        for name in entry.hostnames:
            host_keys.add(name, entry.key.get_name(), entry.key)
    return known.revoked


def changed_key_message(host: str, exc: paramiko.BadHostKeyException) -> str:
    """The refusal for a key that differs from the pinned one."""
    return (
        f"{host}: HOST KEY CHANGED: expected {fingerprint(exc.expected_key)}, got {fingerprint(exc.key)}; "
        "refused (if the node was reinstalled, remove its old key from known_hosts)"
    )
