"""Debian/Ubuntu packages with every dependency, fetched by the operator's own apt-get for a bundle.

apt-get resolves against a dpkg status file: given an empty one it takes nothing as installed, so
`--download-only` fetches the whole closure a bare node could need (the node later skips what it
already holds). Its package lists, cache and status live in a scratch folder (`Dir::State`,
`Dir::Cache`), refreshed with `apt-get update` there, so neither root nor the operator's own apt
state is touched; the operator's sources.list names the repositories, which is also why only a
machine of the target's distribution and release can build its bundle (refused otherwise).
`--print-uris` first tells, per need, which files belong to it, before one download of them all.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from khatui.bundling.tools import run_tool
from khatui.errors import InputError, KhatuiError
from khatui.localfs import Folder

APT_TIMEOUT_S = 1800


@dataclass(frozen=True)
class Deb:
    """One downloaded .deb file."""

    file: str
    """Its name in apt's archives folder (name_version_arch.deb, the version's ':' as %3a)."""
    package: str
    version: str
    arch: str


def refuse_other_target(target: tuple[str, str], here: tuple[str, str]) -> None:
    """`InputError` unless this machine (`here`: os-release ID, VERSION_ID) is of the `target`."""
    if target != here:
        raise InputError(
            f"khatui bundle: this machine is {here[0]} {here[1]}, its apt-get fetches packages for that release "
            f"only; build the bundle for {target[0]} {target[1]} on a connected {target[0]} {target[1]} machine"
        )


def _apt_error(stderr: str) -> str:
    """apt's first `E:` line (its error; `W:` lines are warnings), else all it said."""
    return next((line for line in stderr.splitlines() if line.startswith("E:")), stderr.strip())


def _deb(file: str) -> Deb:
    parts = file.removesuffix(".deb").split("_")
    if len(parts) != 3 or not file.endswith(".deb"):
        raise KhatuiError(f"apt-get: {file!r} is not a name_version_arch.deb file name")
    return Deb(file, parts[0], urllib.parse.unquote(parts[1]), parts[2])


class Apt:
    """apt-get with its state in `scratch` (package lists, cache, an empty dpkg status), downloading
    into `archives`."""

    def __init__(self, scratch: Path, archives: Path, options: Sequence[str] = ()) -> None:
        """`options`: more `-o` settings (a test's own sources list)."""
        for folder in (scratch / "lists" / "partial", archives / "partial"):
            with Folder.open(folder, create=True):
                pass  # apt-get wants both folders there
        with Folder.open(scratch) as opened:
            opened.write({"status": (b"", 0o644)})
        self.archives = archives
        self._options = [
            f"Dir::State::Lists={scratch / 'lists'}",
            f"Dir::State::status={scratch / 'status'}",
            f"Dir::State::extended_states={scratch / 'extended_states'}",
            f"Dir::Cache={scratch}",
            f"Dir::Cache::archives={self.archives}/",
            "APT::Install-Recommends=false",
            "Debug::NoLocking=true",
            *options,
        ]

    def _run(self, *args: str) -> str:
        command = ["apt-get", "-q", "-y", *(w for o in self._options for w in ("-o", o)), *args]
        return run_tool(command, f"apt-get {' '.join(args)[:120]}", APT_TIMEOUT_S, _apt_error, "no apt-get here")

    def update(self) -> None:
        """Fetch the package lists of the machine's sources into the scratch folder."""
        self._run("update")

    def closure(self, packages: Sequence[str]) -> list[Deb]:
        """The files `packages` and all their dependencies are, for a node with nothing installed."""
        out = self._run("install", "--download-only", "--print-uris", *packages)
        return [_deb(line.split()[1]) for line in out.splitlines() if line.startswith("'")]

    def download(self, packages: Sequence[str]) -> None:
        """Download `packages` with their dependencies into `archives` (verified by apt against the
        repositories' signed indexes)."""
        self._run("install", "--download-only", *packages)
        with Folder.open(self.archives) as archives:
            archives.remove_empty_folders(["partial/-"])  # apt-get's own, empty once it is done
