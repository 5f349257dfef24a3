"""Make a cluster's PKI store complete: the one routine `certs generate`, `plan` and `apply` share."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime

from khatui.pki.ca_files import resolve_imports
from khatui.pki.catalog import Catalog
from khatui.pki.issuing import execute
from khatui.pki.reconcile import Decision, decide, stored_authorities
from khatui.pki.store import Store


def ensure_store(
    catalog: Catalog, store: Store, base_dir: str, now: datetime, environ: Mapping[str, str] = os.environ
) -> tuple[bool, list[Decision], int]:
    """Issue what is missing or broken, keep the rest: (store was empty, changes made, kept count).

    Imported CAs are checked before anything is written; on bad input an `InputError` leaves the
    store untouched.
    """
    stored = store.load(catalog, with_keys=True)
    authorities = stored_authorities(catalog, stored, str(store.root), now)
    imported = resolve_imports(catalog, stored, base_dir, environ, now)
    plan = decide(catalog, stored, authorities, imported)
    store.write(execute(plan, now))
    return stored.empty, list(plan.changes), len(plan.decisions) - len(plan.changes)
