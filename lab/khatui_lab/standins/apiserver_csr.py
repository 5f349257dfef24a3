"""kube-apiserver stand-in: CertificateSigningRequests, as the real registry strategy and admission treat them.

pkg/registry/certificates/certificates/strategy.go: on create the requester's identity (user name,
UID, groups) is written into `spec` from the authenticated request, whatever the body said, and the
status is dropped; `spec` never changes afterwards. The `approval` subresource changes only
`status.conditions`, the `status` subresource only the status. The CertificateApproval and
CertificateSigning admission plugins (plugin/pkg/admission/certificates) then require `approve`,
resp. `sign`, on the `signers` resource named by the CSR's signerName, so the RBAC rules of the
certificate controller decide who approves and who signs.
"""

from __future__ import annotations

import copy
from typing import Any

from .apiserver_authz import CERTIFICATES, Attributes, allowed
from .apiserver_kinds import Kind
from .apiserver_registry import ApiError, Registry


def is_csr(kind: Kind) -> bool:
    """True for certificates.k8s.io CertificateSigningRequest."""
    return (kind.group, kind.kind) == (CERTIFICATES, "CertificateSigningRequest")


def prepare_create(body: Any, user: str, groups: frozenset[str]) -> Any:
    """The CSR to store: the requester's identity in spec, no status (PrepareForCreate)."""
    if not isinstance(body, dict):
        return body
    obj = copy.deepcopy(body)
    spec = obj.setdefault("spec", {})
    if isinstance(spec, dict):
        spec.update(username=user, groups=sorted(groups))
        spec.pop("uid", None)
        spec.pop("extra", None)
    obj.pop("status", None)
    return obj


def prepare_update(old: dict[str, Any], body: Any, subresource: str) -> Any:
    """The CSR an update may write: `spec` kept, and only conditions through `approval`."""
    if not isinstance(body, dict):
        return body
    obj = copy.deepcopy(body)
    obj["spec"] = copy.deepcopy(old.get("spec"))
    if subresource == "approval":
        status = dict(old.get("status") or {})
        status["conditions"] = (body.get("status") or {}).get("conditions") or []
        obj["status"] = status
    elif subresource != "status":
        obj["status"] = copy.deepcopy(old.get("status"))
    return obj


def admit(
    registry: Registry, user: str, groups: frozenset[str], old: dict[str, Any], new: Any, subresource: str
) -> None:
    """CertificateApproval / CertificateSigning: Forbidden unless the user may approve / sign for the signer."""
    signer = str((old.get("spec") or {}).get("signerName") or "")
    name = str((old.get("metadata") or {}).get("name") or "")
    status = new.get("status") if isinstance(new, dict) else None
    if subresource == "approval":
        verb = "approve"
    elif subresource == "status" and (status or {}).get("certificate") != (old.get("status") or {}).get("certificate"):
        verb = "sign"
    else:
        return
    if not allowed(registry, user, groups, Attributes(verb, CERTIFICATES, "signers", name=signer)):
        raise ApiError(403, "Forbidden", f'certificatesigningrequests.certificates.k8s.io "{name}" is forbidden: user '
                       f'not permitted to {verb} requests with signerName "{signer}"',
                       {"name": name, "group": CERTIFICATES, "kind": "certificatesigningrequests"})  # fmt: skip
