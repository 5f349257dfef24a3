"""`khatui render SPEC --out DIR`: every node's files under DIR/<node>/<path on the node>.

For review, GitOps, or copying by hand. Files keep their modes; owners (root on the nodes) are not
applied here — the operator may not be root — but are listed in DIR/khatui-files.tsv with each
file's kind, install stage and sha256. With --force a previous render in DIR is replaced: the files
its index lists are removed first, so files that no longer belong do not linger, but only regular
files inside DIR still holding what khatui wrote (their sha256 matches): nothing khatui did not write
is touched. All writes and removals go through `khatui.localfs`, so no symlink in DIR is followed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from khatui.cli.render_index import INDEX, index_text, member, read_index
from khatui.errors import InputError
from khatui.localfs import PRIVATE_DIR, Folder
from khatui.render import NO_PKI, PKISource, RenderedFile, render_cluster
from khatui.render.files import FileKind
from khatui.spec.cluster import Cluster
from khatui.spec.problems import Severity
from khatui.spec.validate import validate_file

DESCRIPTION = f"""\
Validate SPEC, then write every file each node gets — etcd, kubeadm, kubelet, kube-proxy, the load
balancer, and the DNS and storage addons — to DIR/<node>/<absolute path on the node>, with its mode.
DIR/{INDEX} lists each file's owner, kind, install stage and sha256. Every config file starts
with a header naming the spec it came from. Certificates and private keys come from the cluster's
PKI store (created or completed first) and are written too, keys 0600 in a folder created 0700;
--no-pki leaves them out. No symlink in DIR is followed.

Exit code 0: written; 2: invalid spec, a part khatui cannot render, DIR not empty, or a symlink or
an unreadable index in DIR."""
EXAMPLE = """\
example:
  khatui render cluster.yaml --out rendered/
  khatui render cluster.yaml --out rendered/ --force --etcd-existing cp4"""


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `render`."""
    render = sub.add_parser(
        "render",
        help="write every node's configuration files to a folder",
        description=DESCRIPTION,
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    render.add_argument("spec", metavar="SPEC", help="cluster spec file (YAML)")
    render.add_argument("--out", "-o", metavar="DIR", required=True, help="folder to write to (created if missing)")
    render.add_argument("--force", action="store_true", help="replace a previous render in DIR")
    render.add_argument(
        "--etcd-existing",
        metavar="NODE",
        action="append",
        default=[],
        help="render NODE's etcd member for joining a running cluster (--initial-cluster-state=existing); repeatable",
    )
    render.add_argument(
        "--no-local-files", action="store_true", help="skip checks of local files (identity files, CA files)"
    )
    render.add_argument(
        "--no-pki",
        action="store_true",
        help="leave out certificates and keys (by default they come from the cluster's PKI store, completed if needed)",
    )
    render.add_argument(
        "--pki-dir", metavar="DIR", help="PKI store directory (default: <data dir>/clusters/<name>/pki)"
    )
    render.set_defaults(run=_render)


def _render(args: argparse.Namespace) -> int:
    report = validate_file(args.spec, check_local_files=not args.no_local_files)
    for problem in report.problems:
        print(problem, file=sys.stderr)
    if not report.ok or report.cluster is None:
        errors = sum(p.severity is Severity.ERROR for p in report.problems)
        print(f"{args.spec}: invalid ({errors} error{'s' * (errors != 1)}); nothing rendered", file=sys.stderr)
        return 2
    names = {node.name for node in report.cluster.spec.nodes}
    unknown = sorted(set(args.etcd_existing) - names)
    if unknown:
        raise InputError(f"--etcd-existing: no node called {', '.join(unknown)} in {args.spec}")
    pki = NO_PKI if args.no_pki else _store_pki(report.cluster, args)
    files = render_cluster(report.cluster, pki, etcd_existing=frozenset(args.etcd_existing))
    out = Path(args.out)
    private = any(f.kind is FileKind.KEY for f in files)
    with Folder.open(out, create=True, mode=PRIVATE_DIR if private else 0o755) as folder:
        _prepare(folder, args.force, {member(f.node, f.path) for f in files})
        write_files(files, folder)
    nodes = len({f.node for f in files})
    print(f"wrote {len(files)} files for {nodes} nodes to {out} (index: {out / INDEX})", file=sys.stderr)
    return 0


def _store_pki(cluster: Cluster, args: argparse.Namespace) -> PKISource:
    """The store's certificates and keys for the render, issuing what is missing first."""
    from datetime import UTC, datetime

    from khatui.pki.catalog import build_catalog
    from khatui.pki.ensure import ensure_store
    from khatui.pki.nodefiles import StorePKI
    from khatui.pki.store import Store

    catalog = build_catalog(cluster)
    store = Store.for_cluster(cluster.metadata.name, args.pki_dir)
    now = datetime.now(UTC)
    _, changes, _ = ensure_store(catalog, store, str(Path(args.spec).resolve().parent), now)
    if changes:
        print(f"PKI store {store.root}: issued {len(changes)} certificate(s)", file=sys.stderr)
    return StorePKI(catalog, store, now)


def _prepare(folder: Folder, force: bool, rewritten: set[str]) -> None:
    """Make sure `folder` may be written: empty, or (with force) holding a previous render, removed.

    A listed file changed since khatui wrote it stays, and is named unless the new render replaces it.
    """
    if folder.is_empty():
        return
    out = folder.path
    if not force:
        raise InputError(f"{out} is not empty; pass --force to replace a previous render there")
    if not folder.holds(INDEX):
        raise InputError(f"{out} is not empty and holds no {INDEX}: not a khatui render, refusing to touch it")
    entries, index_sha256 = read_index(folder)
    for entry in entries:
        folder.remove_if_written(entry.member, entry.sha256)
    folder.remove_if_written(INDEX, index_sha256)
    folder.remove_empty_folders([entry.member for entry in entries])
    kept = [entry.member for entry in entries if entry.member not in rewritten and folder.holds(entry.member)]
    if kept:
        more = f" and {len(kept) - 1} more" if len(kept) > 1 else ""
        print(f"note: kept {kept[0]}{more} in {out}: changed since the previous render", file=sys.stderr)


def write_files(files: list[RenderedFile], folder: Folder) -> None:
    """Write `files` into `folder`, one subfolder per node, and the index: all staged, then renamed."""
    contents: dict[str, tuple[bytes, int | None]] = {member(f.node, f.path): (f.data, f.mode) for f in files}
    contents[INDEX] = (index_text(files).encode(), 0o644)
    folder.write(contents)
