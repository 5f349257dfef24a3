"""`khatui bundle SPEC -o DIR`: an air-gapped bundle of everything SPEC's nodes install.

The command only reads its flags and prints progress; `khatui.bundling.build` does the work.
"""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path

from khatui.artifacts.catalog import ARCHES
from khatui.cli.output import valid_cluster

DESCRIPTION = """\
On a machine with internet access, write into DIR (new or empty) everything the nodes of SPEC
install, for a site without it: the release binaries each node's roles need (checked against their
published sha256), the Debian/Ubuntu packages of every role with all their dependencies (fetched by
this machine's apt-get, which is why it must run the nodes' distribution and release), and the
container images (kubeadm's for the Kubernetes version and every image of the rendered manifests
and addons) as OCI archives (skopeo). DIR/manifest.json, written last, lists every file with its
sha256. Copy DIR to the air-gapped side and set spec.install.bundle to it: plan verifies every file,
apply uploads them over SSH and installs with nothing downloaded.

Exit code 0: written; 1: a download failed; 2: invalid spec or flags, DIR not empty, or a --target
this machine cannot fetch packages for."""
EXAMPLE = """\
example:
  khatui bundle cluster.yaml -o bundle/
  khatui bundle cluster.yaml -o bundle/ --target ubuntu:24.04 --arch amd64"""


def _os_release() -> tuple[str, str]:
    values = {}
    for line in Path("/etc/os-release").read_text(errors="replace").splitlines():
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip('"')
    return values.get("ID", ""), values.get("VERSION_ID", "")


def _target(text: str) -> tuple[str, str]:
    os_id, sep, version = text.partition(":")
    if not sep or not os_id or not version:
        raise argparse.ArgumentTypeError(f"{text!r}: ID:VERSION_ID of the nodes' /etc/os-release, e.g. debian:12")
    return os_id, version


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `bundle`."""
    bundle = sub.add_parser(
        "bundle",
        help="write an air-gapped bundle: every binary, package and image a spec's nodes install",
        description=DESCRIPTION,
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    bundle.add_argument("spec", metavar="SPEC", help="cluster spec file (YAML)")
    bundle.add_argument("--out", "-o", metavar="DIR", required=True, help="folder to write (new or empty)")
    bundle.add_argument(
        "--target",
        metavar="ID:VERSION",
        type=_target,
        help="the nodes' distribution and release (os-release ID:VERSION_ID; default: this machine's)",
    )
    bundle.add_argument(
        "--arch", choices=sorted(set(ARCHES.values())), help="the nodes' architecture (default: this machine's)"
    )
    bundle.add_argument(
        "--registries-conf",
        metavar="FILE",
        help="skopeo's registries.conf to fetch the images with (a mirror, an insecure registry); "
        "default: this machine's",
    )
    bundle.set_defaults(run=_bundle)


def _bundle(args: argparse.Namespace) -> int:
    from khatui.bundling.build import Request, build

    cluster = valid_cluster(args.spec, check_local_files=True)
    here = _os_release()
    arch = args.arch or ARCHES.get(platform.machine(), platform.machine())
    target = args.target or here
    request = Request(args.spec, cluster, Path(args.out), target, here, arch, args.registries_conf)
    build(request, lambda line: print(f"khatui bundle: {line}", file=sys.stderr, flush=True))
    return 0
