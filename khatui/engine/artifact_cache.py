"""The operator's cache of release files: `<data dir>/cache/artifacts/<sha256>`, each verified.

Fetched once per file on the operator's machine (the upstream URL, or the mirror's) and then
uploaded to every node that needs it, so nodes need no internet. A file is streamed into a temp
file beside its name and renamed in only when its digest is the published one (`localfs` rules:
no symlink followed, nothing half-written ever under the name); a cached file that no longer hashes
to its name is fetched again. A server that sends other bytes is an error naming the URL and both
sums, never a cached file.
"""

from __future__ import annotations

import hashlib
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from khatui.errors import KhatuiError
from khatui.localfs import PRIVATE_DIR, Folder
from khatui.userdirs import data_dir

ARTIFACT_LIMIT = 1 << 30
"""Bytes of one cached release file read back at most (the largest, kubelet, is under 100 MB)."""
_CHUNK = 1 << 20
_TIMEOUT = 60.0


class ArtifactMismatch(KhatuiError):
    """A download whose bytes are not the ones whose sum khatui expects."""

    title = "Artifact checksum mismatch"


class ArtifactCache:
    """Release files by sha256 under one folder; safe to share between threads."""

    def __init__(self, folder: str | None = None) -> None:
        """`folder`: the cache's folder (default `<data dir>/cache/artifacts`)."""
        self.folder = Path(folder) if folder else data_dir() / "cache" / "artifacts"
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def content(self, sha256: str, url: str) -> bytes:
        """The file whose sha256 is `sha256`, fetched from `url` first when it is missing or corrupt."""
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise KhatuiError(f"{sha256!r} is not a sha256 digest (64 lowercase hex digits)")
        with self._lock(sha256):
            data = self._cached(sha256)
            if data is None:
                self._fetch(sha256, url)
                data = self._cached(sha256)
            if data is None:  # written and verified a moment ago: only a concurrent writer explains it
                raise KhatuiError(f"{url}: the verified download vanished from {self.folder}")
            return data

    def _cached(self, sha256: str) -> bytes | None:
        with Folder.open(self.folder, create=True, mode=PRIVATE_DIR) as folder:
            data = folder.read(sha256, ARTIFACT_LIMIT)
        if data is not None and hashlib.sha256(data).hexdigest() != sha256:
            return None  # corrupt (a disk error, someone's edit): fetched again
        return data

    def _fetch(self, sha256: str, url: str) -> None:
        if not url.startswith(("https://", "http://")):
            raise KhatuiError(f"{url}: not an http(s) URL; khatui downloads release files over http(s) only")
        digest = hashlib.sha256()

        def chunks() -> Iterator[bytes]:
            try:
                with urllib.request.urlopen(url, timeout=_TIMEOUT) as response:  # noqa: S310 (http(s) only)
                    while chunk := response.read(_CHUNK):
                        digest.update(chunk)
                        yield chunk
            except (urllib.error.URLError, OSError, ValueError) as exc:
                reason = getattr(exc, "reason", None) or exc
                raise KhatuiError(f"{url}: download failed: {reason}") from None

        with Folder.open(self.folder, create=True, mode=PRIVATE_DIR) as folder:
            written = folder.write({sha256: (chunks(), 0o600)}, keep=lambda: digest.hexdigest() == sha256)
        if not written:
            raise ArtifactMismatch(
                f"{url}: the server sent a file with sha256 {digest.hexdigest()}, not the published {sha256}; "
                "nothing was cached (a wrong mirror, a changed release, or tampering)"
            )

    def _lock(self, sha256: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(sha256, threading.Lock())
