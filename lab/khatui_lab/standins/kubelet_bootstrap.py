"""kubelet stand-in: its client certificate, from kubelet.conf or by TLS bootstrap, as the real kubelet gets it.

kubernetes/kubernetes pkg/kubelet/certificate/bootstrap/bootstrap.go `LoadClientCert`: a
kubeconfig (`--kubeconfig`, kubeadm's /etc/kubernetes/kubelet.conf) whose client certificate
loads and has not expired is used as it is. Otherwise the bootstrap kubeconfig
(`--bootstrap-kubeconfig`, a bootstrap token as its user) posts a certificates.k8s.io/v1
CertificateSigningRequest for `system:node:<name>` in `system:nodes` (signer
kubernetes.io/kube-apiserver-client-kubelet, usages digital signature, key encipherment, client
auth; its name `node-csr-<digest>` from `digestedName`), waits for the certificate, writes it with
its key to the certificate store (`--cert-dir`, /var/lib/kubelet/pki:
`kubelet-client-<stamp>.pem` and the `kubelet-client-current.pem` symlink, client-go
util/certificate FileStore) and writes the kubeconfig pointing at the current pem. The private key
is kept in `kubelet-client.key.tmp` until the CSR succeeds, so a restarted kubelet asks again with
the same key (and the same CSR name).

With `rotateCertificates` (kubeadm sets it), a kubeconfig with the certificate embedded and no
current certificate in the store has its certificate written to the store (client-go
certificate_manager.go `getCurrentCertificateOrBootstrap`): that is how kubeadm init's
kubelet-finalize phase finds kubelet-client-current.pem on the first control plane. Keys and CSRs
are made with the openssl binary (the node's python has no crypto library).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from .kubeadm_pki import PKIError, openssl
from .kubeclient import ClientError, Kubeconfig, Reply, load_kubeconfig, request

CSRS = "/apis/certificates.k8s.io/v1/certificatesigningrequests"
SIGNER = "kubernetes.io/kube-apiserver-client-kubelet"
USAGES = ("digital signature", "key encipherment", "client auth")
"""What requestNodeCertificate asks for."""
TMP_KEY = "kubelet-client.key.tmp"
CURRENT = "kubelet-client-current.pem"
NODE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_PEM = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----\n?", re.DOTALL)
Api = Callable[[str, str, Any], Reply]
"""(method, path, body) -> the API's answer, as the bootstrap kubeconfig's user."""


class BootstrapError(Exception):
    """The client certificate cannot be had now; the message is the kubelet's."""


def certificates(pem: bytes) -> list[bytes]:
    """The PEM certificate blocks of `pem`."""
    return _PEM.findall(pem)


def unexpired(pem: bytes) -> bool:
    """True when `pem` holds certificates and none has expired (`openssl x509 -checkend 0`)."""
    blocks = certificates(pem)
    try:
        for block in blocks:
            openssl("x509", "-noout", "-checkend", "0", input=block)
    except PKIError:
        return False
    return bool(blocks)


def client_config_valid(path: Path) -> Kubeconfig | None:
    """isClientConfigStillValid: the kubeconfig when it loads with an unexpired client certificate."""
    if not path.exists():
        return None
    try:
        config = load_kubeconfig(str(path))
    except ClientError:
        return None
    return config if config.cert_pem and config.key_pem and unexpired(config.cert_pem) else None


def current(folder: Path) -> bytes | None:
    """The store's current certificate and key (FileStore.Current), None when absent or expired."""
    try:
        data = (folder / CURRENT).read_bytes()
    except OSError:
        return None
    return data if b"PRIVATE KEY" in data and unexpired(data) else None


