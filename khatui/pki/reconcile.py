"""Deciding what to (re)issue: the catalog against what the store holds, one decision per item, with a reason.

Pure: no keys are generated and nothing is signed here, so a dry run shows exactly the decisions a
real run carries out (`issuing.execute` takes a `Reconciliation` and nothing else). The rules, in order:

- a CA the store holds is kept (replacing a CA is a rotation, never a side effect); a missing one is
  generated or imported;
- a leaf is issued when missing, and reissued when its key is missing or does not match, when the
  store's CA did not sign it (e.g. a new CA), or when a renewal selected it;
- anything else is kept, even when expiring or lacking a SAN: `generate` is idempotent and only
  reports those; `renew` is how an operator asks for new certificates.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from cryptography import x509

from khatui.errors import KhatuiError
from khatui.pki.authority import Authority, adopt_authority
from khatui.pki.ca_names import CAName
from khatui.pki.catalog import SERVICE_ACCOUNT_STEM, AuthoritySpec, Catalog, LeafSpec
from khatui.pki.inspect import issued_by
from khatui.pki.keys import public_key_der
from khatui.pki.store import StoredPair, StoredPKI


class Action(StrEnum):
    """What happens to one item."""

    KEEP = "keep"
    ISSUE = "issue"
    REISSUE = "reissue"


@dataclass(frozen=True)
class Decision:
    """One item of the PKI and what happens to it. `current` is the certificate being replaced, if any."""

    label: str
    stem: str
    action: Action
    reason: str
    leaf: LeafSpec | None = None
    authority: AuthoritySpec | None = None
    current: x509.Certificate | None = None


@dataclass(frozen=True)
class Reconciliation:
    """Every decision, plus the CAs that already exist (stored) or were imported, ready to sign."""

    catalog: Catalog
    decisions: list[Decision]
    stored: Mapping[CAName, Authority] = field(default_factory=dict)
    imported: Mapping[CAName, Authority] = field(default_factory=dict)

    @property
    def changes(self) -> list[Decision]:
        """Decisions that write something."""
        return [d for d in self.decisions if d.action is not Action.KEEP]

    @property
    def keys_needed(self) -> int:
        """New private keys the plan needs (imported CAs bring their own)."""
        return sum(1 for d in self.changes if not (d.authority is not None and d.authority.ca in self.imported))


def stored_authorities(catalog: Catalog, stored: StoredPKI, root: str, now: datetime) -> dict[CAName, Authority]:
    """The CAs the store holds, checked like an import; a half-present CA is a damaged store."""
    found: dict[CAName, Authority] = {}
    for spec in catalog.authorities:
        pair = stored.get(spec.stem)
        if pair.cert is None and not pair.key_present:
            continue
        if pair.cert is None or pair.key is None:
            missing = f"{spec.stem}.crt" if pair.cert is None else f"{spec.stem}.key"
            raise KhatuiError(
                f"{root}/{missing} is missing but the other half of the {spec.ca} CA is there; restore it "
                "from a backup (generating a new CA would invalidate every certificate it signed)"
            )
        found[spec.ca] = adopt_authority(
            spec.ca, pair.cert, pair.key, f"{root}/{spec.stem}.crt", f"{root}/{spec.stem}.key", now
        )
    return found


def decide(
    catalog: Catalog,
    stored: StoredPKI,
    authorities: Mapping[CAName, Authority],
    imported: Mapping[CAName, Authority],
    renew: Collection[str] = (),
) -> Reconciliation:
    """The plan for `catalog` given the store's content; `renew` holds the stems of leaves to reissue."""
    decisions: list[Decision] = []
    for spec in catalog.authorities:
        label = f"ca/{spec.ca.value}"
        if spec.ca in authorities:
            decisions.append(Decision(label, spec.stem, Action.KEEP, "in the store", authority=spec))
        elif spec.ca in imported:
            decisions.append(
                Decision(label, spec.stem, Action.ISSUE, f"imported from {spec.source.cert_file}", authority=spec)
            )
        else:
            decisions.append(Decision(label, spec.stem, Action.ISSUE, "new CA", authority=spec))
    sa = stored.get(SERVICE_ACCOUNT_STEM)
    if sa.key_present:
        decisions.append(Decision("service-account", SERVICE_ACCOUNT_STEM, Action.KEEP, "in the store"))
    else:
        decisions.append(Decision("service-account", SERVICE_ACCOUNT_STEM, Action.ISSUE, "new key pair"))
    for leaf in catalog.leaves:
        ca = authorities.get(leaf.issuer)
        decisions.append(_decide_leaf(leaf, stored.get(leaf.stem), ca, leaf.stem in renew))
    return Reconciliation(catalog, decisions, dict(authorities), dict(imported))


def _decide_leaf(leaf: LeafSpec, pair: StoredPair, ca: Authority | None, renew: bool) -> Decision:
    def decision(action: Action, reason: str) -> Decision:
        return Decision(leaf.label, leaf.stem, action, reason, leaf=leaf, current=pair.cert)

    if pair.cert is None:
        return decision(Action.ISSUE, "missing")
    if ca is None:
        return decision(Action.REISSUE, f"its {leaf.issuer} CA is new")
    if not pair.key_present:
        return decision(Action.REISSUE, "its key is missing")
    if pair.key is not None and public_key_der(pair.key) != public_key_der(pair.cert.public_key()):  # type: ignore[arg-type]
        return decision(Action.REISSUE, "its key does not match the certificate")
    if not issued_by(pair.cert, ca.cert):
        return decision(Action.REISSUE, f"not signed by the store's {leaf.issuer} CA")
    if renew:
        return decision(Action.REISSUE, "renewal requested")
    return decision(Action.KEEP, "in the store")
