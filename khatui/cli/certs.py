"""`khatui certs ...`: the certificate console over the cluster's local PKI store.

The spec models, the PKI modules (and cryptography, and rich for the table) are imported inside the
handlers, not at the top: start-up is most of what a `certs generate` costs, and `generate` starts
RSA key generation (`khatui.pki.prefetch`) before it loads the spec models, so the two overlap.
Nothing here prints key material: lines name certificates by label, subject and SHA-256 fingerprint.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from khatui.errors import InputError
from khatui.pki.ca_names import CAName

if TYPE_CHECKING:
    from khatui.pki.catalog import Catalog
    from khatui.pki.inspect import CertSummary
    from khatui.pki.reconcile import Reconciliation
    from khatui.pki.store import Store, StoredPKI
    from khatui.spec.cluster import Cluster

STORE_HELP = "PKI store directory (default: <data dir>/clusters/<name>/pki; KHATUI_DATA_DIR moves the data dir)"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `certs` with `generate`, `list`, `renew` and `plan-ca-rotation`."""
    certs = sub.add_parser(
        "certs",
        help="create, inspect and renew the cluster's certificates",
        description="The cluster's PKI: an etcd CA, the Kubernetes cluster CA, the front-proxy CA, the "
        "service-account key pair, and every node's certificates, kept in a local store "
        "(directory 0700, files 0600). Keys are never printed.",
    )
    certs.set_defaults(run=lambda _args: certs.print_help() or 0)
    commands = certs.add_subparsers(title="commands", metavar="COMMAND")

    generate = commands.add_parser(
        "generate",
        help="create or complete the PKI store",
        description="Create the PKI store, or complete it: issue what is missing or broken (a key that "
        "does not match, a leaf its CA did not sign), keep everything else. Running it twice changes "
        "nothing. Imported CAs (mode: import) are checked first; on any bad input nothing is written.",
    )
    _common(generate)
    generate.set_defaults(run=_generate)

    listing = commands.add_parser(
        "list",
        help="show every certificate with expiry and coverage warnings",
        description="Show every certificate of the store: node, subject, SANs, issuer, not-after, days "
        "left, SHA-256 fingerprint and warnings (missing, expiring, lacking a required SAN such as the "
        "VIP, not signed by the store's CA). Exit code 1 when there is any warning.",
    )
    _common(listing)
    listing.add_argument("--output", choices=("table", "json", "yaml"), default="table", help="output format")
    listing.add_argument("--within", type=_days, default=30, metavar="DAYS", help="flag expiry within DAYS (30)")
    listing.set_defaults(run=_list)

    renew = commands.add_parser(
        "renew",
        help="reissue leaf certificates from the same CAs",
        description="Reissue leaf certificates with new keys from the same CAs (CAs and the service-account "
        "key pair never change here; see plan-ca-rotation). The changes are shown first and need "
        "confirmation (or --yes). Distribute the new files to the nodes afterwards.",
    )
    _common(renew)
    renew.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="WHAT",
        help="renew only these: a CA group (etcd, kubernetes, front-proxy), a kind (etcd-server, etcd-peer, "
        "etcd-healthcheck-client, apiserver, apiserver-etcd-client, front-proxy-client) or a node name; "
        "repeat or separate with commas",
    )
    renew.add_argument("--expiring-within", type=_days, metavar="DAYS", help="only certificates expiring within DAYS")
    renew.add_argument("--dry-run", action="store_true", help="show what would be reissued and stop")
    renew.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    renew.set_defaults(run=_renew)

    rotation = commands.add_parser(
        "plan-ca-rotation",
        help="print the steps to replace a CA (khatui does not run them)",
        description="Print the multi-step procedure to replace one CA with this cluster's nodes, files "
        "and paths filled in: back up, stage a new CA, trust both, switch certificates, drop the old CA. "
        "khatui prints the steps; you run them.",
    )
    _common(rotation)
    rotation.add_argument("--ca", choices=[c.value for c in CAName], required=True, help="the CA to replace")
    rotation.set_defaults(run=_plan_rotation)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", metavar="SPEC", help="cluster spec file (YAML)")
    parser.add_argument("--dir", metavar="DIR", help=STORE_HELP)


