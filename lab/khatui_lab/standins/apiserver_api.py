"""kube-apiserver stand-in: the REST API over the registry, with the real paths, verbs and refusals.

Paths are the real ones: `/api/v1/[namespaces/<ns>/]<resource>[/<name>[/status]]` for the core
group, `/apis/<group>/<version>/...` for the others, and the discovery documents kubectl reads
(`/api`, `/api/v1`, `/apis`, `/apis/<group>/<version>`). Verbs: create (POST), get and list
(GET, `labelSelector` with `k=v`, `k!=v`, `k`, `!k`; `fieldSelector` on the fields the real
apiserver supports for the kind), update (PUT), patch (PATCH, merge and
strategic-merge patches applied as JSON merge patches; JSON patches are refused), delete.
`fieldValidation=Strict` refuses unknown fields (kubectl sends it); Ignore, and Warn (the server's
default), accept them (no Warning headers are sent).

Subresources: `status` of every kind that has one, and a CertificateSigningRequest's `approval`
(`apiserver_csr`). A SubjectAccessReview is answered, not stored. Authorization and admission of
CSRs: `apiserver_authz`, `apiserver_csr`.
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path
from typing import Any

from . import apiserver_csr as csr
from .apiserver_authz import Attributes, allowed, authorize
from .apiserver_kinds import Kind, group_list, resource_list
from .apiserver_registry import ApiError, Registry, not_found, status

CLUSTER_CONFIG = Path("/etc/kubernetes/khatui-lab-standin/kubeadm-config.yaml")
"""Written by the kubeadm stand-in; served as the kubeadm-config ConfigMap until one is stored."""
PATCH_TYPES = ("application/merge-patch+json", "application/strategic-merge-patch+json")
NAMESPACE_SUBRESOURCES = ("status", "finalize")
IMMORTAL = ("default", "kube-system", "kube-public")
"""Namespaces the NamespaceLifecycle admission plugin refuses to delete (kube-apiserver's defaults)."""


def selected(obj: dict[str, Any], selector: str) -> bool:
    """True when `obj`'s labels match a label selector (equality and existence terms)."""
    labels = (obj.get("metadata") or {}).get("labels") or {}
    for term in filter(None, (t.strip() for t in selector.split(","))):
        if "!=" in term:
            key, value = term.split("!=", 1)
            if labels.get(key.strip()) == value.strip():
                return False
        elif "=" in term:
            key, value = term.replace("==", "=").split("=", 1)
            if labels.get(key.strip()) != value.strip():
                return False
        elif term.startswith("!"):
            if term[1:].strip() in labels:
                return False
        elif " in " in term or " notin " in term:
            raise ApiError(400, "BadRequest", f"unable to parse requirement: {term!r} (khatui lab stand-in: set-based "
                           "selectors are not supported)")  # fmt: skip
        elif term not in labels:
            return False
    return True


FIELDS = {"Secret": ("type",), "Pod": ("spec.nodeName", "status.phase"), "Node": ("spec.unschedulable",),
          "Event": ("involvedObject.name", "reason")}  # fmt: skip
"""Fields a fieldSelector may name beyond metadata.name and metadata.namespace, per kind."""


def field_selected(obj: dict[str, Any], selector: str, kind: Kind) -> bool:
    """True when `obj` matches a field selector (`f=v`, `f==v`, `f!=v` terms, the fields the real
    apiserver supports for the kind); BadRequest naming an unsupported field, as the real one does."""
    for term in filter(None, (t.strip() for t in selector.split(","))):
        negated = "!=" in term
        path, _, value = term.replace("!=", "=").replace("==", "=").partition("=")
        if path not in ("metadata.name", "metadata.namespace", *FIELDS.get(kind.kind, ())):
            raise ApiError(400, "BadRequest", f'Unable to find "{kind.api_version}, Resource={kind.resource}" that '
                           f'match label selector "", field selector "{selector}": field label not supported: {path}')  # fmt: skip
        found: Any = obj
        for part in path.split("."):
            found = found.get(part) if isinstance(found, dict) else None
        actual = str(found).lower() if isinstance(found, bool) else "" if found is None else str(found)
        if (actual == value) == negated:
            return False
    return True


def _target(parts: list[str]) -> tuple[str | None, str, str, str]:
    """(namespace, resource, name, subresource) of the path parts after the group version."""
    namespace = None
    if parts[0] == "namespaces" and len(parts) >= 3 and parts[2] not in NAMESPACE_SUBRESOURCES:
        namespace, parts = parts[1], parts[2:]
    return namespace, parts[0], parts[1] if len(parts) > 1 else "", parts[2] if len(parts) > 2 else ""


def route(method: str, url: str, user: str, groups: frozenset[str], registry: Registry, body: Any,
          content_type: str = "application/json") -> tuple[int, dict[str, Any]]:  # fmt: skip
    """The answer (status code, JSON) to an authenticated API request."""
    try:
        return _route(method, url, user, groups, registry, body, content_type)
    except ApiError as error:
        return error.code, error.body


def _route(method: str, url: str, user: str, groups: frozenset[str], registry: Registry, body: Any,
           content_type: str) -> tuple[int, dict[str, Any]]:  # fmt: skip
    path, _, raw_query = url.partition("?")
    query = {k: v[-1] for k, v in urllib.parse.parse_qs(raw_query).items()}
    parts = [urllib.parse.unquote(p) for p in path.strip("/").split("/")]
    if parts[0] == "api" and len(parts) >= 2:
        api_version, rest = parts[1], parts[2:]
    elif parts[0] == "apis" and len(parts) >= 3:
        api_version, rest = f"{parts[1]}/{parts[2]}", parts[3:]
    elif method == "GET" and path.rstrip("/") == "/api":
        return 200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}
    elif method == "GET" and path.rstrip("/") == "/apis":
        return 200, group_list(registry.kinds())
    else:
        raise ApiError(404, "NotFound", "the server could not find the requested resource")
    if not rest:
        listing = resource_list(registry.kinds(), api_version)
        if method != "GET" or not listing["resources"]:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        return 200, listing
    namespace, resource, name, subresource = _target(rest)
    kind = registry.kind(api_version, resource)
    subresources = ("status", "approval") if kind is not None and csr.is_csr(kind) else ("status",)
    if kind is None or (subresource and subresource not in subresources) or (namespace and not kind.namespaced):
        raise ApiError(404, "NotFound", "the server could not find the requested resource")
    verb = {"GET": "get" if name else "list", "POST": "create", "PUT": "update", "PATCH": "patch",
            "DELETE": "delete"}.get(method, "")  # fmt: skip
    if not verb or (verb != "create" and verb != "list" and not name) or (verb == "create" and name):
        raise ApiError(405, "MethodNotAllowed", f"{method} is not supported on resources of kind {kind.qualified!r}")
    if kind.namespaced and not namespace and verb not in ("list",):
        raise ApiError(404, "NotFound", "the server could not find the requested resource")
    authorize(registry, user, groups, Attributes(verb, kind.group, kind.resource, subresource, name, namespace))
    if kind.kind == "SubjectAccessReview" and verb == "create":
        return 201, subject_access_review(registry, body)
    registry.ensure_default_namespaces()
    strict = query.get("fieldValidation", "Warn") == "Strict"  # the server's default is Warn
    if csr.is_csr(kind) and verb == "create":
        body = csr.prepare_create(body, user, groups)
    elif csr.is_csr(kind) and verb == "update":
        old = registry.must_get(kind, namespace, name)
        body = csr.prepare_update(old, body, subresource)
        csr.admit(registry, user, groups, old, body, subresource)
    elif csr.is_csr(kind) and verb == "patch" and subresource:
        raise ApiError(405, "MethodNotAllowed", f"PATCH is not supported on {kind.qualified}/{subresource} by the "
                       "khatui lab stand-in: use PUT (client-go's UpdateApproval and UpdateStatus do)")  # fmt: skip
    return _do(verb, kind, namespace, name, subresource, registry, body, content_type, query, strict)


