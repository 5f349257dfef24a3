"""Carrying out a `Reconciliation`: new keys (in parallel), new or imported CAs, signed leaves, as PEM bytes.

Pure with respect to the disk: the result is a mapping of store-relative file names to bytes that
`Store.write` persists, so tests and callers can get a whole PKI from a spec without a filesystem
(`fresh_pki`). All keys a plan needs are generated in one batch before anything is signed, because
for RSA that batch is nearly all the time a run takes and it parallelises across cores.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from cryptography.hazmat.primitives import serialization

from khatui.pki.authority import Authority, new_authority, service_account_files
from khatui.pki.ca_names import CAName
from khatui.pki.catalog import SERVICE_ACCOUNT_STEM, Catalog
from khatui.pki.issue import issue_leaf
from khatui.pki.keys import generate_keys, private_key_pem
from khatui.pki.reconcile import Action, Reconciliation, decide
from khatui.pki.store import StoredPKI


def execute(plan: Reconciliation, now: datetime, workers: int | None = None) -> dict[str, bytes]:
    """Files to write for `plan`'s changes (nothing for kept items)."""
    catalog = plan.catalog
    keys = iter(generate_keys(catalog.key_algorithm, plan.keys_needed, workers))
    authorities: dict[CAName, Authority] = dict(plan.stored)
    files: dict[str, bytes] = {}
    changes = plan.changes
    for decision in changes:
        spec = decision.authority
        if spec is None:
            continue
        authority = plan.imported.get(spec.ca) or new_authority(spec, next(keys), catalog.ca_validity_hours, now)
        authorities[spec.ca] = authority
        files[f"{spec.stem}.crt"] = authority.cert_pem
        files[f"{spec.stem}.key"] = authority.key_pem
    for decision in changes:
        if decision.stem == SERVICE_ACCOUNT_STEM:
            files.update(service_account_files(next(keys), SERVICE_ACCOUNT_STEM))
        leaf = decision.leaf
        if leaf is None:
            continue
        key = next(keys)
        cert = issue_leaf(leaf, key, authorities[leaf.issuer], catalog.validity_hours, now)
        files[f"{leaf.stem}.crt"] = cert.public_bytes(serialization.Encoding.PEM)
        files[f"{leaf.stem}.key"] = private_key_pem(key)
    return files


def fresh_pki(
    catalog: Catalog, now: datetime | None = None, imported: Mapping[CAName, Authority] | None = None
) -> dict[str, bytes]:
    """A complete new PKI for `catalog`, in memory: store-relative file name -> PEM bytes."""
    plan = decide(catalog, StoredPKI({}), {}, imported or {})
    assert all(d.action is not Action.KEEP for d in plan.decisions)
    return execute(plan, now or datetime.now(UTC))