def _days(value: str) -> int:
    try:
        days = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of days") from None
    if days < 0:
        raise argparse.ArgumentTypeError("days cannot be negative")
    return days


@dataclass(frozen=True)
class PKIContext:
    """A valid spec, its PKI catalog and its local store (also what `khatui kubeconfig` signs from)."""

    cluster: Cluster
    catalog: Catalog
    store: Store
    base_dir: str
    now: datetime


def pki_context(args: argparse.Namespace) -> PKIContext:
    """The context of `args.spec` (exit 2 on an invalid spec) with the store at `args.dir` (or the default)."""
    from khatui.cli.output import valid_cluster
    from khatui.pki.catalog import build_catalog
    from khatui.pki.store import Store

    # SSH identity files are not needed here; CA files to import are read (and checked) by ca_files.
    cluster = valid_cluster(args.spec, check_local_files=False)
    store = Store.for_cluster(cluster.metadata.name, args.dir)
    base_dir = str(Path(args.spec).resolve().parent)
    return PKIContext(cluster, build_catalog(cluster), store, base_dir, datetime.now(UTC))


def _load(ctx: PKIContext, with_keys: bool) -> StoredPKI:
    return ctx.store.load(ctx.catalog, with_keys=with_keys)


def _generate(args: argparse.Namespace) -> int:
    from khatui.pki import prefetch

    prefetch.start(args.spec, args.dir)
    from khatui.pki.ensure import ensure_store
    from khatui.pki.reconcile import Action

    ctx = pki_context(args)
    was_empty, changes, kept = ensure_store(ctx.catalog, ctx.store, ctx.base_dir, ctx.now)
    state = "created" if was_empty else ("updated" if changes else "unchanged")
    print(f"PKI store {ctx.store.root}: {state} ({len(changes)} issued, {kept} kept)")
    for decision in changes:
        verb = "reissued" if decision.action is Action.REISSUE else "issued"
        print(f"  {verb:<9}{decision.label:<36}{decision.reason}")
    _print_warnings(ctx, check_kept=kept > 0)
    return 0


def _print_warnings(ctx: PKIContext, check_kept: bool) -> None:
    """What `generate` keeps but an operator should know: expiry, missing SANs, wide file modes.

    Only kept items can carry such problems: what was just issued matches the catalog by construction.
    """
    from khatui.pki.status import problems, summaries

    found = problems(summaries(ctx.catalog, _load(ctx, with_keys=False), ctx.now)) if check_kept else []
    found += ctx.store.permission_problems()
    for warning in found:
        print(f"warning: {warning}", file=sys.stderr)
    if found:
        print("see `khatui certs list SPEC`; `khatui certs renew SPEC` reissues leaves", file=sys.stderr)


def _list(args: argparse.Namespace) -> int:
    from khatui.pki.status import problems, summaries

    ctx = pki_context(args)
    found = summaries(ctx.catalog, _load(ctx, with_keys=False), ctx.now, args.within)
    warnings = problems(found) + ctx.store.permission_problems()
    if args.output == "table":
        _print_table(ctx, found, warnings)
    else:
        data = {"store": str(ctx.store.root), "certificates": [s.as_dict() for s in found], "warnings": warnings}
        if args.output == "json":
            sys.stdout.write(json.dumps(data, indent=2) + "\n")
        else:
            import yaml

            sys.stdout.write(yaml.safe_dump(data, sort_keys=False))
    return 1 if warnings else 0


