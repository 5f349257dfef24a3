"""Everything khatui wants on the nodes, computed locally before any SSH: spec, PKI, rendered files,
and the local files the plan uploads as they are (the package mirror's key)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from khatui.errors import InputError
from khatui.pki.catalog import build_catalog
from khatui.pki.ensure import ensure_store
from khatui.pki.nodefiles import StorePKI
from khatui.pki.store import Store
from khatui.render import render_cluster
from khatui.render.files import RenderedFile
from khatui.spec.cluster import Cluster
from khatui.spec.mirrorkey import read_key
from khatui.spec.problems import Problem, Severity
from khatui.spec.validate import resolve_local_path, validate_file
from khatui.spec.yamlio import read_spec_text


@dataclass
class Desired:
    """The desired state of every node, and where it came from."""

    cluster: Cluster
    spec_path: str
    spec_text: str
    spec_hash: str
    base_dir: str
    files: list[RenderedFile]
    cert_summaries: dict[tuple[str, str], str]
    """One line per certificate, keyed (node, on-node path): each node has its own leaves."""
    warnings: list[Problem] = field(default_factory=list)
    pki_note: str = ""
    mirror_key: bytes = b""
    """The package mirror's signing key (`spec.install.packages.mirror.key`), b"" without a mirror."""


def load_desired(spec_path: str, pki_dir: str | None = None) -> Desired:
    """Validate the spec, complete the PKI store, render every file. Invalid input -> `InputError`."""
    report = validate_file(spec_path)
    errors = [p for p in report.problems if p.severity is Severity.ERROR]
    if report.cluster is None or errors:
        listing = "\n".join(f"  {p}" for p in errors)
        raise InputError(f"{spec_path}: the spec has {len(errors)} error(s):\n{listing}")
    cluster = report.cluster
    base_dir = str(Path(spec_path).resolve().parent)
    catalog = build_catalog(cluster)
    store = Store.for_cluster(cluster.metadata.name, pki_dir)
    now = datetime.now(UTC)
    was_empty, changes, _ = ensure_store(catalog, store, base_dir, now)
    note = ""
    if changes:
        note = f"{'created' if was_empty else 'completed'} the PKI store {store.root} ({len(changes)} issued)"
    pki = StorePKI(catalog, store, now)
    files = render_cluster(cluster, pki)
    text = read_spec_text(spec_path)
    mirror = cluster.spec.install.packages.mirror
    key = read_key(str(resolve_local_path(mirror.key, base_dir))) if mirror else b""
    return Desired(
        cluster,
        spec_path,
        text,
        hashlib.sha256(text.encode()).hexdigest(),
        base_dir,
        files,
        pki.summaries,
        [p for p in report.problems if p.severity is Severity.WARNING],
        note,
        key,
    )
