"""Every certificate of a generated store, checked by openssl (the independent verifier) and by parsing."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID

from khatui.pki.authority import new_authority
from khatui.pki.ca_names import CAName
from khatui.pki.catalog import Catalog, LeafKind, Profile, build_catalog
from khatui.pki.issue import issue_leaf
from khatui.pki.keys import generate_key, load_store_key, public_key_der
from khatui.spec.validate import validate_file
from tests.pki.conftest import openssl

SERVER, CLIENT = ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH
EXPECTED_EKU = {Profile.SERVER: [SERVER], Profile.CLIENT: [CLIENT], Profile.PEER: [SERVER, CLIENT]}
OPENSSL_EKU = {Profile.SERVER: "TLS Web Server Authentication", Profile.CLIENT: "TLS Web Client Authentication"}


def catalog_of(spec: Path) -> Catalog:
    report = validate_file(str(spec))
    assert report.cluster is not None
    return build_catalog(report.cluster)


def openssl_name(value: str) -> str:
    """How `openssl x509 -ext subjectAltName` prints a SAN (IPv6 fully expanded, no zero compression)."""
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return f"DNS:{value}"
    if address.version == 6:
        return "IP Address:" + ":".join(str(int(part, 16)) for part in address.exploded.split(":"))
    return f"IP Address:{value}"


def cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_every_leaf_verifies_against_its_ca_with_openssl(stacked_store: tuple[Path, Path]) -> None:
    spec, store = stacked_store
    catalog = catalog_of(spec)
    assert len(catalog.leaves) == 18
    for leaf in catalog.leaves:
        ca_file = store / "ca" / f"{leaf.issuer.value}.crt"
        leaf_file = store / f"{leaf.stem}.crt"
        purpose = "sslclient" if leaf.profile is Profile.CLIENT else "sslserver"
        result = openssl("verify", "-CAfile", ca_file, "-purpose", purpose, leaf_file)
        assert result.stdout.strip() == f"{leaf_file}: OK", result.stderr
        other_ca = store / "ca" / ("kubernetes.crt" if leaf.issuer is not CAName.KUBERNETES else "etcd.crt")
        assert openssl("verify", "-CAfile", other_ca, leaf_file, check=False).returncode != 0


def test_openssl_sees_the_usages_sans_and_validity(stacked_store: tuple[Path, Path]) -> None:
    spec, store = stacked_store
    for leaf in catalog_of(spec).leaves:
        path = store / f"{leaf.stem}.crt"
        text = openssl(
            "x509", "-in", path, "-noout", "-ext", "keyUsage,extendedKeyUsage,subjectAltName,basicConstraints"
        ).stdout
        assert "Key Usage: critical\n    Digital Signature\n" in text  # ECDSA: no key encipherment
        assert "CA:FALSE" in text
        if leaf.profile is Profile.PEER:
            assert "TLS Web Server Authentication, TLS Web Client Authentication" in text
        else:
            assert OPENSSL_EKU[leaf.profile] in text and "Authentication," not in text
        for san in leaf.sans:
            assert openssl_name(san.value) in text
        if not leaf.sans:
            assert "Subject Alternative Name" not in text
        assert openssl("x509", "-in", path, "-noout", "-checkend", str(4 * 365 * 86400)).returncode == 0
        assert openssl("x509", "-in", path, "-noout", "-checkend", str(6 * 365 * 86400), check=False).returncode == 1


def test_cas_are_self_signed_cas_that_openssl_accepts(stacked_store: tuple[Path, Path]) -> None:
    _spec, store = stacked_store
    for name in ("etcd", "kubernetes", "front-proxy"):
        path = store / "ca" / f"{name}.crt"
        assert openssl("verify", "-CAfile", path, path).returncode == 0
        text = openssl("x509", "-in", path, "-noout", "-ext", "basicConstraints,keyUsage").stdout
        assert "CA:TRUE" in text and "Certificate Sign" in text
        ca = cert(path)
        assert ca.not_valid_after_utc - ca.not_valid_before_utc >= timedelta(hours=87600)


def test_parsed_extensions_match_the_catalog(stacked_store: tuple[Path, Path]) -> None:
    spec, store = stacked_store
    for leaf in catalog_of(spec).leaves:
        leaf_cert = cert(store / f"{leaf.stem}.crt")
        ca = cert(store / "ca" / f"{leaf.issuer.value}.crt")
        leaf_cert.verify_directly_issued_by(ca)
        ext = leaf_cert.extensions
        assert ext.get_extension_for_class(x509.KeyUsage).critical
        usage = ext.get_extension_for_class(x509.KeyUsage).value
        assert usage.digital_signature and not usage.key_encipherment and not usage.key_cert_sign
        assert list(ext.get_extension_for_class(x509.ExtendedKeyUsage).value) == EXPECTED_EKU[leaf.profile]
        ski = ext.get_extension_for_class(x509.SubjectKeyIdentifier).value
        assert ski == x509.SubjectKeyIdentifier.from_public_key(leaf_cert.public_key())
        aki = ext.get_extension_for_class(x509.AuthorityKeyIdentifier).value
        ca_ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        assert aki.key_identifier == ca_ski.digest
        if leaf.sans:
            names = ext.get_extension_for_class(x509.SubjectAlternativeName).value
            found = [*names.get_values_for_type(x509.DNSName), *map(str, names.get_values_for_type(x509.IPAddress))]
            assert sorted(found) == sorted(san.value for san in leaf.sans)
        lifetime = leaf_cert.not_valid_after_utc - leaf_cert.not_valid_before_utc
        assert timedelta(hours=43800) <= lifetime <= timedelta(hours=43800, minutes=6)
        key = load_store_key((store / f"{leaf.stem}.key").read_bytes(), "key")
        assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"
        assert public_key_der(key) == public_key_der(leaf_cert.public_key())  # type: ignore[arg-type]


def test_service_account_pair_matches(stacked_store: tuple[Path, Path]) -> None:
    _spec, store = stacked_store
    derived = openssl("pkey", "-in", store / "ca" / "sa.key", "-pubout").stdout
    assert derived == (store / "ca" / "sa.pub").read_text()


def test_rsa_leaf_gets_key_encipherment_and_verifies(tmp_path: Path, stacked_store: tuple[Path, Path]) -> None:
    spec, _store = stacked_store
    catalog = catalog_of(spec)
    now = datetime.now(UTC)
    ca = new_authority(catalog.authority(CAName.KUBERNETES), generate_key("ecdsa-p384"), 100, now)
    leaf = next(leaf for leaf in catalog.leaves if leaf.kind is LeafKind.APISERVER)
    key = generate_key("rsa-2048")
    issued = issue_leaf(leaf, key, ca, 10_000, now)
    assert isinstance(key, rsa.RSAPrivateKey)
    usage = issued.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.key_encipherment
    assert issued.not_valid_after_utc == ca.cert.not_valid_after_utc  # a leaf never outlives its CA
    (tmp_path / "ca.crt").write_bytes(ca.cert_pem)
    (tmp_path / "leaf.crt").write_bytes(issued.public_bytes(Encoding.PEM))
    assert openssl("verify", "-CAfile", tmp_path / "ca.crt", tmp_path / "leaf.crt").returncode == 0
    assert (
        "Digital Signature, Key Encipherment"
        in openssl("x509", "-in", tmp_path / "leaf.crt", "-noout", "-ext", "keyUsage").stdout
    )


def test_issuing_with_the_wrong_ca_is_a_bug(stacked_store: tuple[Path, Path]) -> None:
    catalog = catalog_of(stacked_store[0])
    now = datetime.now(UTC)
    ca = new_authority(catalog.authority(CAName.FRONT_PROXY), generate_key("ecdsa-p256"), 100, now)
    leaf = next(leaf for leaf in catalog.leaves if leaf.issuer is CAName.ETCD)
    with pytest.raises(ValueError, match="etcd CA"):
        issue_leaf(leaf, generate_key("ecdsa-p256"), ca, 100, now)
