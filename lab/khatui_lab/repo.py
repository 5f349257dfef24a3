"""A bare lab's signed apt repository, as an internal Debian mirror would serve it.

Each lab signs its own repository with a key of its own (made with gpg in `<lab>/gnupg` when the
lab is created), so tampering with one lab's `Release` never touches another lab. The .debs are
the cached download (`khatui_lab.debs`), which the lab's `serve/debian/pool/main` links to; the
indexes are made with apt-ftparchive, a `dists/bookworm/main/binary-amd64` tree:

    serve/debian/dists/bookworm/{Release,InRelease,Release.gpg}
    serve/debian/dists/bookworm/main/binary-amd64/Packages(.gz)
    serve/debian/pool/main                  a symlink to the cached .debs

gpg's agent, which gpg starts by itself, is stopped again before returning (no stray process).
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

from khatui_lab.host import run
from khatui_lab.image import SUITE

COMPONENT = "main"
ARCH = "amd64"
KEY = "repository.asc"
"""The lab's public signing key in the lab folder (the spec's packages.mirror.key)."""


def build(serve: Path, debs: Path, gnupg: Path, name: str) -> Path:
    """Make and sign the repository in `serve/debian` from `debs`; returns the public key file."""
    root = serve / "debian"
    pool = root / "pool" / COMPONENT
    pool.parent.mkdir(parents=True, exist_ok=True)
    if not pool.is_symlink():
        pool.symlink_to(debs)
    dist = root / "dists" / SUITE
    binary = dist / COMPONENT / f"binary-{ARCH}"
    binary.mkdir(parents=True, exist_ok=True)
    # Indexed where the .debs are (apt-ftparchive names a file by the path it was given), then
    # named where the server publishes them.
    listed = _ftparchive(debs, ["packages", "."]).decode()
    packages = listed.replace("\nFilename: ./", f"\nFilename: pool/{COMPONENT}/").encode()
    (binary / "Packages").write_bytes(packages)
    (binary / "Packages.gz").write_bytes(gzip.compress(packages, mtime=0))
    release = _ftparchive(root, [*_release_options(name), "release", f"dists/{SUITE}"])
    (dist / "Release").write_bytes(release)
    key = serve.parent / KEY
    fingerprint = _ensure_key(gnupg, name, key)
    try:
        for mode, out in (("--clearsign", "InRelease"), ("--detach-sign", "Release.gpg")):
            _gpg(
                gnupg,
                ["--local-user", fingerprint, "--armor", "--output", str(dist / out), mode, str(dist / "Release")],
            )
    finally:
        run(["gpgconf", "--kill", "all"], env=_env(gnupg), check=False)
    return key


def _release_options(name: str) -> list[str]:
    fields = {
        "Origin": "khatui-lab",
        "Label": f"khatui lab {name}",
        "Suite": SUITE,
        "Codename": SUITE,
        "Components": COMPONENT,
        "Architectures": ARCH,
    }
    return [arg for field, value in fields.items() for arg in ("-o", f"APT::FTPArchive::Release::{field}={value}")]


def _ftparchive(root: Path, args: list[str]) -> bytes:
    return run(["sh", "-c", 'cd "$1" && shift && exec apt-ftparchive "$@"', "ftparchive", str(root), *args]).stdout


def _ensure_key(gnupg: Path, name: str, public: Path) -> str:
    """The fingerprint of the lab's signing key (made when missing); its public half in `public`."""
    gnupg.mkdir(mode=0o700, exist_ok=True)
    if not _fingerprints(gnupg):
        _gpg(gnupg, ["--quick-generate-key", f"khatui lab {name} repository", "ed25519", "sign", "never"])
    fingerprint = _fingerprints(gnupg)[0]
    public.write_bytes(_gpg(gnupg, ["--armor", "--export", fingerprint]))
    return fingerprint


def _fingerprints(gnupg: Path) -> list[str]:
    listing = run(["gpg", "--batch", "--with-colons", "--list-secret-keys"], env=_env(gnupg), check=False).stdout
    return [line.split(":")[9] for line in listing.decode().splitlines() if line.startswith("fpr:")]


def _gpg(gnupg: Path, args: list[str]) -> bytes:
    argv = ["gpg", "--batch", "--yes", "--pinentry-mode", "loopback", "--passphrase", "", *args]
    return run(argv, env=_env(gnupg)).stdout


def _env(gnupg: Path) -> dict[str, str]:
    return {"GNUPGHOME": str(gnupg), "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"}
