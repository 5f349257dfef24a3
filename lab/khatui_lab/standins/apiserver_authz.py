"""kube-apiserver stand-in: authorization, the Node authorizer's part and RBAC with the bootstrap policy.

`authorize` is what `--authorization-mode=Node,RBAC` decides for the requests a kubeadm cluster's
own clients make: cluster admins (system:masters, kubeadm:cluster-admins) may do anything; a node
(`system:node:<name>` in system:nodes) may read nodes and write only its own Node and its status
(the NodeRestriction admission plugin's rule); bootstrap tokens may read kube-system/kubeadm-config
(the Role kubeadm's upload-config phase makes); everything else goes to RBAC.

The real apiserver's RBAC authorizer allows a request when a binding names the user (or one of its
groups) and the bound role has a rule covering verb, API group, resource[/subresource] and name.
The roles and bindings the real apiserver creates at start (plugin/pkg/auth/authorizer/rbac/
bootstrappolicy policy.go, controller_policy.go) are built in here, for the part a kubeadm
cluster's bootstrap needs: system:node-bootstrapper, the two CSR auto-approval roles, the
controller-manager's own role and the certificate controller's. Bindings stored in the registry
(the ones `kubeadm init` creates) are read at each decision, as the real authorizer's informers do.

Left out, and said so: RoleBindings (namespaced roles), aggregation, and service-account
subjects. The stand-in controller-manager has no service-account tokens, so where the real one
runs its certificate controllers as kube-system:certificate-controller
(`--use-service-account-credentials`), the stand-in binds that controller's role to the
system:kube-controller-manager user it authenticates as.
"""

from __future__ import annotations

import json
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

from .apiserver_registry import ApiError, Registry
from .apiserver_store import StoreError

CERTIFICATES = "certificates.k8s.io"
KUBELET_CLIENT_SIGNER = "kubernetes.io/kube-apiserver-client-kubelet"
CONTROLLER_MANAGER = "system:kube-controller-manager"
RBAC_PREFIX = "/registry/clusterrole"
"""The etcd keys of ClusterRoles and ClusterRoleBindings (`/registry/clusterroles/`, `/registry/clusterrolebindings/`)."""
POLICY_TTL = 1.0
ADMIN_GROUPS = frozenset({"system:masters", "kubeadm:cluster-admins"})
BOOTSTRAPPERS = "system:bootstrappers"


def _rule(verbs: str, group: str, resources: str, names: str = "") -> dict[str, Any]:
    rule: dict[str, Any] = {"verbs": verbs.split(), "apiGroups": [group], "resources": resources.split()}
    if names:
        rule["resourceNames"] = names.split()
    return rule


EVENTS = _rule("create update patch", "", "events")
BOOTSTRAP_ROLES: dict[str, list[dict[str, Any]]] = {
    "system:node-bootstrapper": [_rule("create get list watch", CERTIFICATES, "certificatesigningrequests")],
    "system:certificates.k8s.io:certificatesigningrequests:nodeclient": [
        _rule("create", CERTIFICATES, "certificatesigningrequests/nodeclient")
    ],
    "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient": [
        _rule("create", CERTIFICATES, "certificatesigningrequests/selfnodeclient")
    ],
    CONTROLLER_MANAGER: [
        EVENTS,
        _rule("create", "coordination.k8s.io", "leases"),
        _rule("get update", "coordination.k8s.io", "leases", "kube-controller-manager"),
    ],
    "system:controller:certificate-controller": [
        _rule("get list watch delete", CERTIFICATES, "certificatesigningrequests"),
        _rule("update", CERTIFICATES, "certificatesigningrequests/status certificatesigningrequests/approval"),
        _rule("approve", CERTIFICATES, "signers", KUBELET_CLIENT_SIGNER),
        _rule(
            "sign",
            CERTIFICATES,
            "signers",
            "kubernetes.io/legacy-unknown kubernetes.io/kube-apiserver-client "
            f"{KUBELET_CLIENT_SIGNER} kubernetes.io/kubelet-serving",
        ),  # fmt: skip
        _rule("create", "authorization.k8s.io", "subjectaccessreviews"),
        EVENTS,
    ],
}
"""ClusterRoles of the bootstrap policy (policy.go ClusterRoles, controller_policy.go), by name."""


def _binding(name: str, role: str, kind: str, subject: str) -> dict[str, Any]:
    return {"metadata": {"name": name}, "roleRef": {"kind": "ClusterRole", "name": role},
            "subjects": [{"kind": kind, "name": subject}]}  # fmt: skip


BOOTSTRAP_BINDINGS = (
    _binding(CONTROLLER_MANAGER, CONTROLLER_MANAGER, "User", CONTROLLER_MANAGER),
    _binding(
        "system:controller:certificate-controller",
        "system:controller:certificate-controller",
        "User",
        CONTROLLER_MANAGER,
    ),  # fmt: skip  # the stand-in's deviation: see the module docstring
)


@dataclass(frozen=True)
class Attributes:
    """What a request asks to do (authorizer.Attributes of a resource request)."""

    verb: str
    group: str
    resource: str
    subresource: str = ""
    name: str = ""
    namespace: str | None = None


def _covers(rule: dict[str, Any], request: Attributes) -> bool:
    """rbac.RuleAllows: verb, group, resource[/subresource] and (when the rule names any) the name."""
    resource = f"{request.resource}/{request.subresource}" if request.subresource else request.resource
    verbs, groups = rule.get("verbs") or [], rule.get("apiGroups") or []
    resources, names = rule.get("resources") or [], rule.get("resourceNames") or []
    return (
        (request.verb in verbs or "*" in verbs)
        and (request.group in groups or "*" in groups)
        and (resource in resources or "*" in resources)
        and (not names or request.name in names)
    )


