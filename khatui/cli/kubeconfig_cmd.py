"""`khatui kubeconfig SPEC`: an admin kubeconfig for the operator, signed from the local PKI store.

Short-lived unless asked otherwise (`--ttl`, 24 h by default), so a copy that leaks stops working
soon; written 0600 through `khatui.localfs` (never through a symlink), or to stdout with `-o -`.
"""

from __future__ import annotations

import argparse
import getpass
import re
import sys
from datetime import timedelta
from pathlib import Path

from khatui.localfs import PRIVATE_FILE, Folder
from khatui.views.outcome import default_kubeconfig

_TTL = re.compile(r"([1-9][0-9]{0,5})([mhd])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def ttl(value: str) -> timedelta:
    """`30m`, `24h`, `365d`: how long the client certificate is valid."""
    match = _TTL.fullmatch(value)
    if match is None:
        raise argparse.ArgumentTypeError(f"{value!r} is not a duration like 30m, 24h or 7d")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `kubeconfig`."""
    from khatui.cli.certs import STORE_HELP

    parser = sub.add_parser(
        "kubeconfig",
        help="write an admin kubeconfig for the operator",
        description="Write a kubeconfig whose server is the load balancer (with localProxy: the first "
        "control plane) and whose client certificate, signed by the cluster CA of the local PKI store, "
        "is valid for --ttl (24h) with CN the operator's name and O kubeadm:cluster-admins. Mode 0600.",
    )
    parser.add_argument("spec", metavar="SPEC", help="cluster spec file (YAML)")
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="where to write it (default: CLUSTER.kubeconfig; - for stdout)"
    )
    parser.add_argument("--ttl", type=ttl, default=timedelta(hours=24), help="certificate lifetime: 30m, 24h, 7d (24h)")
    parser.add_argument("--user", metavar="NAME", help="the certificate's CN (default: your login name)")
    parser.add_argument(
        "--group",
        action="append",
        metavar="GROUP",
        help="the certificate's O, repeatable (default: kubeadm:cluster-admins)",
    )
    parser.add_argument("--dir", metavar="DIR", help=STORE_HELP)
    parser.set_defaults(run=_kubeconfig)


def _kubeconfig(args: argparse.Namespace) -> int:
    from khatui.cli.certs import pki_context
    from khatui.pki.operator_kubeconfig import ADMIN_GROUP, operator_kubeconfig, operator_server

    ctx = pki_context(args)
    user = args.user or f"khatui-operator-{getpass.getuser()}"
    groups = tuple(args.group or (ADMIN_GROUP,))
    data = operator_kubeconfig(ctx.cluster, ctx.catalog, ctx.store, user, groups, args.ttl, ctx.now)
    output = args.output or default_kubeconfig(ctx.cluster.metadata.name)
    if output == "-":
        sys.stdout.write(data.decode())
        return 0
    target = Path(output)
    with Folder.open(target.parent) as folder:
        folder.write({target.name: (data, PRIVATE_FILE)})
    server = operator_server(ctx.cluster)
    print(
        f"wrote {output} (mode 0600): {user} in {', '.join(groups)} until {ctx.now + args.ttl:%Y-%m-%d %H:%M} UTC, server {server}"
    )
    return 0
