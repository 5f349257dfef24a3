"""kube-apiserver stand-in: every object kept in etcd, checked as the real apiserver checks it.

Keys are the real apiserver's: `/registry/<resource>/[<namespace>/]<name>` for built-in kinds
(nodes under `minions`, services under `services/specs`, CRDs and APIServices under their group,
as the real registry names them) and
`/registry/<group>/<resource>/[<namespace>/]<name>` for custom resources; values are JSON where the
real one writes protobuf. resourceVersion is the etcd revision of the object's last write.

A write goes through what the real request path does, in its order: strict decoding against the
kind's schema (`apiserver_schema`), the NamespaceLifecycle admission plugin (the namespace must
exist), then validation (name set, required fields). Left out, and said so: atomic
compare-and-swap (two writers racing on one object both win), watch, finalizers and graceful
namespace deletion (deleting a namespace deletes its objects at once), server-side apply.
"""

from __future__ import annotations

import datetime
import json
import uuid
from typing import Any

from .apiserver_kinds import Kind, builtin_kinds, crd_kinds
from .apiserver_schema import Schemas
from .apiserver_store import Etcd
from .apiserver_workloads import computed_status

DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
KEY_NAMES = {"nodes": "minions", "services": "services/specs",
             "customresourcedefinitions": "apiextensions.k8s.io/customresourcedefinitions",
             "apiservices": "apiregistration.k8s.io/apiservices"}  # fmt: skip
CRDS = "/registry/apiextensions.k8s.io/customresourcedefinitions/"


def status(code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """A Kubernetes Status object."""
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success" if code < 400 else "Failure",
            "message": message, "reason": reason, "code": code}  # fmt: skip
    if details:
        body["details"] = details
    return body


