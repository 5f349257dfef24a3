"""Reading the CA files an operator imports (`mode: import`): the PKI's second, read-only disk edge.

An imported CA is read and checked (`authority.adopt_authority`) only while the store does not hold
that CA yet; once stored, the store's copy is what signs, and the spec's certFile must still name the
same certificate: a different one means the operator is changing CAs, which is a rotation
(`khatui certs plan-ca-rotation`), not something a `generate` may do silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from khatui.boundedread import read_regular
from khatui.errors import InputError
from khatui.pki.authority import Authority, adopt_authority
from khatui.pki.ca_names import CAName
from khatui.pki.catalog import AuthoritySpec, Catalog
from khatui.pki.inspect import fingerprint, load_certificate
from khatui.pki.keys import load_private_key, passphrase_from_env
from khatui.pki.store import StoredPKI
from khatui.spec.validate import resolve_local_path

MAX_CA_FILE = 1 << 20
"""A PEM certificate chain or key is a few KiB; a file past 1 MiB is not one."""


def read_file(value: str, base_dir: str, what: str) -> tuple[bytes, str]:
    """Bytes of a file the spec names (relative to the spec's folder) and its path for messages."""
    path = resolve_local_path(value, base_dir)
    data = read_regular(str(path), MAX_CA_FILE, what)
    if len(data) > MAX_CA_FILE:
        raise InputError(f"{path}: larger than {MAX_CA_FILE >> 10} KiB; not a {what}")
    return data, str(path)


def import_authority(spec: AuthoritySpec, base_dir: str, environ: Mapping[str, str], now: datetime) -> Authority:
    """Read, decrypt and check the CA `spec` imports; `InputError` naming the file on any problem."""
    source = spec.source
    if source.cert_file is None or source.key_file is None:
        raise InputError(f"the {spec.ca} CA is imported but certFile or keyFile is missing")
    cert_data, cert_path = read_file(source.cert_file, base_dir, f"{spec.ca} CA certificate")
    key_data, key_path = read_file(source.key_file, base_dir, f"{spec.ca} CA key")
    cert = load_certificate(cert_data, cert_path)
    passphrase = passphrase_from_env(source.key_passphrase_env, key_path, environ)
    key = load_private_key(key_data, key_path, passphrase)
    return adopt_authority(spec.ca, cert, key, cert_path, key_path, now)


def resolve_imports(
    catalog: Catalog, stored: StoredPKI, base_dir: str, environ: Mapping[str, str], now: datetime
) -> dict[CAName, Authority]:
    """Imported CAs the store lacks, checked; for those it holds, insist they are the same certificate."""
    imported: dict[CAName, Authority] = {}
    for spec in catalog.authorities:
        if spec.source.mode != "import" or spec.source.cert_file is None:
            continue
        held = stored.get(spec.stem).cert
        if held is None:
            imported[spec.ca] = import_authority(spec, base_dir, environ, now)
            continue
        cert_data, cert_path = read_file(spec.source.cert_file, base_dir, f"{spec.ca} CA certificate")
        if fingerprint(load_certificate(cert_data, cert_path)) != fingerprint(held):
            raise InputError(
                f"{cert_path}: differs from the {spec.ca} CA already in the store; changing a CA is a "
                f"rotation: see `khatui certs plan-ca-rotation SPEC --ca {spec.ca}`"
            )
    return imported
