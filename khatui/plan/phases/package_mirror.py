"""The package mirror of `spec.install.packages.mirror` on one node: its files, and its manager's options.

apt: the key under /etc/apt/keyrings (`.asc` when armored, `.gpg` when binary: apt tells them by the
name), a deb822 source naming it in `Signed-By`, and apt run with that source only (`sourcelist` is
the one file, `sourceparts=-` reads no other, `List-Cleanup=0` keeps the other sources' lists), so
nothing comes from elsewhere. dnf: the key under /etc/pki/rpm-gpg and a .repo with `gpgcheck=1`
(every package's signature is checked against that key; `repo_gpgcheck=0`, as most internal mirrors
do not sign their metadata), run with every other repository disabled. Every value reaches the files
through `quoting.lines.word`; the suite defaults to the node's codename as the probe read it.
"""

from __future__ import annotations

from khatui import nodepaths
from khatui.facts.distro import Family
from khatui.plan.context import PlanNode
from khatui.quoting.lines import word
from khatui.render.files import FileKind, RenderedFile
from khatui.spec.install import PackageMirror
from khatui.spec.mirrorkey import is_armored

REPO_ID = "khatui-mirror"
OFFLINE_SUITE = "VERSION_CODENAME"
"""The suite written in an offline plan (no facts): the node's codename is read when it is probed."""
APT_OPTIONS = (
    "-o",
    f"Dir::Etc::sourcelist={nodepaths.APT_MIRROR_SOURCES}",
    "-o",
    "Dir::Etc::sourceparts=-",
    "-o",
    "APT::Get::List-Cleanup=0",
)
DNF_OPTIONS = ("--disablerepo=*", f"--enablerepo={REPO_ID}")


def manager_options(family: Family) -> tuple[str, ...]:
    """The options that make `family`'s manager use the mirror only."""
    return DNF_OPTIONS if family is Family.RHEL else APT_OPTIONS


def key_path(family: Family, key: bytes) -> str:
    """Where the key goes on a node of `family`."""
    if family is Family.RHEL:
        return str(nodepaths.DNF_MIRROR_KEY)
    return str(nodepaths.APT_KEYRINGS / f"{REPO_ID}.{'asc' if is_armored(key) else 'gpg'}")


def suite_of(mirror: PackageMirror, node: PlanNode) -> str | None:
    """The apt suite: the spec's, else the node's codename (None: the node reports none)."""
    if mirror.suite:
        return mirror.suite
    if node.facts is None:
        return OFFLINE_SUITE
    return node.facts.os_codename or None


def apt_source(mirror: PackageMirror, suite: str, signed_by: str) -> str:
    """The deb822 source of the mirror."""
    target = "an apt source"
    components = " ".join(word(c, target) for c in mirror.components)
    return (
        f"Types: deb\nURIs: {word(mirror.url, target)}\nSuites: {word(suite, target)}\n"
        f"Components: {components}\nSigned-By: {word(signed_by, target)}\n"
    )


def dnf_repo(mirror: PackageMirror, gpgkey: str) -> str:
    """The .repo of the mirror."""
    target = "a dnf .repo file"
    return (
        f"[{REPO_ID}]\nname=khatui package mirror\nbaseurl={word(mirror.url, target)}\nenabled=1\n"
        f"gpgcheck=1\nrepo_gpgcheck=0\ngpgkey=file://{word(gpgkey, target)}\n"
    )


def mirror_files(mirror: PackageMirror, key: bytes, family: Family, node: PlanNode, suite: str) -> list[RenderedFile]:
    """The key and the source (apt) or .repo (dnf) file `node` gets."""
    keyfile = key_path(family, key)
    if family is Family.RHEL:
        path, text = str(nodepaths.DNF_MIRROR_REPO), dnf_repo(mirror, keyfile)
    else:
        path, text = str(nodepaths.APT_MIRROR_SOURCES), apt_source(mirror, suite, keyfile)
    return [
        RenderedFile(node.name, keyfile, key, FileKind.CONFIG, "packages"),
        RenderedFile(node.name, path, text, FileKind.CONFIG, "packages"),
    ]
