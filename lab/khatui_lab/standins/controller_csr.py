"""kube-controller-manager stand-in: the csrapproving and csrsigning controllers, for kubelet client CSRs.

csrapproving (pkg/controller/certificates/approver/sarapprove.go): a pending CSR (no certificate,
neither Approved nor Denied) recognised as a kubelet client certificate — signer
kubernetes.io/kube-apiserver-client-kubelet and `ValidateKubeletClientCSR` (pkg/apis/certificates
helpers.go: O exactly [system:nodes], CN system:node:*, no DNS/email/IP/URI SANs, usages
{digital signature, client auth} with or without key encipherment) — is approved only when a
SubjectAccessReview for the requester (spec.username and groups) allows `create` on
certificatesigningrequests/selfnodeclient (the CN is the requester's own) or /nodeclient: the
RBAC bindings kubeadm init creates decide. Otherwise it stays pending, as upstream.

csrsigning (pkg/controller/certificates/signer/signer.go): an Approved, not Failed CSR of that
signer without a certificate is validated again (a refusal is a Failed condition,
SignerValidationFailure) and signed with `--cluster-signing-cert-file`/`--cluster-signing-key-file`
(the CSR's subject, the usages of its spec, none of its extensions), for
`--cluster-signing-duration` (default 8760h) or spec.expirationSeconds when shorter.
"""

from __future__ import annotations

import base64
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .kubeadm_pki import PKIError, openssl
from .kubeclient import Reply

CSRS = "/apis/certificates.k8s.io/v1/certificatesigningrequests"
SARS = "/apis/authorization.k8s.io/v1/subjectaccessreviews"
KUBELET_CLIENT = "kubernetes.io/kube-apiserver-client-kubelet"
CLIENT_USAGES = (frozenset({"digital signature", "key encipherment", "client auth"}),
                 frozenset({"digital signature", "client auth"}))  # fmt: skip
KEY_USAGES = {"digital signature": "digitalSignature", "key encipherment": "keyEncipherment"}
DEFAULT_DURATION = 8760 * 3600
Api = Callable[[str, str, Any], Reply]
"""(method, path, body) -> the API's answer, as the controller-manager's user."""


@dataclass(frozen=True)
class Request:
    """What a PKCS#10 request asks for: subject and SANs."""

    common_name: str
    organizations: tuple[str, ...]
    sans: tuple[str, ...]


def parse_request(pem: bytes) -> Request:
    """The subject and SANs of a CSR whose self-signature verifies; PKIError when unusable."""
    openssl("req", "-noout", "-verify", input=pem)
    subject = openssl("req", "-noout", "-subject", "-nameopt", "multiline", input=pem).decode()
    fields = re.findall(r"^\s+(\w+)\s+= (.*)$", subject, re.MULTILINE)
    text = openssl("req", "-noout", "-text", input=pem).decode()
    match = re.search(r"Subject Alternative Name:.*?\n\s*(.+)", text)
    return Request(
        next((value for key, value in fields if key == "commonName"), ""),
        tuple(value for key, value in fields if key == "organizationName"),
        tuple(s.strip() for s in match.group(1).split(",")) if match else (),
    )


def kubelet_client_error(request: Request, usages: list[str]) -> str | None:
    """ValidateKubeletClientCSR's refusal, None when the request is a kubelet client certificate."""
    if request.organizations != ("system:nodes",):
        return "subject organization is not system:nodes"
    kinds = {san.split(":", 1)[0] for san in request.sans}
    for kind, refusal in (("DNS", "DNS"), ("email", "Email"), ("IP Address", "IP"), ("URI", "URI")):
        if kind in kinds:
            return f"{refusal} subjectAltNames are not allowed"
    if not request.common_name.startswith("system:node:"):
        return 'subject common name does not begin with "system:node:"'
    if frozenset(usages) not in CLIENT_USAGES:
        return "usages did not match [client auth digital signature key encipherment]"
    return None


def conditions(csr: dict[str, Any]) -> set[str]:
    """Types of the CSR's conditions whose status is True (a missing status counts as True)."""
    found = (csr.get("status") or {}).get("conditions") or []
    return {str(c.get("type")) for c in found if isinstance(c, dict) and c.get("status", "True") == "True"}


def _request(csr: dict[str, Any]) -> Request | None:
    try:
        return parse_request(base64.b64decode((csr.get("spec") or {}).get("request") or ""))
    except (PKIError, ValueError):
        return None


