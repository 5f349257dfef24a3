"""Certificate authorities: create one, or accept an imported one only after checking it can sign.

An `Authority` is only ever built through `new_authority` or `adopt_authority`, which hold its
invariants (the key matches the certificate, the certificate is a CA, it is within its validity), so
`issue` can sign with any `Authority` without re-checking. Checks raise `InputError` naming the file
the operator gave, so a bad import stops the run before anything reaches the store.

The service-account key pair is not a CA but lives alongside them: a bare key whose public half
(`sa.pub`) every apiserver uses to verify the tokens any of them signed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from khatui.errors import InputError
from khatui.pki.ca_names import CAName
from khatui.pki.catalog import AuthoritySpec
from khatui.pki.keys import PrivateKey, private_key_pem, public_key_der, public_key_pem, signature_hash

BACKDATE = timedelta(minutes=5)
"""Certificates start slightly in the past so nodes whose clocks lag a little accept them at once."""


@dataclass(frozen=True)
class Authority:
    """A CA able to sign. Invariants: `key` matches `cert`; `cert` is a CA within its validity."""

    ca: CAName
    cert: x509.Certificate
    key: PrivateKey

    @property
    def cert_pem(self) -> bytes:
        """The CA certificate, PEM."""
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        """The CA key, PEM (for the 0600 store files only)."""
        return private_key_pem(self.key)

    @property
    def subject_key_identifier(self) -> x509.SubjectKeyIdentifier | None:
        """The CA's SKI extension, when it has one (imported CAs may not)."""
        try:
            return self.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        except x509.ExtensionNotFound:
            return None


def new_authority(spec: AuthoritySpec, key: PrivateKey, validity_hours: int, now: datetime) -> Authority:
    """A new self-signed CA for `spec`, valid `validity_hours` from `now`, that signs leaves only."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, spec.common_name)])
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + timedelta(hours=validity_hours))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .sign(key, signature_hash(key))
    )
    return Authority(spec.ca, cert, key)


def adopt_authority(
    ca: CAName, cert: x509.Certificate, key: PrivateKey, cert_source: str, key_source: str, now: datetime
) -> Authority:
    """An existing CA (imported, or read back from the store) once it passes every check.

    Refused with `InputError`: a certificate that is not a CA or may not sign certificates, one
    that is expired or not yet valid, and a key that does not belong to the certificate.
    """
    check_is_ca(cert, cert_source)
    check_validity(cert, cert_source, now)
    if public_key_der(key) != public_key_der(cert.public_key()):  # type: ignore[arg-type]
        raise InputError(f"{key_source}: this key does not match the CA certificate {cert_source}")
    return Authority(ca, cert, key)


def check_is_ca(cert: x509.Certificate, source: str) -> None:
    """`InputError` unless `cert` says CA:TRUE and, if it has key usages, may sign certificates."""
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        constraints = None
    if constraints is None or not constraints.ca:
        raise InputError(f"{source}: not a CA certificate (basicConstraints CA:TRUE is missing)")
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not usage.key_cert_sign:
        raise InputError(f"{source}: the CA certificate's key usage does not allow signing certificates (keyCertSign)")


def check_validity(cert: x509.Certificate, source: str, now: datetime) -> None:
    """`InputError` if `cert` is expired or not yet valid at `now`."""
    if cert.not_valid_after_utc <= now:
        raise InputError(f"{source}: the CA certificate expired on {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC")
    if cert.not_valid_before_utc > now:
        raise InputError(
            f"{source}: the CA certificate is not valid before {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC"
        )


def service_account_files(key: PrivateKey, stem: str) -> dict[str, bytes]:
    """The service-account key pair as store files: `<stem>.key` (private) and `<stem>.pub`."""
    return {f"{stem}.key": private_key_pem(key), f"{stem}.pub": public_key_pem(key)}
