"""Leaf certificates: a `LeafSpec`, a fresh key and an `Authority` in, a signed certificate out.

Pure and in memory. The extensions are what etcd, kube-apiserver and Go's crypto/x509 check:
keyUsage (critical) is digitalSignature, plus keyEncipherment for RSA keys only, since an ECDSA key
cannot encipher; extendedKeyUsage follows the cfssl profile; basicConstraints says CA:FALSE; SKI and
AKI let verifiers pick the right CA when several are trusted (as during a CA rotation). A leaf never
outlives its CA: its not-after is capped at the CA's.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from khatui.pki.authority import BACKDATE, Authority
from khatui.pki.catalog import SAN, LeafSpec, Profile
from khatui.pki.keys import PrivateKey, signature_hash

EXTENDED_USAGES: dict[Profile, tuple[x509.ObjectIdentifier, ...]] = {
    Profile.SERVER: (ExtendedKeyUsageOID.SERVER_AUTH,),
    Profile.CLIENT: (ExtendedKeyUsageOID.CLIENT_AUTH,),
    Profile.PEER: (ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH),
}
"""The guide's cfssl profiles, as extended key usages."""


def issue_leaf(leaf: LeafSpec, key: PrivateKey, ca: Authority, validity_hours: int, now: datetime) -> x509.Certificate:
    """Sign `leaf` for `key` with `ca`, valid `validity_hours` from `now` (at most until the CA expires)."""
    if ca.ca is not leaf.issuer:
        raise ValueError(f"{leaf.label} is signed by the {leaf.issuer} CA, not {ca.ca}")
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, leaf.common_name)])
    return sign(subject, leaf.profile, leaf.sans, key, ca, timedelta(hours=validity_hours), now)


def sign(
    subject: x509.Name,
    profile: Profile,
    sans: tuple[SAN, ...],
    key: PrivateKey,
    ca: Authority,
    validity: timedelta,
    now: datetime,
) -> x509.Certificate:
    """A leaf certificate of `subject` for `key`, signed by `ca`, valid `validity` from `now` (at most
    until the CA expires)."""
    not_after = min(now + validity, ca.cert.not_valid_after_utc)
    ca_ski = ca.subject_key_identifier
    aki = (
        x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski)
        if ca_ski is not None
        else x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key())
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage(key), critical=True)
        .add_extension(x509.ExtendedKeyUsage(list(EXTENDED_USAGES[profile])), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(aki, critical=False)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(general_names(sans)), critical=False)
    return builder.sign(ca.key, signature_hash(ca.key))


def key_usage(key: PrivateKey) -> x509.KeyUsage:
    """digitalSignature, plus keyEncipherment for RSA (TLS RSA key exchange); ECDSA keys only sign."""
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=isinstance(key, rsa.RSAPrivateKey),
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def general_names(sans: tuple[SAN, ...]) -> list[x509.GeneralName]:
    """SANs as x509 names: IP addresses as iPAddress entries, everything else as dNSName."""
    names: list[x509.GeneralName] = []
    for san in sans:
        if san.is_ip:
            names.append(x509.IPAddress(ipaddress.ip_address(san.value)))
        else:
            names.append(x509.DNSName(san.value))
    return names
