"""Imported CAs: made here with the openssl binary, accepted only when they can really sign.

Every refusal must name the offending file, exit with code 2, and leave the store unwritten.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

from khatui.pki.keys import load_private_key
from tests.pki.conftest import CLI, openssl, write_spec

CA_EXTENSIONS = ("-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")


def openssl_ca(folder: Path, name: str, *extensions: str, algorithm: str = "ec") -> tuple[Path, Path]:
    """A self-signed certificate and its unencrypted key, written by `openssl req -x509`."""
    cert, key = folder / f"{name}.crt", folder / f"{name}.key"
    options = ("-pkeyopt", "ec_paramgen_curve:P-256") if algorithm == "ec" else ("-pkeyopt", "rsa_keygen_bits:2048")
    openssl(
        "req", "-x509", "-newkey", algorithm, *options, "-nodes", "-keyout", key, "-out", cert,
        "-days", "365", "-subj", f"/CN={name}", *(extensions or CA_EXTENSIONS),
    )  # fmt: skip
    key.chmod(0o600)
    return cert, key


def import_spec(folder: Path, cert: Path, key: Path, passphrase_env: str | None = None) -> Path:
    source: dict[str, str] = {"mode": "import", "certFile": cert.name, "keyFile": key.name}
    if passphrase_env:
        source["keyPassphraseEnv"] = passphrase_env
    return write_spec(folder, ca={"etcd": source})


def assert_refused(result: object, path: Path, message: str, store: Path) -> None:
    assert result.code == 2, result  # type: ignore[attr-defined]
    assert str(path) in result.err and message in result.err, result.err  # type: ignore[attr-defined]
    assert "PRIVATE KEY" not in result.err + result.out  # type: ignore[attr-defined]
    assert not store.exists()


@pytest.mark.parametrize("fmt", ["pkcs8", "traditional"])
def test_encrypted_openssl_ca_signs_leaves_that_openssl_verifies(
    tmp_path: Path, cli: CLI, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    cert, plain = openssl_ca(tmp_path, "etcd-root")
    key = tmp_path / "etcd-root.enc.key"
    if fmt == "pkcs8":
        openssl("pkey", "-in", plain, "-aes256", "-passout", "pass:correct horse", "-out", key)
    else:
        openssl("ec", "-in", plain, "-aes128", "-passout", "pass:correct horse", "-out", key)
    key.chmod(0o600)
    assert b"ENCRYPTED" in key.read_bytes()
    spec = import_spec(tmp_path, cert, key, "ETCD_CA_PASS")
    store = tmp_path / "pki"
    monkeypatch.setenv("ETCD_CA_PASS", "correct horse")
    result = cli("certs", "generate", spec, "--dir", store)
    assert result.code == 0, result.err
    assert "imported from etcd-root.crt" in result.out
    assert (store / "ca" / "etcd.crt").read_bytes() == cert.read_bytes()
    for leaf in ("cp1/etcd-server", "cp2/etcd-peer", "cp3/etcd-healthcheck-client", "cp1/apiserver-etcd-client"):
        path = store / "nodes" / f"{leaf}.crt"
        assert openssl("verify", "-CAfile", cert, path).stdout.strip() == f"{path}: OK"
    kube_leaf = store / "nodes" / "cp1" / "apiserver.crt"
    assert openssl("verify", "-CAfile", cert, kube_leaf, check=False).returncode != 0  # other CAs generated
    stored_key = (store / "ca" / "etcd.key").stat()
    assert stored_key.st_mode & 0o777 == 0o600
    # Second run: the store's copy signs; the certificate file must still be the same CA.
    assert cli("certs", "generate", spec, "--dir", store).code == 0


def test_encrypted_key_without_passphrase_is_refused(tmp_path: Path, cli: CLI, monkeypatch: pytest.MonkeyPatch) -> None:
    cert, plain = openssl_ca(tmp_path, "ca")
    key = tmp_path / "enc.key"
    openssl("pkey", "-in", plain, "-aes256", "-passout", "pass:pw", "-out", key)
    key.chmod(0o600)
    store = tmp_path / "pki"
    result = cli("certs", "generate", import_spec(tmp_path, cert, key), "--dir", store)
    assert_refused(result, key, "encrypted and no passphrase was given", store)
    monkeypatch.delenv("MISSING_PASS", raising=False)
    result = cli("certs", "generate", import_spec(tmp_path, cert, key, "MISSING_PASS"), "--dir", store)
    assert_refused(result, key, "$MISSING_PASS, which is not set", store)
    monkeypatch.setenv("WRONG_PASS", "nope")
    result = cli("certs", "generate", import_spec(tmp_path, cert, key, "WRONG_PASS"), "--dir", store)
    assert_refused(result, key, "wrong passphrase", store)


def test_key_that_does_not_match_the_certificate_is_refused(tmp_path: Path, cli: CLI) -> None:
    cert, _ = openssl_ca(tmp_path, "one")
    _, other_key = openssl_ca(tmp_path, "two")
    store = tmp_path / "pki"
    result = cli("certs", "generate", import_spec(tmp_path, cert, other_key), "--dir", store)
    assert_refused(result, other_key, "does not match the CA certificate", store)


def test_non_ca_certificate_is_refused(tmp_path: Path, cli: CLI) -> None:
    cert, key = openssl_ca(tmp_path, "leafish", "-addext", "basicConstraints=critical,CA:FALSE")
    store = tmp_path / "pki"
    result = cli("certs", "generate", import_spec(tmp_path, cert, key), "--dir", store)
    assert_refused(result, cert, "not a CA certificate", store)


def test_ca_that_may_not_sign_certificates_is_refused(tmp_path: Path, cli: CLI) -> None:
    cert, key = openssl_ca(
        tmp_path,
        "nosign",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,digitalSignature",
    )
    store = tmp_path / "pki"
    result = cli("certs", "generate", import_spec(tmp_path, cert, key), "--dir", store)
    assert_refused(result, cert, "keyCertSign", store)


def test_expired_ca_is_refused(tmp_path: Path, cli: CLI) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "old")])
    past = datetime.now(UTC) - timedelta(days=400)
    expired = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(past).not_valid_after(past + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert, key_file = tmp_path / "old.crt", tmp_path / "old.key"
    cert.write_bytes(expired.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_file.chmod(0o600)
    assert openssl("x509", "-in", cert, "-noout", "-checkend", "0", check=False).returncode == 1
    store = tmp_path / "pki"
    result = cli("certs", "generate", import_spec(tmp_path, cert, key_file), "--dir", store)
    assert_refused(result, cert, "expired on", store)


def test_ed25519_key_is_refused(tmp_path: Path) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    with pytest.raises(Exception, match="ca.key: Ed25519 keys are not supported"):
        load_private_key(pem, "ca.key")


def test_garbage_and_missing_files_are_refused(tmp_path: Path, cli: CLI) -> None:
    cert, key = openssl_ca(tmp_path, "ca")
    store = tmp_path / "pki"
    cert.write_text("not a certificate\n")
    result = cli("certs", "generate", import_spec(tmp_path, cert, key), "--dir", store)
    assert_refused(result, cert, "not a PEM certificate", store)
    missing = tmp_path / "gone.crt"
    result = cli("certs", "generate", import_spec(tmp_path, missing, key), "--dir", store)
    assert result.code == 2 and "gone.crt" in result.err and not store.exists()


def test_unknown_algorithm_is_refused_naming_the_spec(tmp_path: Path, cli: CLI) -> None:
    spec = write_spec(tmp_path, keyAlgorithm="rsa-1024")
    store = tmp_path / "pki"
    result = cli("certs", "generate", spec, "--dir", store)
    assert result.code == 2 and str(spec) in result.err and "keyAlgorithm" in result.err
    assert not store.exists()


def test_changing_an_imported_ca_after_generation_is_a_rotation(tmp_path: Path, cli: CLI) -> None:
    cert, key = openssl_ca(tmp_path, "first")
    spec = import_spec(tmp_path, cert, key)
    store = tmp_path / "pki"
    assert cli("certs", "generate", spec, "--dir", store).code == 0
    before = (store / "ca" / "etcd.crt").read_bytes()
    new_cert, new_key = openssl_ca(tmp_path, "second")
    os.replace(new_cert, cert)
    os.replace(new_key, key)
    result = cli("certs", "generate", spec, "--dir", store)
    assert result.code == 2 and str(cert) in result.err and "plan-ca-rotation" in result.err
    assert (store / "ca" / "etcd.crt").read_bytes() == before
