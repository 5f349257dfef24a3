"""An air-gapped bundle: one folder of release binaries, distribution packages and image archives,
and `manifest.json` saying what each file is and what it must hash to.

Its own module, below the plan, because both sides need the one format: `khatui bundle` writes it on
a connected machine, and `plan` reads it on the air-gapped side and verifies every file before any
step uses it, so a missing or corrupt file fails the plan with one line naming it. A path in the
manifest reaches a local open and a node's path, so it must be plain (relative, no `..`, the
characters of release and .deb file names); every read goes through `localfs` (no symlink followed).
Verified digests are remembered per (file, size, mtime) so a TUI replanning does not hash again.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from khatui.errors import InputError
from khatui.localfs import Folder, UnsafePathError

FORMAT = 1
"""The bundle format this khatui writes and reads."""
MANIFEST = "manifest.json"
MANIFEST_LIMIT = 16 << 20
"""Bytes of a manifest read at most."""
_PATH = r"[A-Za-z0-9._~+%:@=,-]+(/[A-Za-z0-9._~+%:@=,-]+)*"


class Kind(StrEnum):
    """What a bundle file is, which decides how a node gets it."""

    BINARY = "binary"
    PACKAGE = "package"
    IMAGE = "image"


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


class BundleFile(_Model):
    """One file of a bundle."""

    path: str = Field(pattern=_PATH)
    """Relative to the bundle folder: binaries/<upstream path>, packages/<family>/<file>, images/<file>."""
    sha256: str = Field(pattern=r"[0-9a-f]{64}")
    size: int = Field(ge=0)
    kind: Kind
    component: str = Field(pattern=r"[A-Za-z0-9._/:@+-]+")
    """binary: the catalog component; package: the package name; image: the image reference."""
    version: str = Field(pattern=r"[A-Za-z0-9.:~+_-]*")
    arch: str = Field(pattern=r"[a-z0-9_]*")
    family: str = Field(default="", pattern=r"[a-z]*")
    """package: the distribution family (debian, rhel); '' for the others."""

    @field_validator("path")
    @classmethod
    def _inside(cls, path: str) -> str:
        if any(part in (".", "..") for part in path.split("/")):
            raise ValueError(f"{path!r}: a path inside the bundle has no . or .. component")
        return path

    @property
    def name(self) -> str:
        """The file's own name."""
        return self.path.rsplit("/", 1)[-1]


class Target(_Model):
    """The machines a bundle was built for."""

    os: str = Field(pattern=r"[a-z0-9._-]+")
    """os-release ID (debian, ubuntu, rocky ...)."""
    version: str = Field(pattern=r"[A-Za-z0-9._-]+")
    """os-release VERSION_ID (12, 24.04 ...)."""
    family: str = Field(pattern=r"[a-z]+")
    arch: str = Field(pattern=r"[a-z0-9_]+")


class Manifest(_Model):
    """`manifest.json`."""

    format: int
    cluster: str
    spec_digest: str = Field(pattern=r"[0-9a-f]{64}")
    """sha256 of the spec file the bundle was built from."""
    target: Target
    files: list[BundleFile]
    package_sets: dict[str, list[str]] = {}
    """What a node needs (a `distro.NEEDS` key) -> the paths of its packages, dependencies included."""


@dataclass(frozen=True)
class Bundle:
    """A bundle folder whose every file was found and hashed to what its manifest says."""

    folder: Path
    manifest: Manifest

    def local(self, file: BundleFile) -> str:
        """The file's path on the operator's machine."""
        return str(self.folder / file.path)

    def of_kind(self, kind: Kind) -> list[BundleFile]:
        """Every file of `kind`, in manifest order."""
        return [f for f in self.manifest.files if f.kind is kind]

    def binary(self, upstream_path: str) -> BundleFile | None:
        """The release file published at `upstream_path` (host + path), None when not bundled."""
        return next((f for f in self.of_kind(Kind.BINARY) if f.path == f"binaries/{upstream_path}"), None)

    def packages(self, needs: list[str]) -> list[BundleFile] | None:
        """The package files of every one of `needs`, each once; None when a need is not bundled."""
        sets = self.manifest.package_sets
        if any(need not in sets for need in needs):
            return None
        by_path = {f.path: f for f in self.of_kind(Kind.PACKAGE)}
        return [by_path[p] for p in dict.fromkeys(p for need in needs for p in sets[need])]


_VERIFIED: dict[tuple[str, int, int, int], str] = {}
"""(resolved path, size, mtime_ns, inode) -> sha256 already computed in this process."""


def _digest(folder: Folder, file: BundleFile) -> str | None:
    try:
        st = os.stat(folder.child(file.path), follow_symlinks=False)
    except OSError:
        return None
    key = (str(folder.child(file.path)), st.st_size, st.st_mtime_ns, st.st_ino)
    if key not in _VERIFIED:
        found = folder.digest(file.path)
        if found is None:
            return None
        _VERIFIED[key] = found[1]
    return _VERIFIED[key]


def parse(text: bytes, source: str) -> Manifest:
    """The manifest in `text`; `InputError` naming `source` and the first problem."""
    try:
        manifest = Manifest.model_validate(json.loads(text))
    except (ValueError, UnicodeDecodeError) as exc:
        if isinstance(exc, ValidationError):
            error = exc.errors()[0]
            where = ".".join(str(part) for part in error["loc"])
            raise InputError(f"{source}: {where}: {error['msg']}") from None
        raise InputError(f"{source}: not JSON: {exc}") from None
    if manifest.format != FORMAT:
        raise InputError(f"{source}: bundle format {manifest.format}; this khatui reads format {FORMAT}")
    listed = {f.path for f in manifest.files}
    for need, paths in manifest.package_sets.items():
        unknown = [p for p in paths if p not in listed]
        if unknown:
            raise InputError(f"{source}: packageSets.{need}: {unknown[0]} is not among its files")
    return manifest


def open_bundle(folder: str) -> Bundle:
    """The bundle in `folder`, every file verified; `InputError` naming the first missing or corrupt one."""
    try:
        with Folder.open(Path(folder)) as opened:
            data = opened.read(MANIFEST, MANIFEST_LIMIT)
            where = opened.child(MANIFEST)
            if data is None:
                raise InputError(f"{where}: missing; spec.install.bundle names a folder `khatui bundle` wrote")
            manifest = parse(data, str(where))
            for file in manifest.files:
                digest = _digest(opened, file)
                if digest is None:
                    raise InputError(f"{opened.child(file.path)}: missing from the bundle (its manifest lists it)")
                if digest != file.sha256:
                    raise InputError(
                        f"{opened.child(file.path)}: corrupt: sha256 {digest}, the bundle's manifest says {file.sha256}"
                    )
            return Bundle(opened.path, manifest)
    except UnsafePathError as exc:
        raise InputError(f"spec.install.bundle: {exc}") from None