def store_update(folder: Path, cert_pem: bytes, key_pem: bytes) -> Path:
    """FileStore.Update: kubelet-client-<stamp>.pem (0600) and the current symlink moved onto it."""
    folder.mkdir(parents=True, exist_ok=True)
    stamped = folder / f"kubelet-client-{time.strftime('%Y-%m-%d-%H-%M-%S')}.pem"
    descriptor = os.open(stamped, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(descriptor, "wb") as handle:
        handle.write(cert_pem.rstrip(b"\n") + b"\n" + key_pem.rstrip(b"\n") + b"\n")
    link = folder / f".{CURRENT}.tmp"
    link.unlink(missing_ok=True)
    link.symlink_to(stamped)
    link.replace(folder / CURRENT)
    return folder / CURRENT


def keep_embedded(config: Kubeconfig, folder: Path) -> bool:
    """getCurrentCertificateOrBootstrap: the kubeconfig's embedded pair written to an empty store; True if written."""
    if current(folder) is not None or not config.cert_pem or not config.key_pem:
        return False
    store_update(folder, config.cert_pem, config.key_pem)
    return True


def node_key(folder: Path) -> bytes:
    """LoadOrGenerateKeyFile(kubelet-client.key.tmp): the pending key, or a new ECDSA P-256 one."""
    path = folder / TMP_KEY
    if path.is_file() and b"PRIVATE KEY" in path.read_bytes():
        return path.read_bytes()
    folder.mkdir(parents=True, exist_ok=True)
    key = openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256")
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
        handle.write(key)
    return key


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def csr_name(key: bytes, node: str) -> str:
    """digestedName: node-csr- and the SHA-512/256 of public key, CN, O and usages."""
    public = openssl("pkey", "-pubout", "-outform", "DER", input=key)
    digest = hashlib.new("sha512_256")
    for part in (public, f"system:node:{node}".encode(), b"system:nodes", *(u.encode() for u in USAGES)):
        digest.update(_b64(part).encode() + b"|")
    return f"node-csr-{_b64(digest.digest())}"


def csr_pem(key: bytes, node: str) -> bytes:
    """certutil.MakeCSR: a PKCS#10 request for CN=system:node:<node>, O=system:nodes, no SANs."""
    if not NODE_NAME.match(node):
        raise BootstrapError(f"node name {node!r} is not a lowercase RFC 1123 subdomain")
    with tempfile.NamedTemporaryFile() as handle:
        handle.write(key)
        handle.flush()
        return openssl("req", "-new", "-key", handle.name, "-subj", f"/O=system:nodes/CN=system:node:{node}")


def csr_object(name: str, request_pem: bytes) -> dict[str, Any]:
    """The CertificateSigningRequest csr.RequestCertificate posts."""
    return {"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest", "metadata": {"name": name},
            "spec": {"request": base64.b64encode(request_pem).decode(), "signerName": SIGNER, "usages": list(USAGES)}}  # fmt: skip


def request_certificate(api: Api, name: str, request_pem: bytes) -> str:
    """POST the CSR (an existing one of that name is reused, as csr.RequestCertificate does); its uid."""
    reply = api("POST", CSRS, csr_object(name, request_pem))
    if reply.status == 409:
        reply = api("GET", f"{CSRS}/{name}", None)
    if reply.status >= 300 or not isinstance(reply.body, dict):
        raise BootstrapError(f"cannot create certificate signing request: {reply.message}")
    return str((reply.body.get("metadata") or {}).get("uid", ""))


def certificate_of(csr: dict[str, Any]) -> bytes | None:
    """csr.WaitForCertificate's verdict on one read: the issued PEM, None while pending, else the refusal."""
    status = csr.get("status") or {}
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Denied":
            raise BootstrapError(f"certificate signing request is denied, reason: {condition.get('reason')}, "
                                 f"message: {condition.get('message')}")  # fmt: skip
        if condition.get("type") == "Failed":
            raise BootstrapError(f"certificate signing request failed, reason: {condition.get('reason')}, "
                                 f"message: {condition.get('message')}")  # fmt: skip
    issued = status.get("certificate")
    return base64.b64decode(issued) if issued else None


def bootstrap_kubeconfig(server: str, ca_pem: bytes, pem: Path) -> str:
    """writeKubeconfigFromBootstrapping: the bootstrap cluster, the store's current pem as the user."""
    data = {"apiVersion": "v1", "kind": "Config",
            "clusters": [{"name": "default-cluster", "cluster": {
                "certificate-authority-data": base64.b64encode(ca_pem).decode(), "server": server}}],
            "contexts": [{"name": "default-context", "context": {
                "cluster": "default-cluster", "namespace": "default", "user": "default-auth"}}],
            "current-context": "default-context",
            "users": [{"name": "default-auth", "user": {"client-certificate": str(pem), "client-key": str(pem)}}]}  # fmt: skip
    return str(yaml.safe_dump(data, sort_keys=False))


def api_of(config: Kubeconfig) -> Api:
    """Requests as the kubeconfig's user (short retries: the kubelet tries again next time)."""
    return lambda method, path, body: request(config, method, path, body, wait=5.0)


def load_client_cert(kubeconfig: Path, bootstrap: Path, folder: Path, node: str, rotate: bool,
                     api: Api | None = None, say: Callable[[str], None] = print) -> None:  # fmt: skip
    """Make `kubeconfig` usable (see the module docstring); BootstrapError while it cannot be yet."""
    valid = client_config_valid(kubeconfig)
    if valid is not None:
        if rotate and keep_embedded(valid, folder):
            say(f"wrote the client certificate of {kubeconfig} to {folder / CURRENT}")
        return
    try:
        config = load_kubeconfig(str(bootstrap))
    except ClientError as exc:
        raise BootstrapError(f"unable to load bootstrap kubeconfig: {exc}") from None
    key = node_key(folder)
    name = csr_name(key, node)
    call = api or api_of(config)
    try:
        request_certificate(call, name, csr_pem(key, node))
        reply = call("GET", f"{CSRS}/{name}", None)
    except ClientError as exc:
        raise BootstrapError(f"cannot create certificate signing request: {exc}") from None
    issued = certificate_of(reply.body) if reply.status == 200 and isinstance(reply.body, dict) else None
    if issued is None:
        raise BootstrapError(f'waiting for client certificate to be issued (certificate signing request "{name}")')
    pem = store_update(folder, issued, key)
    (folder / TMP_KEY).unlink(missing_ok=True)
    kubeconfig.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(kubeconfig, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(descriptor, "w") as handle:
        handle.write(bootstrap_kubeconfig(config.server, config.ca_pem, pem))
    say(f'certificate signing request "{name}" issued; wrote {kubeconfig}')
