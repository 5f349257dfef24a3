"""The node-side program that installs a bundle's .deb files: run under sh with real .deb files and
the real `dpkg --compare-versions`, a recorded dpkg database (dpkg-query) and a recording apt-get."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from khatui.plan.phases.offline import DEB_INSTALL

FAKE_QUERY = """#!/bin/sh
# dpkg-query -W -f=FORMAT NAME: the recorded line of NAME, as 'ii  VERSION'
name=$3
line=$(grep "^$name " "$KHATUI_INSTALLED") || { echo "dpkg-query: no packages found matching $name" >&2; exit 1; }
printf 'ii  %s' "${line#* }"
"""
FAKE_APT = """#!/bin/sh
printf '%s\\n' "$@" > "$KHATUI_APT_ARGS"
"""


def _deb(folder: Path, name: str, version: str, arch: str) -> Path:
    root = folder / f"src-{name}"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN/control").write_text(
        f"Package: {name}\nVersion: {version}\nArchitecture: {arch}\nMaintainer: t <t@example.org>\nDescription: t\n"
    )
    out = folder / f"{name}_{version.replace(':', '%3a')}_{arch}.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-b", str(root), str(out)], check=True, capture_output=True)
    return out


CASES = [
    # (installed lines "name[:arch] version", the debs apt-get is given)
    ([], ["conntrack", "libdep", "tzdata"]),
    (["conntrack:amd64 1:1.4.7-1"], ["libdep", "tzdata"]),  # the same version: left out
    (["conntrack:amd64 1:1.4.8-1"], ["libdep", "tzdata"]),  # newer on the node: never downgraded
    (["conntrack:amd64 1:1.4.6-1"], ["conntrack", "libdep", "tzdata"]),  # older: upgraded
    (["tzdata 2024b-1"], ["conntrack", "libdep"]),  # an arch-all package is asked for without an arch
    (["conntrack 1:1.4.7-1"], ["conntrack", "libdep", "tzdata"]),  # another arch's name is not this one
]


@pytest.mark.parametrize(("installed", "given"), CASES)
def test_only_what_the_node_lacks_goes_to_apt_get(tmp_path: Path, installed: list[str], given: list[str]) -> None:
    debs = {
        "conntrack": _deb(tmp_path, "conntrack", "1:1.4.7-1", "amd64"),
        "libdep": _deb(tmp_path, "libdep", "2.0", "amd64"),
        "tzdata": _deb(tmp_path, "tzdata", "2024b-1", "all"),
    }
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("dpkg-query", FAKE_QUERY), ("apt-get", FAKE_APT)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    (tmp_path / "installed").write_text("".join(f"{line}\n" for line in installed))
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "KHATUI_INSTALLED": str(tmp_path / "installed"),
        "KHATUI_APT_ARGS": str(tmp_path / "apt-args"),
    }
    done = subprocess.run(
        ["sh", "-c", DEB_INSTALL, "khatui-packages", *map(str, debs.values())], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    args = (tmp_path / "apt-args").read_text().splitlines()
    assert args[-len(given) - 1 :] == ["--no-install-recommends", *(str(debs[name]) for name in given)]
    assert "--no-download" in args


def test_nothing_to_install_runs_no_apt_get(tmp_path: Path) -> None:
    deb = _deb(tmp_path, "libdep", "2.0", "amd64")
    (tmp_path / "installed").write_text("libdep:amd64 2.0\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "dpkg-query").write_text(FAKE_QUERY)
    (bin_dir / "dpkg-query").chmod(0o755)
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "KHATUI_INSTALLED": str(tmp_path / "installed")}
    done = subprocess.run(
        ["sh", "-c", DEB_INSTALL, "khatui-packages", str(deb)], env=env, capture_output=True, text=True
    )
    assert (done.returncode, done.stdout) == (0, "khatui: every package of the bundle is installed already\n")