def subject_access_review(registry: Registry, body: Any) -> dict[str, Any]:
    """The SubjectAccessReview answered: would the authorizer allow spec's user the spec's resource request?"""
    spec = body.get("spec") if isinstance(body, dict) else None
    attributes = (spec or {}).get("resourceAttributes") if isinstance(spec, dict) else None
    if not isinstance(spec, dict) or not isinstance(attributes, dict):
        raise ApiError(422, "Invalid", 'SubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: '
                       "Invalid value: exactly one of nonResourceAttributes or resourceAttributes must be specified "
                       "(khatui lab stand-in: resource attributes only)")  # fmt: skip
    request = Attributes(str(attributes.get("verb", "")), str(attributes.get("group", "")),
                         str(attributes.get("resource", "")), str(attributes.get("subresource", "")),
                         str(attributes.get("name", "")), attributes.get("namespace") or None)  # fmt: skip
    groups = frozenset(str(g) for g in spec.get("groups") or [])
    verdict = allowed(registry, str(spec.get("user", "")), groups, request)
    return {**body, "status": {"allowed": verdict, **({} if verdict else {"reason": "no RBAC policy matched"})}}


def _do(verb: str, kind: Kind, namespace: str | None, name: str, subresource: str, registry: Registry, body: Any,
        content_type: str, query: dict[str, str], strict: bool) -> tuple[int, dict[str, Any]]:  # fmt: skip
    if verb == "get":
        found = registry.get(kind, namespace, name)
        if found is None and (kind.kind, namespace, name) == ("ConfigMap", "kube-system", "kubeadm-config"):
            return 200, kubeadm_config_map()
        if found is None:
            raise not_found(kind, name)
        return 200, found
    if verb == "list":
        labels, fields = query.get("labelSelector", ""), query.get("fieldSelector", "")
        items = [o for o in registry.list(kind, namespace) if selected(o, labels) and field_selected(o, fields, kind)]
        return 200, {"kind": f"{kind.kind}List", "apiVersion": kind.api_version, "metadata": {}, "items": items}
    if verb == "create":
        return 201, registry.create(kind, namespace, body, strict)
    if verb == "update":
        return 200, registry.update(kind, namespace, name, body, subresource, strict)
    if verb == "patch":
        if content_type.split(";")[0].strip() not in PATCH_TYPES:
            raise ApiError(415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted "
                           "media types include: " + ", ".join(PATCH_TYPES) + " (khatui lab stand-in)")  # fmt: skip
        return 200, registry.patch(kind, namespace, name, body, subresource, strict)
    if kind.kind == "Namespace" and not kind.group and name in IMMORTAL:
        raise ApiError(403, "Forbidden", f'namespaces "{name}" is forbidden: this namespace may not be deleted',
                       {"name": name, "kind": "namespaces"})  # fmt: skip
    registry.delete(kind, namespace, name)
    return 200, status(200, "", "", {"name": name, "group": kind.group, "kind": kind.resource})


def kubeadm_config_map() -> dict[str, Any]:
    """The kube-system/kubeadm-config ConfigMap, from the kubeadm stand-in's copy (NotFound without it)."""
    if not CLUSTER_CONFIG.is_file():
        raise ApiError(404, "NotFound", 'configmaps "kubeadm-config" not found',
                       {"name": "kubeadm-config", "kind": "configmaps"})  # fmt: skip
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "kubeadm-config", "namespace": "kube-system"},
        "data": {"ClusterConfiguration": CLUSTER_CONFIG.read_text()},
    }
