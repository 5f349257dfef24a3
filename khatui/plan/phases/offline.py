"""Installing from an air-gapped bundle: its distribution packages and its container images.

Its own module because both work the same way and unlike the online paths: the files are uploaded
from the bundle (`Transfer`, verified on the node) into a folder of their own, then installed with
nothing fetched — apt-get `--no-download` on the .deb files (those the node already holds at the
same or a newer version left out, so a bundle never downgrades a node), dnf with every repository
disabled, `ctr images import` for each image archive containerd does not list yet. The shell
programs are constants: the file paths reach them only as positional arguments.
"""

from __future__ import annotations

from collections.abc import Sequence

from khatui.artifacts.bundle import Bundle, BundleFile
from khatui.errors import InputError
from khatui.facts.distro import Family
from khatui.plan.model import Action, Run, Transfer
from khatui.quoting import shell as sh
from khatui.quoting.shell import Script

PACKAGES_DIR = "/var/lib/khatui/packages"
IMAGES_DIR = "/var/lib/khatui/images"

DEB_INSTALL = r"""for deb in "$@"; do shift
p=$(dpkg-deb -f "$deb" Package) && v=$(dpkg-deb -f "$deb" Version) && a=$(dpkg-deb -f "$deb" Architecture) || exit 1
[ "$a" = all ] || p="$p:$a"
have=$(dpkg-query -W -f='${db:Status-Abbrev} ${Version}' "$p" 2>/dev/null) || have=
case $have in "ii "*) dpkg --compare-versions "${have##* }" ge "$v" && continue;; esac
set -- "$@" "$deb"
done
[ $# -eq 0 ] && { echo "khatui: every package of the bundle is installed already"; exit 0; }
exec env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y --no-download \
  --no-install-recommends "$@"
"""
"""`sh -c DEB_INSTALL khatui-packages FILE...`: install the .deb files the node does not hold at
that version or newer, dependencies resolved among them and what is installed."""


def transfers(bundle: Bundle, files: Sequence[BundleFile], folder: str) -> list[Transfer]:
    """Upload `files` from the bundle into `folder` on the node (readable: apt reads them as _apt)."""
    return [Transfer(f.sha256, bundle.local(f), f"{folder}/{f.name}", 0o644, bundle.local(f)) for f in files]


def install_packages(bundle: Bundle, node: str, family: Family, needs: list[str]) -> tuple[Action, ...]:
    """Upload the packages of `needs` and install them offline; `InputError` when the bundle cannot serve."""
    target = bundle.manifest.target
    if family.value != target.family:
        raise InputError(
            f"{node}: installs {family.value} packages, but the bundle {bundle.folder} holds "
            f"{target.os} {target.version} ({target.family}) ones"
        )
    files = bundle.packages(needs)
    if files is None:
        missing = [n for n in needs if n not in bundle.manifest.package_sets]
        raise InputError(
            f"{node}: the bundle {bundle.folder} has no packages for {', '.join(missing)}; "
            "build it again with `khatui bundle` from this spec"
        )
    paths = [f"{PACKAGES_DIR}/{f.name}" for f in files]
    command: Script
    if family is Family.RHEL:
        command = sh.cmd("dnf", "install", "-y", "--disablerepo=*", *paths)
    else:
        command = sh.cmd("sh", "-c", DEB_INSTALL, "khatui-packages", *paths)
    run = Run(command, timeout=1200.0, description=f"install {len(files)} packages from the bundle, nothing downloaded")
    return (*transfers(bundle, files, PACKAGES_DIR), run)


def import_images(bundle: Bundle, images: Sequence[BundleFile]) -> tuple[Action, ...]:
    """Upload each image archive and import it into containerd's k8s.io namespace (the kubelet's)."""
    imports = [
        Run(sh.cmd("ctr", "-n", "k8s.io", "images", "import", f"{IMAGES_DIR}/{f.name}"), timeout=600.0) for f in images
    ]
    return (*transfers(bundle, images, IMAGES_DIR), *imports)