def approve(api: Api, csr: dict[str, Any]) -> str:
    """sarApprover.handle on one CSR: what it did ('' when the CSR is not its business)."""
    spec, name = csr.get("spec") or {}, str(csr["metadata"]["name"])
    if (csr.get("status") or {}).get("certificate") or conditions(csr) & {"Approved", "Denied"}:
        return ""
    request = _request(csr)
    if request is None or spec.get("signerName") != KUBELET_CLIENT:
        return ""
    if kubelet_client_error(request, list(spec.get("usages") or [])) is not None:
        return ""
    tried = []
    for subresource, message in (("selfnodeclient", "Auto approving self kubelet client certificate after "
                                  "SubjectAccessReview."),
                                 ("nodeclient", "Auto approving kubelet client certificate after SubjectAccessReview.")):  # fmt: skip
        if subresource == "selfnodeclient" and spec.get("username") != request.common_name:
            continue
        tried.append(subresource)
        review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
                  "spec": {"user": spec.get("username", ""), "uid": spec.get("uid", ""), "groups": spec.get("groups") or [],
                           "resourceAttributes": {"group": "certificates.k8s.io", "resource": "certificatesigningrequests",
                                                  "verb": "create", "subresource": subresource}}}  # fmt: skip
        reply = api("POST", SARS, review)
        if reply.status >= 300:
            return f"subject access review for csr {name!r} failed: {reply.message}"
        if (reply.body.get("status") or {}).get("allowed"):
            condition = {"type": "Approved", "status": "True", "reason": "AutoApproved", "message": message}
            status = {**(csr.get("status") or {})}
            status["conditions"] = [*(status.get("conditions") or []), condition]
            reply = api("PUT", f"{CSRS}/{name}/approval", {**csr, "status": status})
            return (
                f"approved csr {name!r}" if reply.status < 300 else f"error updating approval for csr: {reply.message}"
            )
    return f"recognized csr {name!r} as {tried} but subject access review was not approved"


def sign(api: Api, csr: dict[str, Any], ca_cert: Path, ca_key: Path, duration: int = DEFAULT_DURATION) -> str:
    """signer.handle on one CSR: what it did ('' when the CSR is not its business)."""
    spec, name = csr.get("spec") or {}, str(csr["metadata"]["name"])
    found = conditions(csr)
    if "Approved" not in found or "Failed" in found or (csr.get("status") or {}).get("certificate"):
        return ""
    if spec.get("signerName") != KUBELET_CLIENT:
        return ""
    request = _request(csr)
    if request is None:
        return f"unable to parse csr {name!r}"
    usages = list(spec.get("usages") or [])
    refusal = kubelet_client_error(request, usages)
    status = {**(csr.get("status") or {})}
    if refusal is not None:
        failed = {"type": "Failed", "status": "True", "reason": "SignerValidationFailure", "message": refusal}
        status["conditions"] = [*(status.get("conditions") or []), failed]
        api("PUT", f"{CSRS}/{name}/status", {**csr, "status": status})
        return f"csr {name!r} failed signer validation: {refusal}"
    seconds = min(duration, int(spec.get("expirationSeconds") or duration))
    status["certificate"] = base64.b64encode(issue(base64.b64decode(spec["request"]), usages, ca_cert, ca_key,
                                                   seconds)).decode()  # fmt: skip
    reply = api("PUT", f"{CSRS}/{name}/status", {**csr, "status": status})
    return (
        f"signed csr {name!r}" if reply.status < 300 else f"error updating signature for certificate: {reply.message}"
    )


def issue(request_pem: bytes, usages: list[str], ca_cert: Path, ca_key: Path, seconds: int) -> bytes:
    """The certificate for a CSR: its subject, the spec's usages, signed by the CA for `seconds`."""
    key_usage = ",".join(KEY_USAGES[u] for u in usages if u in KEY_USAGES) or "digitalSignature"
    lines = ["basicConstraints=critical,CA:FALSE", f"keyUsage=critical,{key_usage}"]
    if "client auth" in usages:
        lines.append("extendedKeyUsage=clientAuth")
    with tempfile.TemporaryDirectory() as folder:
        request, ext = Path(folder) / "request.csr", Path(folder) / "ext.cnf"
        request.write_bytes(request_pem)
        ext.write_text("\n".join(lines) + "\n")
        return openssl("x509", "-req", "-in", str(request), "-CA", str(ca_cert), "-CAkey", str(ca_key),
                       "-CAserial", str(Path(folder) / "ca.srl"), "-CAcreateserial",
                       "-days", str(max(1, seconds // 86400)), "-sha256", "-extfile", str(ext))  # fmt: skip
