"""The local PKI store of one cluster: the only place khatui writes certificates and keys to disk.

Layout, under `<data dir>/clusters/<name>/pki` unless the operator gives `--dir`:

    ca/etcd.crt  ca/etcd.key  ca/kubernetes.crt  ca/kubernetes.key
    ca/front-proxy.crt  ca/front-proxy.key  ca/sa.key  ca/sa.pub
    nodes/<node>/<kind>.crt  nodes/<node>/<kind>.key      (kind: etcd-server, apiserver, ...)

Every directory is 0700 and every file 0600, certificates included: nothing in here is meant to be
shared from this machine, and one rule is easier to audit than two. Before keys are loaded or anything
is written the whole store is checked (`khatui.localfs.private_problem`): a folder or file others can
read or change, or a symlink anywhere, is refused with the chmod that fixes it; khatui never chmods a
folder it did not create, so `--dir` naming a shared folder is refused rather than taken over. Files
are written through `khatui.localfs.Folder.write`: all of a run's files are staged before the first
rename, so an interrupted run leaves at most a leaf whose key and certificate disagree, which the
next `generate` detects and reissues.

The store never decides anything: `reconcile` does, from what `load` returns.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from khatui.localfs import PRIVATE_DIR, PRIVATE_FILE, Folder, UnsafePathError, member_parts, private_problem
from khatui.pki.catalog import SERVICE_ACCOUNT_STEM, Catalog
from khatui.pki.inspect import load_certificate
from khatui.pki.keys import PrivateKey, PublicKey, load_public_key, load_store_key
from khatui.userdirs import pki_dir

MAX_FILE = 1 << 20
"""Largest store file read: certificates and keys are a few KiB."""


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
        """Absolute path of a store-relative file name (`UnsafePathError` for anything leaving the store)."""
        return self.root.joinpath(*member_parts(relative))

    def read(self, relative: str) -> bytes | None:
        """Content of a store file, None when it (or the store) does not exist."""
        with self._folder() as folder:
            return None if folder is None else folder.read(relative, MAX_FILE)

    def load(self, catalog: Catalog, with_keys: bool = False) -> StoredPKI:
        """Parse every certificate the catalog names; the keys too when `with_keys` (after `check`)."""
        if with_keys:
            self.check()
        stems = [a.stem for a in catalog.authorities] + [leaf.stem for leaf in catalog.leaves]
        with self._folder() as folder:
            pairs = {stem: self._load_pair(folder, stem, with_keys, has_cert=True) for stem in stems}
            sa = self._load_pair(folder, SERVICE_ACCOUNT_STEM, with_keys, has_cert=False)
            pub = self._read(folder, f"{SERVICE_ACCOUNT_STEM}.pub")
        if pub is not None:
            public = load_public_key(pub, str(self.path(f"{SERVICE_ACCOUNT_STEM}.pub")))
            sa = StoredPair(None, sa.key, sa.key_present, public)
        pairs[SERVICE_ACCOUNT_STEM] = sa
        return StoredPKI(pairs)

    def _load_pair(self, folder: Folder | None, stem: str, with_keys: bool, has_cert: bool) -> StoredPair:
        cert_data = self._read(folder, f"{stem}.crt") if has_cert else None
        cert = load_certificate(cert_data, str(self.path(f"{stem}.crt"))) if cert_data is not None else None
        if not with_keys:
            return StoredPair(cert, None, folder is not None and folder.holds(f"{stem}.key"))
        key_data = self._read(folder, f"{stem}.key")
        key = load_store_key(key_data, str(self.path(f"{stem}.key"))) if key_data is not None else None
        return StoredPair(cert, key, key is not None)

    @staticmethod
    def _read(folder: Folder | None, relative: str) -> bytes | None:
        return None if folder is None else folder.read(relative, MAX_FILE)

    def write(self, files: Mapping[str, bytes]) -> list[Path]:
        """Write `files` (store-relative name -> bytes) atomically, 0600 in 0700 directories."""
        if not files:
            return []
        with Folder.open(self.root, create=True, mode=PRIVATE_DIR, private=True) as folder:
            _refuse(folder.problems())
            return folder.write({name: (data, PRIVATE_FILE) for name, data in files.items()})

    def check(self) -> None:
        """Refuse (`UnsafePathError`, naming the fix) a store others can read or change, or one with a symlink."""
        if os.path.lexists(self.root):
            with Folder.open(self.root, private=True) as folder:
                _refuse(folder.problems())

    def permission_problems(self) -> list[str]:
        """What `check` refuses, as a list: wide modes, foreign owners, symlinks."""
        if not os.path.lexists(self.root):
            return []
        if self.root.is_symlink():
            return [p for p in [private_problem(self.root, self.root.lstat())] if p]
        with Folder.open(self.root) as folder:
            return folder.problems()

    @contextmanager
    def _folder(self) -> Iterator[Folder | None]:
        """The store folder opened for reading (without the private check: `check` does that), None if missing."""
        if not os.path.lexists(self.root):
            yield None
            return
        if self.root.is_symlink():
            raise UnsafePathError(f"{self.root} is a symlink; name the folder itself ({self.root.resolve()})")
        with Folder.open(self.root) as folder:
            yield folder


def _refuse(problems: list[str]) -> None:
    if problems:
        more = f" (and {len(problems) - 1} more: see `khatui certs list`)" if len(problems) > 1 else ""
        raise UnsafePathError(f"PKI store refused: {problems[0]}{more}")
