"""`khatui render SPEC --out DIR`: every node's files under DIR/<node>/<path on the node>.

For review, GitOps, or copying by hand. Files keep their modes; owners (root on the nodes) are not
applied here — the operator may not be root — but are listed in DIR/khatui-files.tsv with each
file's kind, install stage and sha256. With --force a previous render in DIR is replaced: exactly the
files its index lists are removed first, so files that no longer belong do not linger and nothing
khatui did not write is touched.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from pathlib import Path

from khatui.errors import InputError
from khatui.render import NO_PKI, PKISource, RenderedFile, render_cluster
from khatui.spec.cluster import Cluster
from khatui.spec.problems import Severity
from khatui.spec.validate import validate_file

INDEX = "khatui-files.tsv"
INDEX_HEADER = "node\tpath\tmode\towner\tkind\tstage\tsha256\n"
DESCRIPTION = f"""\
Validate SPEC, then write every file each node gets — etcd, kubeadm, kubelet, kube-proxy, the load
balancer, and the DNS and storage addons — to DIR/<node>/<absolute path on the node>, with its mode.
DIR/{INDEX} lists each file's owner, kind, install stage and sha256. Every config file starts
with a header naming the spec it came from. Certificates and keys are not written.

Exit code 0: written; 2: invalid spec, a part khatui cannot render, or DIR not empty."""
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
    _prepare(out, args.force)
    write_files(files, out)
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


def _prepare(out: Path, force: bool) -> None:
    """Make sure `out` may be written: missing or empty, or (with force) holding a previous render."""
    if not out.exists():
        return
    if not out.is_dir():
        raise InputError(f"{out} exists and is not a folder")
    if not any(out.iterdir()):
        return
    index = out / INDEX
    if not force:
        raise InputError(f"{out} is not empty; pass --force to replace a previous render there")
    if not index.is_file():
        raise InputError(f"{out} is not empty and holds no {INDEX}: not a khatui render, refusing to touch it")
    folders: set[Path] = set()
    for line in index.read_text(encoding="utf-8").splitlines()[1:]:
        node, path = line.split("\t")[:2]
        target = _local(out, node, path)
        target.unlink(missing_ok=True)
        folders.update(p for p in target.parents if out in p.parents)
    index.unlink()
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def _local(out: Path, node: str, path: str) -> Path:
    return out / node / path.lstrip("/")


def write_files(files: list[RenderedFile], out: Path) -> None:
    """Write `files` under `out`, one folder per node, and the index."""
    rows = [INDEX_HEADER]
    try:
        for file in files:
            target = _local(out, file.node, file.path)
            target.parent.mkdir(parents=True, exist_ok=True)
            data = file.data
            with open(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
                handle.write(data)
            target.chmod(file.mode)
            digest = hashlib.sha256(data).hexdigest()
            rows.append(
                f"{file.node}\t{file.path}\t{file.mode:04o}\t{file.owner}\t{file.kind}\t{file.stage}\t{digest}\n"
            )
        (out / INDEX).write_text("".join(rows), encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{out}: cannot write: {exc.strerror}") from None
