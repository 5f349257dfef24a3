"""Keys: every spec algorithm, parallel RSA generation, and PEM loading that never echoes a key."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from khatui.errors import InputError
from khatui.pki.keys import (
    describe,
    generate_key,
    generate_keys,
    load_private_key,
    load_store_key,
    parse_algorithm,
    passphrase_from_env,
    private_key_pem,
    public_key_der,
    public_key_fingerprint,
)
from khatui.spec.components import KeyAlgorithm
from tests.pki.conftest import openssl


@pytest.mark.parametrize("algorithm", ["ecdsa-p256", "ecdsa-p384", "rsa-2048"])
def test_generated_key_has_the_spec_algorithm(algorithm: str) -> None:
    key = generate_key(algorithm)
    assert describe(key) == algorithm
    pem = private_key_pem(key)
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS#8, unencrypted: kubeadm and etcd read it
    assert public_key_der(load_store_key(pem, "k")) == public_key_der(key)


def test_rsa_keys_are_generated_on_threads_and_all_differ() -> None:
    keys = generate_keys(KeyAlgorithm.RSA_2048, 3, workers=2)
    assert all(isinstance(k, rsa.RSAPrivateKey) and k.key_size == 2048 for k in keys)
    assert len({public_key_fingerprint(k) for k in keys}) == 3
    ecdsa = generate_keys("ecdsa-p256", 20)
    assert (
        all(isinstance(k, ec.EllipticCurvePrivateKey) for k in ecdsa) and len({public_key_der(k) for k in ecdsa}) == 20
    )
    assert generate_keys("ecdsa-p256", 0) == []


def test_unknown_algorithm_lists_the_accepted_ones() -> None:
    with pytest.raises(InputError, match="unknown key algorithm 'dsa-1024'; use one of: rsa-2048, .*ecdsa-p384"):
        parse_algorithm("dsa-1024")


def test_garbage_is_refused_without_quoting_it() -> None:
    secret = b"-----BEGIN PRIVATE KEY-----\nc2VjcmV0IHNlY3JldCBzZWNyZXQ=\n-----END PRIVATE KEY-----\n"
    with pytest.raises(InputError) as caught:
        load_private_key(secret, "/x/ca.key")
    assert caught.value.message == "/x/ca.key: not a PEM private key"


def test_weak_rsa_and_unsupported_curves_are_refused(tmp_path: Path) -> None:
    weak = tmp_path / "weak.key"
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024", "-out", weak)
    with pytest.raises(InputError, match="weak.key: RSA key of 1024 bits"):
        load_private_key(weak.read_bytes(), str(weak))
    k1 = tmp_path / "k1.key"
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:secp256k1", "-out", k1)
    with pytest.raises(InputError, match="k1.key: ECDSA curve secp256k1 is not supported"):
        load_private_key(k1.read_bytes(), str(k1))


def test_passphrase_comes_from_the_named_variable_only() -> None:
    assert passphrase_from_env(None, "ca.key", {}) is None
    assert passphrase_from_env("PASS", "ca.key", {"PASS": "s3cret"}) == b"s3cret"
    with pytest.raises(InputError, match=r"ca.key: keyPassphraseEnv names \$PASS, which is not set"):
        passphrase_from_env("PASS", "ca.key", {})


def test_a_passphrase_for_a_plain_key_is_harmless() -> None:
    key = generate_key("ecdsa-p256")
    loaded = load_private_key(private_key_pem(key), "plain.key", b"unused")
    assert public_key_der(loaded) == public_key_der(key)