def _print_table(ctx: PKIContext, found: list[CertSummary], warnings: list[str]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    # Markup off: node names, subjects and SANs come from the spec and are printed as they are.
    console = Console(highlight=False, markup=False)
    if not console.is_terminal:  # piped: do not squeeze the table into 80 columns
        console = Console(highlight=False, markup=False, width=200)
    table = Table(title=f"PKI of {ctx.catalog.cluster_name} ({ctx.store.root})", title_justify="left")
    for column in ("Node", "Certificate", "Subject", "Issuer", "SANs", "Not after", "Days", "SHA-256", "Status"):
        table.add_column(column, overflow="fold", no_wrap=column in ("Node", "Certificate", "Not after", "Status"))
    styles = {"ok": "green", "missing": "red", "expired": "red", "expiring": "yellow", "stale": "yellow"}
    for s in found:
        days = "" if s.days_left is None else str(s.days_left)
        short = s.fingerprint[:11] + "…" if s.fingerprint else ""
        status = Text(s.status, styles.get(s.status, "white"))
        name = s.label.removeprefix(f"{s.node}/")
        sans = ", ".join(s.sans)
        table.add_row(s.node, name, _cn(s.subject), _cn(s.issuer), sans, s.not_after[:10], days, short, status)
    console.print(table)
    for warning in warnings:
        console.print(Text.assemble(("warning:", "yellow"), f" {warning}"))


def _cn(name: str) -> str:
    """'CN=etcd-ca' -> 'etcd-ca' (khatui's subjects are a lone CN; anything else is shown whole)."""
    return name.removeprefix("CN=") if name.count("=") == 1 else name


def _renew(args: argparse.Namespace) -> int:
    from khatui.pki.inspect import days_left
    from khatui.pki.issuing import execute
    from khatui.pki.reconcile import Action, decide, stored_authorities

    ctx = pki_context(args)
    only = [part.strip() for value in args.only for part in value.split(",") if part.strip()]
    selected = ctx.catalog.select(only)
    stored = _load(ctx, with_keys=True)
    if stored.empty:
        raise InputError(f"{ctx.store.root}: no PKI store yet; run `khatui certs generate {args.spec}` first")
    authorities = stored_authorities(ctx.catalog, stored, str(ctx.store.root), ctx.now)
    if len(authorities) < len(ctx.catalog.authorities):
        raise InputError(f"{ctx.store.root}: a CA is missing; run `khatui certs generate {args.spec}` to complete it")
    renew = set()
    for leaf in selected:
        cert = stored.get(leaf.stem).cert
        if args.expiring_within is None or cert is None or days_left(cert, ctx.now) < args.expiring_within:
            renew.add(leaf.stem)
    plan = decide(ctx.catalog, stored, authorities, {}, renew)
    changes = plan.changes
    if not changes:
        print("nothing to renew")
        return 0
    _print_renewal(ctx, plan)
    if args.dry_run:
        print("dry run: nothing written")
        return 0
    if not args.yes and not _confirm(f"Reissue {len(changes)} certificate{'s' * (len(changes) != 1)}? [y/N] "):
        print("nothing written")
        return 1
    ctx.store.write(execute(plan, datetime.now(UTC)))
    reissued = sum(1 for d in changes if d.action is Action.REISSUE)
    print(f"PKI store {ctx.store.root}: {reissued} reissued, {len(changes) - reissued} issued")
    print("the nodes keep the old certificates until the new files are copied to them")
    return 0


def _print_renewal(ctx: PKIContext, plan: Reconciliation) -> None:
    from khatui.pki.inspect import fingerprint

    hours = ctx.catalog.validity_hours
    print(f"From {ctx.store.root}, these certificates get new keys, from the same CAs (valid {hours}h):")
    for decision in plan.changes:
        current = decision.current
        old = "none"
        if current is not None:
            old = f"not after {current.not_valid_after_utc:%Y-%m-%d}, SHA-256 {fingerprint(current)[:23]}…"
        print(f"  {decision.label:<36}{decision.reason:<28}{old}")


def _confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        raise InputError("renew needs confirmation: pass --yes (or --dry-run to only preview)")
    return input(question).strip().lower() in ("y", "yes")


def _plan_rotation(args: argparse.Namespace) -> int:
    from khatui.pki.rotation import rotation_steps

    ctx = pki_context(args)
    text = rotation_steps(ctx.catalog, CAName(args.ca), ctx.store.root, args.spec, date.today())
    sys.stdout.write(text)
    return 0
