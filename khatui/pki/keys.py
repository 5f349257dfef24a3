"""Private keys: generate them per `KeyAlgorithm`, read PEM (encrypted too), write PEM.

Every key khatui makes or parses goes through here, so the rule "a key never reaches a log, an
error message or a preview" has one place to hold: errors name the file, never its content.

RSA key generation dominates the cost of a PKI (tens of milliseconds a key, against a fraction of
a millisecond for ECDSA), and OpenSSL releases the GIL while it searches for primes, so
`generate_keys` spreads RSA keys over threads, one per core, after taking the keys `prefetch` made
while the spec was being loaded. Threads rather than processes: no fork of a process that holds
OpenSSL state, and nothing to pickle.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from khatui.errors import InputError
from khatui.pki import prefetch
from khatui.spec.components import KeyAlgorithm

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
"""The key types khatui issues with and accepts for imported CAs (what etcd and Kubernetes read)."""
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey
"""Public half of a `PrivateKey`."""

_CURVES: dict[KeyAlgorithm, type[ec.EllipticCurve]] = {
    KeyAlgorithm.ECDSA_P256: ec.SECP256R1,
    KeyAlgorithm.ECDSA_P384: ec.SECP384R1,
}
_RSA_BITS = {KeyAlgorithm.RSA_2048: 2048, KeyAlgorithm.RSA_3072: 3072, KeyAlgorithm.RSA_4096: 4096}
_ACCEPTED_CURVES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
MIN_RSA_BITS = 2048
"""Smallest RSA key accepted in an imported CA (Kubernetes and etcd refuse nothing smaller in practice,
but anything below is breakable)."""


def generate_key(algorithm: KeyAlgorithm | str) -> PrivateKey:
    """A new private key of `algorithm` (an unknown name raises `InputError`)."""
    algorithm = parse_algorithm(algorithm)
    if algorithm in _RSA_BITS:
        return rsa.generate_private_key(public_exponent=65537, key_size=_RSA_BITS[algorithm])
    return ec.generate_private_key(_CURVES[algorithm]())


def generate_keys(algorithm: KeyAlgorithm | str, count: int, workers: int | None = None) -> list[PrivateKey]:
    """`count` new keys; RSA keys are generated on `workers` threads (default: one per core), after
    taking those `prefetch` made during start-up."""
    algorithm = parse_algorithm(algorithm)
    keys: list[PrivateKey] = list(prefetch.take(algorithm.value, count)) if algorithm in _RSA_BITS else []
    missing = count - len(keys)
    threads = min(missing, workers or os.cpu_count() or 1)
    if algorithm not in _RSA_BITS or threads <= 1:
        return keys + [generate_key(algorithm) for _ in range(missing)]
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="khatui-keygen") as pool:
        return keys + list(pool.map(generate_key, [algorithm] * missing))


def parse_algorithm(name: KeyAlgorithm | str) -> KeyAlgorithm:
    """`name` as a `KeyAlgorithm`; `InputError` listing the accepted names otherwise."""
    try:
        return KeyAlgorithm(name)
    except ValueError:
        accepted = ", ".join(a.value for a in KeyAlgorithm)
        raise InputError(f"unknown key algorithm {name!r}; use one of: {accepted}") from None


def private_key_pem(key: PrivateKey) -> bytes:
    """Unencrypted PKCS#8 PEM (kubeadm, etcd and the apiserver all read it); goes to 0600 files only."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def public_key_pem(key: PrivateKey | PublicKey) -> bytes:
    """SubjectPublicKeyInfo PEM of the public half (`sa.pub`)."""
    public = key.public_key() if isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)) else key
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def public_key_der(key: PrivateKey | PublicKey) -> bytes:
    """DER SubjectPublicKeyInfo: the canonical form two public keys are compared by."""
    public = key.public_key() if isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)) else key
    return public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def public_key_fingerprint(key: PrivateKey | PublicKey) -> str:
    """SHA-256 of the public key (colon-separated hex): how a key is named in output, never by content."""
    digest = hashes.Hash(hashes.SHA256())
    digest.update(public_key_der(key))
    return digest.finalize().hex(":").upper()


