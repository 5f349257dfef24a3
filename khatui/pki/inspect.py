"""Reading certificates back: parse them, summarise them, and check they cover what the catalog requires.

A summary is what the certificate console, dry runs and the plan show instead of key material:
subject, SANs, issuer, validity, the SHA-256 fingerprint. Coverage is checked against the catalog's
SANs, each of which says why it is needed, so a warning reads "cp1/apiserver lacks the VIP
(10.20.0.100)" whether khatui or kubeadm issued the certificate.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes

from khatui.errors import InputError
from khatui.pki.catalog import SAN
from khatui.pki.keys import describe

EXPIRY_WINDOW_DAYS = 30
"""Certificates expiring within this many days are flagged (the console's default)."""


@dataclass(frozen=True)
class CertSummary:
    """What can be shown about one certificate (or the service-account key): never key material."""

    label: str
    node: str
    file: str
    status: str
    """ok, missing, expiring, expired, stale (lacks a required SAN or signed by another CA)."""
    subject: str = ""
    issuer: str = ""
    sans: list[str] = field(default_factory=list)
    not_after: str = ""
    days_left: int | None = None
    fingerprint: str = ""
    key_algorithm: str = ""
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        """Plain data for JSON/YAML output."""
        return asdict(self)


def load_certificate(data: bytes, source: str) -> x509.Certificate:
    """The first certificate in PEM `data` read from `source`; `InputError` naming `source` otherwise."""
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError:
        raise InputError(f"{source}: not a PEM certificate") from None


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 fingerprint, colon-separated upper-case hex (as `openssl x509 -fingerprint -sha256`)."""
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()


def subject_alternative_names(cert: x509.Certificate) -> list[str]:
    """DNS names and IP addresses of `cert` (IPs in canonical form), in certificate order."""
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    names: list[str] = [name.lower() for name in ext.get_values_for_type(x509.DNSName)]
    names += [str(ip) for ip in ext.get_values_for_type(x509.IPAddress)]
    return names


def missing_sans(cert: x509.Certificate, required: Sequence[SAN]) -> list[SAN]:
    """The required SANs `cert` does not carry (DNS names compared case-insensitively)."""
    present = set(subject_alternative_names(cert))
    return [san for san in required if _canonical(san.value) not in present]


def coverage_warnings(label: str, cert: x509.Certificate, required: Sequence[SAN]) -> list[str]:
    """One line per missing SAN: '<label> lacks the VIP (10.20.0.100)'."""
    return [f"{label} lacks {san.why} ({san.value})" for san in missing_sans(cert, required)]


def issued_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    """True if `ca`'s key signed `cert` (and `cert` names `ca` as its issuer)."""
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def days_left(cert: x509.Certificate, now: datetime) -> int:
    """Whole days until `cert` expires (negative once expired)."""
    return math.floor((cert.not_valid_after_utc - now).total_seconds() / 86400)


def summarize(
    cert: x509.Certificate | None,
    *,
    label: str,
    node: str,
    file: str,
    now: datetime,
    required: Sequence[SAN] = (),
    ca: x509.Certificate | None = None,
    window_days: int = EXPIRY_WINDOW_DAYS,
) -> CertSummary:
    """Summary of `cert` (None: missing) with its status and warnings: expiry, coverage, issuer."""
    if cert is None:
        return CertSummary(label, node, file, "missing", warnings=[f"{label} is missing"])
    left = days_left(cert, now)
    warnings = coverage_warnings(label, cert, required)
    if ca is not None and not issued_by(cert, ca):
        warnings.append(f"{label} is not signed by the store's {ca.subject.rfc4514_string()} CA")
    if left < 0:
        status = "expired"
        warnings.insert(0, f"{label} expired on {cert.not_valid_after_utc:%Y-%m-%d}")
    elif left < window_days:
        status = "expiring"
        warnings.insert(0, f"{label} expires in {left} days")
    else:
        status = "stale" if warnings else "ok"
    return CertSummary(
        label,
        node,
        file,
        status,
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        sans=subject_alternative_names(cert),
        not_after=f"{cert.not_valid_after_utc:%Y-%m-%d %H:%M}Z",
        days_left=left,
        fingerprint=fingerprint(cert),
        key_algorithm=describe(cert.public_key()),  # type: ignore[arg-type]
        warnings=warnings,
    )


def _canonical(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return value.lower()