@dataclass
class _Snapshot:
    writes: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock)
    bindings: list[dict[str, Any]] = field(default_factory=list)
    roles: dict[str, list[Any]] = field(default_factory=dict)


_SNAPSHOTS: weakref.WeakKeyDictionary[Registry, _Snapshot] = weakref.WeakKeyDictionary()


def _refresh(registry: Registry, snapshot: _Snapshot) -> None:
    """Re-read the stored ClusterRoleBindings and ClusterRoles; the snapshot stays as it was while etcd fails.
    One refresh at a time: a read begun before a write never lands after the read that follows it."""
    with snapshot.lock:
        writes = registry.writes
        try:
            objects = [json.loads(value) for value in registry.etcd.get(RBAC_PREFIX, prefix=True)]
        except StoreError:
            return
        _apply(snapshot, objects, writes)


def _apply(snapshot: _Snapshot, objects: list[dict[str, Any]], writes: int) -> None:
    snapshot.bindings = [o for o in objects if o.get("kind") == "ClusterRoleBinding"]
    snapshot.roles = {
        str(o["metadata"]["name"]): o.get("rules") or [] for o in objects if o.get("kind") == "ClusterRole"
    }
    snapshot.writes = writes


def _refresh_forever(reference: weakref.ref[Registry]) -> None:
    """The informer: every POLICY_TTL seconds while the registry lives (other apiservers write too)."""
    while (registry := reference()) is not None:
        _refresh(registry, _SNAPSHOTS[registry])
        del registry
        time.sleep(POLICY_TTL)


def _policy(registry: Registry) -> _Snapshot:
    """The stored RBAC objects as last read: by the background refresher, or at once after a write through
    this registry. A decision never waits for etcd otherwise (none at first: denied until the first read),
    as the real authorizer decides from its informers' caches."""
    snapshot = _SNAPSHOTS.get(registry)
    if snapshot is None:
        snapshot = _SNAPSHOTS[registry] = _Snapshot(writes=registry.writes)
        threading.Thread(target=_refresh_forever, args=(weakref.ref(registry),), daemon=True).start()
    with snapshot.lock:
        if snapshot.writes != registry.writes:
            _refresh(registry, snapshot)
    return snapshot


def _subject_matches(subject: Any, user: str, groups: frozenset[str]) -> bool:
    if not isinstance(subject, dict):
        return False
    return (subject.get("kind") == "User" and subject.get("name") == user) or (
        subject.get("kind") == "Group" and subject.get("name") in groups
    )


def rbac_allows(registry: Registry, user: str, groups: frozenset[str], request: Attributes) -> bool:
    """True when a ClusterRoleBinding (built in or stored) gives `user` a rule covering `request`."""
    policy = _policy(registry)
    for binding in (*BOOTSTRAP_BINDINGS, *policy.bindings):
        if not any(_subject_matches(s, user, groups) for s in binding.get("subjects") or []):
            continue
        ref = binding.get("roleRef") or {}
        if ref.get("kind") != "ClusterRole":
            continue
        name = str(ref.get("name"))
        rules = policy.roles[name] if name in policy.roles else BOOTSTRAP_ROLES.get(name, [])
        if any(_covers(rule, request) for rule in rules if isinstance(rule, dict)):
            return True
    return False


def forbidden(user: str, request: Attributes) -> ApiError:
    """403 in the real authorizer's words."""
    qualified = f"{request.resource}.{request.group}" if request.group else request.resource
    what = f'{qualified} "{request.name}"' if request.name else qualified
    resource = f"{request.resource}/{request.subresource}" if request.subresource else request.resource
    scope = f'in the namespace "{request.namespace}"' if request.namespace else "at the cluster scope"
    return ApiError(403, "Forbidden", f'{what} is forbidden: User "{user}" cannot {request.verb} resource "{resource}" '
                    f'in API group "{request.group}" {scope}',
                    {"name": request.name, "group": request.group, "kind": request.resource})  # fmt: skip


def authorize(registry: Registry | None, user: str, groups: frozenset[str], request: Attributes) -> None:
    """Raise Forbidden unless the user may (see the module docstring); RBAC only with a registry."""
    if groups & ADMIN_GROUPS:
        return
    node_object = (request.group, request.resource) == ("", "nodes")
    if "system:nodes" in groups and user.startswith("system:node:") and node_object:
        node, name = user.removeprefix("system:node:"), request.name
        if request.verb in ("get", "list"):
            return
        if request.verb in ("create", "update", "patch") and name and name != node:
            raise ApiError(403, "Forbidden", f'nodes "{name}" is forbidden: node "{node}" is not allowed to modify '
                           f'node "{name}"', {"name": name, "kind": "nodes"})  # fmt: skip
        if request.verb in ("create", "update", "patch"):
            return
    kubeadm_config = (request.resource, request.namespace, request.name) == ("configmaps", "kube-system",
                                                                            "kubeadm-config")  # fmt: skip
    if BOOTSTRAPPERS in groups and request.verb == "get" and kubeadm_config and not request.group:
        return
    if registry is not None and rbac_allows(registry, user, groups, request):
        return
    raise forbidden(user, request)


def allowed(registry: Registry, user: str, groups: frozenset[str], request: Attributes) -> bool:
    """What a SubjectAccessReview answers: would `authorize` let `user` do `request`?"""
    try:
        authorize(registry, user, groups, request)
    except ApiError:
        return False
    return True
