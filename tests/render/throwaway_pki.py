"""Throwaway etcd certificates for starting the real etcd in tests (never khatui's PKI: that is
khatui.pki's job). Same file names as kubeadm's layout, one folder per member."""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

Key = ec.EllipticCurvePrivateKey


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write(folder: Path, stem: str, cert: x509.Certificate, key: Key) -> None:
    (folder / f"{stem}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path = folder / f"{stem}.key"
    path.write_bytes(key_pem)
    path.chmod(0o600)


class EtcdCA:
    """A CA that signs member and client certificates."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(_name("etcd-ca"))
            .issuer_name(_name("etcd-ca"))
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
            .sign(self.key, hashes.SHA256())
        )

    def issue(self, common_name: str, addresses: list[str], client_only: bool = False) -> tuple[x509.Certificate, Key]:
        """A leaf certificate for `addresses` (server+client auth, or client auth only)."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        usages = (
            [ExtendedKeyUsageOID.CLIENT_AUTH]
            if client_only
            else [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
        )
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        )
        if addresses:
            sans: list[x509.GeneralName] = [x509.IPAddress(ipaddress.ip_address(a)) for a in addresses]
            builder = builder.add_extension(
                x509.SubjectAlternativeName([*sans, x509.DNSName("localhost")]), critical=False
            )
        return builder.sign(self.key, hashes.SHA256()), key

    def member_folder(self, folder: Path, name: str, address: str) -> Path:
        """ca.crt, server, peer and healthcheck-client pairs for member `name` at `address`."""
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o700)
        (folder / "ca.crt").write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))
        _write(folder, "server", *self.issue(name, [address, "127.0.0.1"]))
        _write(folder, "peer", *self.issue(name, [address]))
        _write(folder, "healthcheck-client", *self.issue("kube-etcd-healthcheck-client", [], client_only=True))
        return folder
