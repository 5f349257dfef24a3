"""The state of a whole store against the catalog: one summary per CA, key pair and leaf certificate.

Shared by `certs list`, the end of `certs generate` and anything else that reports on a PKI, so every
view flags the same things: missing files, expiry within the window, SANs a certificate lacks, leaves
not signed by the store's CA, and store files readable by anyone else.
"""

from __future__ import annotations

from datetime import datetime

from khatui.pki.catalog import SERVICE_ACCOUNT_STEM, Catalog
from khatui.pki.inspect import EXPIRY_WINDOW_DAYS, CertSummary, summarize
from khatui.pki.keys import describe, public_key_fingerprint
from khatui.pki.store import StoredPKI


def summaries(
    catalog: Catalog, stored: StoredPKI, now: datetime, window_days: int = EXPIRY_WINDOW_DAYS
) -> list[CertSummary]:
    """Summaries in catalog order: the CAs, the service-account key pair, then every leaf."""
    result: list[CertSummary] = []
    for spec in catalog.authorities:
        pair = stored.get(spec.stem)
        summary = summarize(
            pair.cert, label=f"ca/{spec.ca.value}", node="-", file=f"{spec.stem}.crt", now=now, window_days=window_days
        )
        if pair.cert is not None and not pair.key_present:
            summary.warnings.append(f"ca/{spec.ca.value} has no key in the store ({spec.stem}.key)")
        result.append(summary)
    result.append(_service_account(stored))
    for leaf in catalog.leaves:
        pair = stored.get(leaf.stem)
        ca = stored.get(f"ca/{leaf.issuer.value}").cert
        summary = summarize(
            pair.cert,
            label=leaf.label,
            node=leaf.node,
            file=f"{leaf.stem}.crt",
            now=now,
            required=leaf.sans,
            ca=ca,
            window_days=window_days,
        )
        if pair.cert is not None and not pair.key_present:
            summary.warnings.append(f"{leaf.label} has no key in the store ({leaf.stem}.key)")
        result.append(summary)
    return result


def _service_account(stored: StoredPKI) -> CertSummary:
    pair = stored.get(SERVICE_ACCOUNT_STEM)
    file = f"{SERVICE_ACCOUNT_STEM}.key"
    if not pair.key_present:
        return CertSummary("service-account", "-", file, "missing", warnings=["service-account key pair is missing"])
    public = pair.key.public_key() if pair.key is not None else pair.public_key
    if public is None:
        return CertSummary("service-account", "-", file, "stale", warnings=[f"{SERVICE_ACCOUNT_STEM}.pub is missing"])
    return CertSummary(
        "service-account",
        "-",
        file,
        "ok",
        subject="(key pair, no certificate)",
        fingerprint=public_key_fingerprint(public),
        key_algorithm=describe(public),
    )


def problems(found: list[CertSummary]) -> list[str]:
    """Every warning of every summary, in order."""
    return [warning for summary in found for warning in summary.warnings]
