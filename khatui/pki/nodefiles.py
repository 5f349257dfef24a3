"""The store's certificates and keys as files for the nodes (the renderers' `PKISource`).

Certificates go out 0644 and keys 0600, at the paths `khatui.nodepaths` names, and the preview gets a
one-line summary per certificate (subject, SANs, expiry) so it never needs key material.
"""

from __future__ import annotations

from datetime import datetime

from khatui.errors import KhatuiError
from khatui.pki.catalog import Catalog
from khatui.pki.inspect import load_certificate, subject_alternative_names
from khatui.pki.store import Store
from khatui.render.files import FileKind, RenderedFile
from khatui.spec.cluster import Cluster
from khatui.spec.nodes import Node


class StorePKI:
    """Reads the node files of a complete store; `summaries` maps (node, on-node cert path) to one line."""

    def __init__(self, catalog: Catalog, store: Store, now: datetime) -> None:
        self.catalog = catalog
        self.store = store
        self.now = now
        self.summaries: dict[tuple[str, str], str] = {}

    def files_for(self, cluster: Cluster, node: Node) -> list[RenderedFile]:
        files = []
        for placement in self.catalog.for_node(node.name):
            data = self.store.read(placement.file)
            if data is None:
                raise KhatuiError(f"PKI store {self.store.root} lacks {placement.file}; run `khatui certs generate`")
            kind = FileKind.KEY if placement.secret else FileKind.CERTIFICATE
            mode = 0o600 if placement.secret else 0o644
            files.append(RenderedFile(node.name, str(placement.dest), data, kind, "pki", mode))
            if not placement.secret and placement.file.endswith(".crt"):
                cert = load_certificate(data, placement.file)
                sans = ", ".join(subject_alternative_names(cert)) or "no SANs"
                days = (cert.not_valid_after_utc - self.now).days
                self.summaries[node.name, str(placement.dest)] = (
                    f"certificate {cert.subject.rfc4514_string()} [{sans}] expires {cert.not_valid_after_utc:%Y-%m-%d} ({days} days)"
                )
        return files
