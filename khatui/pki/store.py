"""The local PKI store of one cluster: the only place khatui writes certificates and keys to disk.

Layout, under `<data dir>/clusters/<name>/pki` unless the operator gives `--dir`:

    ca/etcd.crt  ca/etcd.key  ca/kubernetes.crt  ca/kubernetes.key
    ca/front-proxy.crt  ca/front-proxy.key  ca/sa.key  ca/sa.pub
    nodes/<node>/<kind>.crt  nodes/<node>/<kind>.key      (kind: etcd-server, apiserver, ...)

Every directory is 0700 and every file 0600, certificates included: nothing in here is meant to be
shared from this machine, and one rule is easier to audit than two. Each file is written to a
temporary file in its own directory, flushed, then renamed over its name, so a reader sees the old
file or the new one, never half of either; all of a run's files are staged before the first rename,
so an interrupted run leaves at most a leaf whose key and certificate disagree, which the next
`generate` detects and reissues.

The store never decides anything: `reconcile` does, from what `load` returns.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from cryptography import x509

from khatui.errors import KhatuiError
from khatui.pki.catalog import SERVICE_ACCOUNT_STEM, Catalog
from khatui.pki.inspect import load_certificate
from khatui.pki.keys import PrivateKey, PublicKey, load_public_key, load_store_key
from khatui.userdirs import pki_dir

DIR_MODE = 0o700
FILE_MODE = 0o600


@dataclass(frozen=True)
class StoredPair:
    """What the store holds under one stem. `key` is loaded only when asked for."""

    cert: x509.Certificate | None = None
    key: PrivateKey | None = None
    key_present: bool = False
    public_key: PublicKey | None = None
    """Only for the service-account pair: the parsed `.pub` file."""


@dataclass(frozen=True)
class StoredPKI:
    """Everything the store holds for a catalog, by stem."""

    pairs: Mapping[str, StoredPair]

    def get(self, stem: str) -> StoredPair:
        """The pair under `stem` (empty when absent)."""
        return self.pairs.get(stem, StoredPair())

    @property
    def empty(self) -> bool:
        """True when the store holds nothing for this catalog."""
        return not any(p.cert is not None or p.key_present for p in self.pairs.values())


class Store:
    """One cluster's PKI directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def for_cluster(cls, name: str, directory: str | None = None) -> Store:
        """The store at `directory`, or the cluster's default `<data dir>/clusters/<name>/pki`."""
        return cls(pki_dir(name, directory))

    def path(self, relative: str) -> Path:
        """Absolute path of a store-relative file name (refuses anything leaving the store)."""
        parts = PurePosixPath(relative).parts
        if not parts or PurePosixPath(relative).is_absolute() or ".." in parts:
            raise ValueError(f"not a store path: {relative!r}")
        return self.root.joinpath(*parts)

    def read(self, relative: str) -> bytes | None:
        """Content of a store file, None when it does not exist."""
        try:
            return self.path(relative).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise KhatuiError(f"{self.path(relative)}: cannot read: {exc.strerror}") from None

    def load(self, catalog: Catalog, with_keys: bool = False) -> StoredPKI:
        """Parse every certificate the catalog names; the keys too when `with_keys`."""
        stems = [a.stem for a in catalog.authorities] + [leaf.stem for leaf in catalog.leaves]
        pairs = {stem: self._load_pair(stem, with_keys, has_cert=True) for stem in stems}
        sa = self._load_pair(SERVICE_ACCOUNT_STEM, with_keys, has_cert=False)
        pub = self.read(f"{SERVICE_ACCOUNT_STEM}.pub")
        if pub is not None:
            public = load_public_key(pub, str(self.path(f"{SERVICE_ACCOUNT_STEM}.pub")))
            sa = StoredPair(None, sa.key, sa.key_present, public)
        pairs[SERVICE_ACCOUNT_STEM] = sa
        return StoredPKI(pairs)

    def _load_pair(self, stem: str, with_keys: bool, has_cert: bool) -> StoredPair:
        cert_data = self.read(f"{stem}.crt") if has_cert else None
        cert = load_certificate(cert_data, str(self.path(f"{stem}.crt"))) if cert_data is not None else None
        key_path = self.path(f"{stem}.key")
        if not with_keys:
            return StoredPair(cert, None, key_path.exists())
        key_data = self.read(f"{stem}.key")
        key = load_store_key(key_data, str(key_path)) if key_data is not None else None
        return StoredPair(cert, key, key is not None)

    def write(self, files: Mapping[str, bytes]) -> list[Path]:
        """Write `files` (store-relative name -> bytes) atomically, 0600 in 0700 directories."""
        if not files:
            return []
        staged: list[tuple[Path, Path]] = []
        try:
            self._make_dir(self.root, parents=True)
            for relative, data in files.items():
                target = self.path(relative)
                for directory in reversed(target.relative_to(self.root).parents[:-1]):
                    self._make_dir(self.root / directory)
                staged.append((self._stage(target, data), target))
            for temporary, target in staged:
                os.replace(temporary, target)
            for directory in {target.parent for _, target in staged}:
                _fsync_dir(directory)
        except OSError as exc:
            raise KhatuiError(f"{exc.filename or self.root}: cannot write the PKI store: {exc.strerror}") from None
        finally:
            for temporary, _ in staged:
                with contextlib.suppress(FileNotFoundError):
                    temporary.unlink()
        return [target for _, target in staged]

    def permission_problems(self) -> list[str]:
        """Store paths whose modes are wider than 0700 (directories) or 0600 (files)."""
        problems: list[str] = []
        if not self.root.exists():
            return problems
        for path in [self.root, *sorted(self.root.rglob("*"))]:
            mode = stat.S_IMODE(path.lstat().st_mode)
            expected = DIR_MODE if path.is_dir() else FILE_MODE
            if mode & ~expected:
                problems.append(f"{path} has mode {mode:04o}, wider than {expected:04o} (chmod {expected:o} {path})")
        return problems

    @staticmethod
    def _make_dir(path: Path, parents: bool = False) -> None:
        if parents:
            path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            path.mkdir(mode=DIR_MODE)
        if path.is_symlink() or not path.is_dir():
            raise KhatuiError(f"{path}: expected a directory for the PKI store")
        os.chmod(path, DIR_MODE)

    @staticmethod
    def _stage(target: Path, data: bytes) -> Path:
        temporary = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
        try:
            os.fchmod(fd, FILE_MODE)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        return temporary


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