def describe(key: PrivateKey | PublicKey) -> str:
    """'rsa-2048', 'ecdsa-p256', ...: the algorithm of a key, in the spec's words."""
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        return f"rsa-{key.key_size}"
    return "ecdsa-" + _ACCEPTED_CURVES.get(key.curve.name, key.curve.name).lower().replace("-", "")


def signature_hash(key: PrivateKey) -> hashes.SHA256 | hashes.SHA384 | hashes.SHA512:
    """Hash a CA key signs with: matched to the curve's strength for ECDSA, SHA-256 for RSA."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        if key.curve.key_size >= 521:
            return hashes.SHA512()
        if key.curve.key_size >= 384:
            return hashes.SHA384()
    return hashes.SHA256()


def load_private_key(data: bytes, source: str, passphrase: bytes | None = None) -> PrivateKey:
    """Parse a PEM private key (PKCS#1, SEC1 or PKCS#8, encrypted or not) read from `source`.

    Raises `InputError` naming `source` (never quoting it) when the data is not a key, is encrypted
    and no passphrase was given, the passphrase is wrong, or the key type is not RSA/ECDSA.
    """
    try:
        key = serialization.load_pem_private_key(data, passphrase)
    except TypeError as exc:
        if "not encrypted" in str(exc):  # a passphrase was configured for a plain key: harmless
            return load_private_key(data, source, None)
        raise InputError(
            f"{source}: the private key is encrypted and no passphrase was given "
            "(set keyPassphraseEnv in the spec and export that variable)"
        ) from None
    except UnsupportedAlgorithm:
        raise InputError(f"{source}: the private key uses an unsupported algorithm") from None
    except ValueError:
        if passphrase is not None and b"ENCRYPTED" in data:
            raise InputError(f"{source}: cannot decrypt the private key: wrong passphrase?") from None
        raise InputError(f"{source}: not a PEM private key") from None
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < MIN_RSA_BITS:
            raise InputError(f"{source}: RSA key of {key.key_size} bits; at least {MIN_RSA_BITS} are needed")
        return key
    if isinstance(key, ec.EllipticCurvePrivateKey):
        if key.curve.name not in _ACCEPTED_CURVES:
            raise InputError(f"{source}: ECDSA curve {key.curve.name} is not supported (use P-256 or P-384)")
        return key
    kind = type(key).__name__.removeprefix("_").replace("PrivateKey", "") or "unknown"
    raise InputError(f"{source}: {kind} keys are not supported; use an RSA or ECDSA key")


def load_store_key(data: bytes, source: str) -> PrivateKey:
    """A key khatui itself wrote to its store (unencrypted; RSA consistency re-checks skipped: it made them)."""
    try:
        key = serialization.load_pem_private_key(data, None, unsafe_skip_rsa_key_validation=True)
    except (TypeError, ValueError, UnsupportedAlgorithm):
        raise InputError(f"{source}: not a readable private key (the store is damaged; move the file away)") from None
    if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        raise InputError(f"{source}: unsupported key type in the store")
    return key


def load_public_key(data: bytes, source: str) -> PublicKey:
    """A PEM SubjectPublicKeyInfo (RSA or ECDSA) read from `source`."""
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        raise InputError(f"{source}: not a PEM public key") from None
    if not isinstance(key, (rsa.RSAPublicKey, ec.EllipticCurvePublicKey)):
        raise InputError(f"{source}: unsupported public key type")
    return key


def passphrase_from_env(variable: str | None, source: str, environ: Mapping[str, str] | None = None) -> bytes | None:
    """The passphrase held by environment variable `variable` (None when no variable is configured)."""
    if variable is None:
        return None
    env = os.environ if environ is None else environ
    value = env.get(variable)
    if value is None:
        raise InputError(f"{source}: keyPassphraseEnv names ${variable}, which is not set")
    return value.encode()