class ApiError(Exception):
    """A refusal: the HTTP code and the Status body the real apiserver sends."""

    def __init__(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.body = status(code, reason, message, details)


def not_found(kind: Kind, name: str) -> ApiError:
    """apimachinery's NewNotFound: `deployments.apps "x" not found`."""
    return ApiError(404, "NotFound", f'{kind.qualified} "{name}" not found',
                    {"name": name, "group": kind.group, "kind": kind.resource})  # fmt: skip


def invalid(kind: Kind, name: str, problems: list[str]) -> ApiError:
    """apimachinery's NewInvalid: `Deployment.apps "x" is invalid: spec.selector: Required value`."""
    joined = problems[0] if len(problems) == 1 else "[" + ", ".join(problems) + "]"
    return ApiError(422, "Invalid", f'{kind.group_kind} "{name}" is invalid: {joined}',
                    {"name": name, "group": kind.group, "kind": kind.kind})  # fmt: skip


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch (null deletes a key; lists and scalars replace)."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Registry:
    """The object store of one apiserver (see the module docstring)."""

    def __init__(self, etcd: Etcd, schemas: Schemas) -> None:
        self.etcd = etcd
        self.schemas = schemas
        self.builtin = builtin_kinds(schemas.by_kind)
        self._defaults_made = False
        self.writes = 0
        """Writes through this registry (cached views, such as the authorizer's, re-read after one)."""

    def kinds(self) -> list[Kind]:
        """Every served kind: the built-in ones and those of stored CRDs."""
        crds = [json.loads(value) for value in self.etcd.get(CRDS, prefix=True)]
        return [*self.builtin, *(kind for crd in crds for kind in crd_kinds(crd))]

    def kind(self, api_version: str, resource: str) -> Kind | None:
        """The kind served as `resource` in `api_version` (None: not served); built-in kinds are found
        without reading etcd, so a request can be authorized before the store is reached."""

        def served(kinds: list[Kind]) -> Kind | None:
            return next((k for k in kinds if k.api_version == api_version and k.resource == resource), None)

        return served(self.builtin) or served(self.kinds())

    def key(self, kind: Kind, namespace: str | None, name: str = "") -> str:
        """The etcd key of an object (a prefix of its namespace or resource when `name` is '')."""
        base = f"/registry/{kind.group}/{kind.resource}" if kind.custom is not None else (
            f"/registry/{KEY_NAMES.get(kind.resource, kind.resource)}")  # fmt: skip
        return f"{base}/{namespace}/{name}" if kind.namespaced and namespace else f"{base}/{name}"

    def ensure_default_namespaces(self) -> None:
        """Create default, kube-system, kube-public and kube-node-lease once (the real apiserver's
        system-namespaces controller does so at start)."""
        if self._defaults_made:
            return
        namespace = next(k for k in self.builtin if k.kind == "Namespace")
        for name in DEFAULT_NAMESPACES:
            if self.get(namespace, None, name) is None:
                try:
                    self.create(namespace, None, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
                except ApiError as error:  # another apiserver (or request) made it first
                    if error.code != 409:
                        raise
        self._defaults_made = True

    def get(self, kind: Kind, namespace: str | None, name: str) -> dict[str, Any] | None:
        """The object, None when absent."""
        found = self.etcd.revisions(self.key(kind, namespace, name))
        return self._read(*found[0]) if found else None

    def must_get(self, kind: Kind, namespace: str | None, name: str) -> dict[str, Any]:
        """The object; NotFound when absent."""
        found = self.get(kind, namespace, name)
        if found is None:
            raise not_found(kind, name)
        return found

    def list(self, kind: Kind, namespace: str | None) -> list[dict[str, Any]]:
        """Every object of `kind` (in `namespace` when given), sorted by namespace and name."""
        prefix = self.key(kind, namespace, "") if namespace else self.key(kind, None, "")
        return [self._read(value, revision) for value, revision in self.etcd.revisions(prefix, prefix=True)]

    def _read(self, value: bytes, revision: int) -> dict[str, Any]:
        obj: dict[str, Any] = json.loads(value)
        obj.setdefault("metadata", {})["resourceVersion"] = str(revision)
        return obj

    def check(self, kind: Kind, namespace: str | None, obj: Any, strict: bool) -> dict[str, Any]:
        """`obj` decoded and admitted as `kind` (see the module docstring), or the refusal."""
        if not isinstance(obj, dict) or not isinstance(obj.get("metadata", {}), dict):
            raise ApiError(400, "BadRequest", "the object provided is unrecognized (must be of type "
                           f"{kind.kind}): couldn't get version/kind; json parse error")  # fmt: skip
        if obj.get("kind") != kind.kind or obj.get("apiVersion") != kind.api_version:
            raise ApiError(400, "BadRequest", f"the API version in the data ({obj.get('apiVersion')}) does not match "
                           f"the expected API version ({kind.api_version})" if obj.get("kind") == kind.kind else
                           f"{obj.get('kind')} in version \"{kind.version}\" cannot be handled as a {kind.kind}")  # fmt: skip
        findings = self.schemas.decode_kind(kind, obj)
        prefix = f'{kind.kind} in version "{kind.version}" cannot be handled as a {kind.kind}: '
        if findings.type_error:
            raise ApiError(400, "BadRequest", prefix + findings.type_error)
        if strict and findings.unknown:
            unknown = ", ".join(f'unknown field "{path}"' for path in findings.unknown)
            raise ApiError(400, "BadRequest", prefix + "strict decoding error: " + unknown)
        meta = obj.setdefault("metadata", {})
        if kind.namespaced:
            if meta.get("namespace") and meta["namespace"] != namespace:
                raise ApiError(400, "BadRequest", "the namespace of the provided object does not match the namespace "
                               "sent on the request")  # fmt: skip
            meta["namespace"] = namespace
            namespaces = next(k for k in self.builtin if k.kind == "Namespace")
            if self.get(namespaces, None, str(namespace)) is None:
                raise not_found(namespaces, str(namespace))
        else:
            meta.pop("namespace", None)
        name = str(meta.get("name") or "")
        problems = [] if name else ["metadata.name: Required value: name or generateName is required"]
        problems += [f"{path}: Required value" for path in findings.missing if path.split(".")[0] != "status"]
        if problems:
            raise invalid(kind, name, problems)
        return obj

    def create(self, kind: Kind, namespace: str | None, body: Any, strict: bool = True) -> dict[str, Any]:
        """Store a new object (201); AlreadyExists when one of that name is stored."""
        obj = self.check(kind, namespace, body, strict)
        meta = obj["metadata"]
        if self.get(kind, namespace, meta["name"]) is not None:
            raise ApiError(409, "AlreadyExists", f'{kind.qualified} "{meta["name"]}" already exists',
                           {"name": meta["name"], "group": kind.group, "kind": kind.resource})  # fmt: skip
        meta.pop("resourceVersion", None)
        meta.update(uid=str(uuid.uuid4()), creationTimestamp=_now())
        if "spec" in obj:
            meta["generation"] = 1
        if kind.kind == "Namespace":
            obj["spec"] = {"finalizers": ["kubernetes"], **(obj.get("spec") or {})}
            obj["status"] = {"phase": "Active"}
        return self._write(kind, namespace, obj)

    def update(self, kind: Kind, namespace: str | None, name: str, body: Any, subresource: str = "",
               strict: bool = True) -> dict[str, Any]:  # fmt: skip
        """Replace an object (its status only, for the `status` subresource); NotFound when absent,
        Conflict when the body names an older resourceVersion."""
        old = self.must_get(kind, namespace, name)
        obj = self.check(kind, namespace, body, strict)
        if obj["metadata"].get("name") != name:
            raise ApiError(400, "BadRequest", "the name of the object does not match the name on the URL")
        version = obj["metadata"].get("resourceVersion")
        if version and version != old["metadata"]["resourceVersion"]:
            raise ApiError(409, "Conflict", f'Operation cannot be fulfilled on {kind.qualified} "{name}": the object has '
                           "been modified; please apply your changes to the latest version and try again")  # fmt: skip
        if subresource in ("status", "approval"):  # approval: a CSR's conditions (apiserver_csr)
            new = {**old, "status": obj.get("status")}
        else:
            new = {**obj, "status": old.get("status")} if "status" in old else obj
            keep = {k: old["metadata"][k] for k in ("uid", "creationTimestamp", "generation") if k in old["metadata"]}
            new["metadata"] = {**obj["metadata"], **keep}
            if "generation" in keep and obj.get("spec") != old.get("spec"):
                new["metadata"]["generation"] = int(keep["generation"]) + 1
        return self._write(kind, namespace, new)

    def patch(self, kind: Kind, namespace: str | None, name: str, patch: Any, subresource: str = "",
              strict: bool = True) -> dict[str, Any]:  # fmt: skip
        """Merge `patch` into the stored object (strategic merge patches are applied as JSON merge
        patches: lists replace instead of merging by key), then update."""
        old = self.must_get(kind, namespace, name)
        if not isinstance(patch, dict):
            raise ApiError(400, "BadRequest", "the patch is not a JSON object")
        merged = merge_patch(old, patch)
        merged["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
        return self.update(kind, namespace, name, merged, subresource, strict)

    def delete(self, kind: Kind, namespace: str | None, name: str) -> dict[str, Any]:
        """Remove an object (a namespace with every object in it); NotFound when absent."""
        obj = self.must_get(kind, namespace, name)
        if kind.kind == "Namespace":
            for other in self.kinds():
                if other.namespaced:
                    for item in self.list(other, name):
                        self.etcd.delete(self.key(other, name, item["metadata"]["name"]))
        self.etcd.delete(self.key(kind, namespace, name))
        self.writes += 1
        return obj

    def _write(self, kind: Kind, namespace: str | None, obj: dict[str, Any]) -> dict[str, Any]:
        obj = {**obj, **computed_status(obj)}
        stored = {**obj, "metadata": {k: v for k, v in obj["metadata"].items() if k != "resourceVersion"}}
        revision = self.etcd.put(self.key(kind, namespace, obj["metadata"]["name"]), json.dumps(stored).encode())
        self.writes += 1
        stored["metadata"]["resourceVersion"] = str(revision)
        return stored
