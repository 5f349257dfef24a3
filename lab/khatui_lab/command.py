"""`khatui lab up|down|status`: real test nodes on this machine (see `khatui_lab`).

khatui finds this module through the `khatui.commands` entry point `lab` (lab/pyproject.toml) and
loads it to list `lab` in `khatui --help`: so it imports only the light `khatui_lab.layout` at the
top, and `khatui_lab.lab` (which loads the spec models) when a lab command runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from khatui_lab.layout import DEFAULT_NAME, DEFAULT_NODES, DEFAULT_SUBNET

SUMMARY = "bring up a local multi-node lab to try khatui on"
"""The one-line help `khatui --help` lists for `lab`."""

DESCRIPTION = """\
A local lab: N real nodes on this Linux machine (root needed), each a set of namespaces on a bridge
with its own /etc, /usr, /var overlays, its own systemd as PID 1 and a real sshd. The nodes start
bare (a minimal Debian 12): the rollout installs etcd, haproxy, keepalived, containerd and the kube
tools from the lab's own signed repository and files mirror (`--host-image`: nodes over this
host's /usr with them already there). `up` writes lab.yaml,
a ready cluster spec: 5 nodes give cp1-cp3 (control-plane + etcd) and lb1-lb2 (haproxy +
keepalived, VIP .100); 3-4 nodes put the lb role on the control planes (haproxy on 8443); 1-2
nodes give a single non-HA control plane; nodes past 5 are workers.

`khatui lab` alone brings the default lab up and opens the wizard on its lab.yaml: the quickest way
to a full HA rollout on this machine."""


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `lab` with its `up`, `down` and `status` subcommands."""
    lab = sub.add_parser(
        "lab",
        help=SUMMARY,
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    lab.set_defaults(run=_lab_then_wizard)
    commands = lab.add_subparsers(title="lab commands", metavar="COMMAND")

    up = commands.add_parser("up", help="create and boot the lab (a no-op when it is up)")
    up.add_argument("--nodes", type=int, default=DEFAULT_NODES, help=f"number of nodes (default {DEFAULT_NODES})")
    _name(up)
    up.add_argument("--subnet", default=DEFAULT_SUBNET, help=f"private IPv4 subnet (default {DEFAULT_SUBNET})")
    image = up.add_mutually_exclusive_group()
    image.add_argument(
        "--bare",
        dest="bare",
        action="store_true",
        default=True,
        help="bare nodes, the default: a minimal Debian 12, nothing of this host's, served a signed package "
        "repository and a files mirror by the lab; the rollout installs containerd, etcd, haproxy... (spec.install)",
    )
    image.add_argument(
        "--host-image",
        dest="bare",
        action="store_false",
        help="nodes over this host's /usr with etcd, containerd, haproxy, keepalived and the kube stand-ins "
        "already there (spec.install.enabled: false): the older, quicker lab",
    )
    up.set_defaults(run=_up)

    down = commands.add_parser("down", help="remove the lab and everything it created (a no-op when gone)")
    _name(down)
    down.set_defaults(run=_down)

    status = commands.add_parser("status", help="show each node: address, PID 1, systemd state, sshd")
    _name(status)
    status.add_argument("--output", choices=("table", "json"), default="table", help="output format (default table)")
    status.set_defaults(run=_status)


def _name(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", default=DEFAULT_NAME, help=f"lab name (default {DEFAULT_NAME!r})")


def _say(message: str) -> None:
    print(f"khatui lab: {message}", flush=True)


def _up(args: argparse.Namespace) -> int:
    from khatui_lab.lab import Lab

    lab = Lab(args.name, args.subnet, args.nodes, bare=getattr(args, "bare", True))
    booted = lab.up(progress=_say)
    if booted:
        _say(f"lab {lab.name!r} is up: {len(booted)} node(s) booted")
    else:
        _say(f"lab {lab.name!r} was already up: nothing to do")
    print(f"  spec:         {lab.spec_path}")
    print(f"  identity:     {lab.identity_file}")
    print(f"  known_hosts:  {lab.known_hosts}")
    print(
        f"  try:          ssh -i {lab.identity_file} -o UserKnownHostsFile={lab.known_hosts} root@{lab.address(lab.node_names[0])}"
    )
    print(f"                khatui validate --strict {lab.spec_path}")
    return 0


def _lab_then_wizard(args: argparse.Namespace) -> int:
    """`khatui lab`: the default lab, then the wizard on its spec (in a terminal)."""
    up = argparse.Namespace(name=DEFAULT_NAME, subnet=DEFAULT_SUBNET, nodes=DEFAULT_NODES)
    _up(up)
    from khatui_lab.lab import Lab

    lab = Lab(DEFAULT_NAME, DEFAULT_SUBNET, DEFAULT_NODES)
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        _say(f"no terminal for the wizard; continue with: khatui plan {lab.spec_path}")
        return 0
    from khatui.cli.wizard_cmd import launch

    return launch(str(lab.spec_path))


def _down(args: argparse.Namespace) -> int:
    from khatui_lab.lab import Lab, labs_dir, remove_lab
    from khatui_lab.preflight import require_linux_root

    lab = Lab.existing(args.name)
    if lab is None:
        require_linux_root()
        removed = remove_lab(args.name, labs_dir() / args.name, progress=_say)
    else:
        removed = lab.down(progress=_say)
    if removed:
        _say(f"lab {args.name!r} is down (removed {len(removed)} item(s))")
    else:
        _say(f"no lab {args.name!r}: nothing to remove")
    return 0


def _status(args: argparse.Namespace) -> int:
    from khatui_lab.deviations import describe
    from khatui_lab.lab import Lab, LabStatus

    lab = Lab.existing(args.name)
    status = lab.status() if lab is not None else LabStatus(args.name, exists=False)
    bare = status.repository is not None
    if args.output == "json":
        data = asdict(status) | {"up": status.up, "deviations": describe(bare)}
        json.dump(data, sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif not status.exists:
        print(f"no lab named {args.name!r} (start one with `khatui lab up --name {args.name}`)")
    else:
        print(f"lab {status.name!r} on {status.subnet} in {status.lab_dir}")
        print(f"{'NODE':<10} {'ADDRESS':<16} {'PID 1':<8} {'SYSTEMD':<13} SSHD")
        for node in status.nodes:
            pid = str(node.pid1) if node.pid1 is not None else "dead"
            sshd = "listening" if node.sshd_listening else "no"
            print(f"{node.name:<10} {node.address:<16} {pid:<8} {node.system_state:<13} {sshd}")
        if bare:
            server = "up" if status.server_up else "DOWN"
            print(f"bare nodes; the lab's server is {server}: repository {status.repository}, files {status.files}")
        print("where the lab does not meet a rule of the real tools:")
        for line in describe(bare):
            print(f"  - {line}")
    return 0 if status.up or not status.exists else 1
