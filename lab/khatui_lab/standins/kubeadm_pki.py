"""kubeadm stand-in: certificates, with the openssl command line (the node has no Python crypto).

Like kubeadm it uses the certificates it finds and only creates the missing leaves, signed by the
CA in the certificates folder; it never creates a CA (khatui always provides them). An existing
apiserver certificate must cover every name kubeadm requires, or the run fails as kubeadm's does:
that is how the lab proves khatui's PKI is complete.
"""

from __future__ import annotations

import ipaddress
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


class PKIError(Exception):
    """A certificate problem, worded for the operator."""


@dataclass(frozen=True)
class Leaf:
    """A certificate kubeadm makes: file stem, subject, usage and SANs."""

    stem: str
    common_name: str
    organizations: tuple[str, ...] = ()
    server: bool = False
    sans: tuple[str, ...] = ()


def openssl(*args: str, input: bytes | None = None) -> bytes:
    """Run openssl; PKIError with its message on failure."""
    try:
        result = subprocess.run(["openssl", *args], input=input, capture_output=True, check=False)
    except FileNotFoundError:
        raise PKIError("openssl is not installed on this node (the stand-in needs it)") from None
    if result.returncode != 0:
        raise PKIError(f"openssl {args[0]}: {result.stderr.decode(errors='replace').strip().splitlines()[-1:]}")
    return result.stdout


def cert_sans(path: Path) -> set[str]:
    """The DNS names and IP addresses of a certificate (PKIError when it cannot be read)."""
    text = openssl("x509", "-in", str(path), "-noout", "-ext", "subjectAltName").decode()
    sans = set()
    for kind, value in re.findall(r"(DNS|IP Address):([^,\s]+)", text):
        sans.add(str(ipaddress.ip_address(value)) if kind == "IP Address" else value)
    return sans


def require_sans(path: Path, wanted: list[str]) -> None:
    """PKIError naming what an existing certificate lacks (kubeadm: 'certificate is valid for ..., not ...')."""
    have = cert_sans(path)
    normal = [str(ipaddress.ip_address(w)) if _is_ip(w) else w for w in wanted]
    missing = [w for w in normal if w not in have]
    if missing:
        raise PKIError(
            f"{path}: the existing certificate lacks {', '.join(missing)} (it is valid for {', '.join(sorted(have))}); "
            "kubeadm refuses such a certificate"
        )


def check_pair(cert: Path, key: Path) -> None:
    """PKIError unless `cert` and `key` exist and belong together."""
    for path in (cert, key):
        if not path.is_file():
            raise PKIError(f"{path} does not exist")
    cert_pub = openssl("x509", "-in", str(cert), "-noout", "-pubkey")
    key_pub = openssl("pkey", "-in", str(key), "-pubout")
    if cert_pub.strip() != key_pub.strip():
        raise PKIError(f"{key} is not the key of {cert}")


def ensure_leaf(folder: Path, leaf: Leaf, ca: str = "ca") -> str:
    """Use `<stem>.crt/.key` when present (SANs checked), else issue them from `<ca>.crt/.key`."""
    cert, key = folder / f"{leaf.stem}.crt", folder / f"{leaf.stem}.key"
    if cert.exists() or key.exists():
        check_pair(cert, key)
        if leaf.sans:
            require_sans(cert, list(leaf.sans))
        return f"Using existing {leaf.stem} certificate and key on disk"
    issue(cert, key, folder / f"{ca}.crt", folder / f"{ca}.key", leaf)
    return f"Generating {leaf.stem} certificate and key"


def issue(cert: Path, key: Path, ca_cert: Path, ca_key: Path, leaf: Leaf) -> None:
    """Issue a leaf (ECDSA P-256, one year) signed by the CA; PKIError when the CA key is absent."""
    for path in (ca_cert, ca_key):
        if not path.is_file():
            raise PKIError(f"{path} is missing: cannot create {cert.name} (the khatui lab stand-in never makes CAs)")
    subject = "".join(f"/O={org}" for org in leaf.organizations) + f"/CN={leaf.common_name}"
    usage = "serverAuth" if leaf.server else "clientAuth"
    extensions = [
        "basicConstraints=critical,CA:FALSE",
        "keyUsage=critical,digitalSignature,keyEncipherment",
        f"extendedKeyUsage={usage}",
    ]
    if leaf.sans:
        names = [f"IP:{san}" if _is_ip(san) else f"DNS:{san}" for san in leaf.sans]
        extensions.append("subjectAltName=" + ",".join(names))
    cert.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        csr, ext = Path(tmp) / "leaf.csr", Path(tmp) / "leaf.ext"
        ext.write_text("\n".join(extensions) + "\n")
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(key))
        key.chmod(0o600)
        openssl("req", "-new", "-key", str(key), "-subj", subject, "-out", str(csr))
        openssl(
            "x509", "-req", "-in", str(csr), "-CA", str(ca_cert), "-CAkey", str(ca_key), "-CAcreateserial",
            "-days", "365", "-sha256", "-extfile", str(ext), "-out", str(cert),
        )  # fmt: skip
    serial = ca_cert.with_suffix(".srl")
    serial.unlink(missing_ok=True)


def ensure_service_account(folder: Path) -> str:
    """sa.key/sa.pub: used when present, else made (RSA 2048, as kubeadm does)."""
    key, pub = folder / "sa.key", folder / "sa.pub"
    if key.exists() and pub.exists():
        return "Using the existing sa key"
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", str(key))
    key.chmod(0o600)
    openssl("pkey", "-in", str(key), "-pubout", "-out", str(pub))
    return "Generating sa key and public key"


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
