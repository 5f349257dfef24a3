"""What a bare lab (`khatui lab up`, the default) adds on the host: its image, its packages, its server.

Built once and cached for every lab (`<data dir>/lab-cache`): the nodes' minimal root file system
(`image`), the Debian packages the rollout installs (`debs`) and the files mirror made from them
(`mirror`). Per lab, in its folder: the signed repository (`repo`, the lab's own key), `serve/`
(what the server publishes: `debian/` and `files/`, the latter a link to the cached mirror), a copy
of the mirror's SHA256SUMS for the spec, and the server itself (`serve`).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from khatui_lab import debs, image, mirror, repo


@dataclass(frozen=True)
class Sources:
    """The cached parts of a bare lab."""

    image: Path
    """The nodes' lower layer (a debootstrap'd Debian 12)."""
    debs: Path
    """The .debs the repository serves."""
    files: Path
    """The files mirror (Kubespray files_repo layout, SHA256SUMS at its root)."""


def ensure_sources(progress: Callable[[str], None]) -> Sources:
    """The cached image, packages and files mirror, each made when missing."""
    cache = image.cache_dir()
    root = image.ensure_image(cache, progress)
    packages = debs.ensure_debs(cache, root, progress)
    return Sources(root, packages, mirror.ensure_files(cache, packages))


def populate(lab_dir: Path, name: str, sources: Sources) -> None:
    """Give the lab its signed repository, its files mirror and its SHA256SUMS (unless it has them)."""
    serve = lab_dir / "serve"
    if not (serve / "debian" / "dists" / image.SUITE / "InRelease").exists():
        repo.build(serve, sources.debs, lab_dir / "gnupg", name)
    files = serve / "files"
    if not files.is_symlink():
        files.symlink_to(sources.files)
    shutil.copyfile(sources.files / mirror.SUMS, lab_dir / mirror.SUMS)
