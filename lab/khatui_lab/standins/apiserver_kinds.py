"""kube-apiserver stand-in: which kinds it serves, under which resource names and scope.

The built-in kinds are those of the cluster version's schemas in a GA version (`v1`, `v2`):
alpha and beta APIs are off by default in the real apiserver since 1.24 for new ones, and the
stand-in serves none of them (stricter than a real 1.29-1.31, which still serves
flowcontrol.apiserver.k8s.io/v1beta3). Resource names follow the apiserver's registrations: the
lower-case kind made plural (`meta.UnsafeGuessKindToResource`'s rule) except where the real
registry names them otherwise (endpoints). A CustomResourceDefinition stored in the registry adds
its group, served versions, plural and scope, as the apiextensions apiserver does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

CLUSTER_SCOPED = frozenset({
    "Namespace", "Node", "PersistentVolume", "ComponentStatus", "ClusterRole", "ClusterRoleBinding",
    "StorageClass", "CSIDriver", "CSINode", "VolumeAttachment", "CustomResourceDefinition", "PriorityClass",
    "APIService", "IngressClass", "RuntimeClass", "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
    "CertificateSigningRequest", "FlowSchema", "PriorityLevelConfiguration", "TokenReview",
    "SubjectAccessReview", "SelfSubjectAccessReview", "SelfSubjectRulesReview", "SelfSubjectReview",
    "ServiceCIDR", "IPAddress", "DeviceClass", "ResourceSlice", "StorageVersion", "StorageVersionMigration",
})  # fmt: skip
IRREGULAR = {"Endpoints": "endpoints"}
NOT_STORED = frozenset({"Status", "List", "APIGroup", "APIGroupList", "APIResourceList", "APIVersions", "Eviction",
                        "DeleteOptions", "WatchEvent", "Scale", "Binding", "TokenRequest"})  # fmt: skip
SHORT_NAMES = {
    "nodes": ["no"], "namespaces": ["ns"], "pods": ["po"], "services": ["svc"], "configmaps": ["cm"],
    "serviceaccounts": ["sa"], "deployments": ["deploy"], "daemonsets": ["ds"], "statefulsets": ["sts"],
    "replicasets": ["rs"], "persistentvolumes": ["pv"], "persistentvolumeclaims": ["pvc"], "storageclasses": ["sc"],
    "customresourcedefinitions": ["crd", "crds"], "endpoints": ["ep"], "events": ["ev"],
    "ingresses": ["ing"], "priorityclasses": ["pc"], "networkpolicies": ["netpol"],
    "horizontalpodautoscalers": ["hpa"], "cronjobs": ["cj"], "poddisruptionbudgets": ["pdb"],
}  # fmt: skip
GA = re.compile(r"^v[0-9]+$")


@dataclass(frozen=True)
class Kind:
    """One served kind: group, version, kind, REST resource (plural) and scope."""

    group: str
    version: str
    kind: str
    resource: str
    namespaced: bool
    definition: str | None = None
    """Its schema definition (None for custom resources, validated by their CRD's schema)."""
    custom: dict[str, Any] | None = None
    """The openAPIV3Schema of a custom resource's version (None: built-in)."""

    @property
    def api_version(self) -> str:
        """`apps/v1`, or `v1` for the core group."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """`deployments.apps`, or `nodes` for the core group (errors name resources so)."""
        return f"{self.resource}.{self.group}" if self.group else self.resource

    @property
    def group_kind(self) -> str:
        """`Deployment.apps`, or `Node` for the core group (validation errors name kinds so)."""
        return f"{self.kind}.{self.group}" if self.group else self.kind


def plural(kind: str) -> str:
    """The resource name of a built-in kind (`NetworkPolicy` -> `networkpolicies`)."""
    if kind in IRREGULAR:
        return IRREGULAR[kind]
    lower = kind.lower()
    if lower.endswith("s"):
        return lower + "es"
    if lower.endswith("y"):
        return lower[:-1] + "ies"
    return lower + "s"


def builtin_kinds(by_kind: dict[tuple[str, str, str], str]) -> list[Kind]:
    """The served built-in kinds from a schema set's (group, version, kind) -> definition table."""
    kinds = []
    for (group, version, kind), definition in sorted(by_kind.items()):
        if GA.match(version) and kind not in NOT_STORED and not kind.endswith("List"):
            kinds.append(Kind(group, version, kind, plural(kind), kind not in CLUSTER_SCOPED, definition))
    return kinds


def crd_kinds(crd: dict[str, Any]) -> list[Kind]:
    """The kinds a stored CustomResourceDefinition serves (one per served version)."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    kinds = []
    for version in spec.get("versions") or []:
        if isinstance(version, dict) and version.get("served"):
            schema = (version.get("schema") or {}).get("openAPIV3Schema") or {}
            kinds.append(Kind(str(spec.get("group", "")), str(version.get("name", "")), str(names.get("kind", "")),
                              str(names.get("plural", "")), spec.get("scope") != "Cluster", None, schema))  # fmt: skip
    return kinds


def resource_list(kinds: list[Kind], api_version: str) -> dict[str, Any]:
    """The APIResourceList a discovery request for `api_version` answers."""
    resources: list[dict[str, Any]] = []
    for kind in kinds:
        if kind.api_version == api_version:
            verbs = ["create", "delete", "get", "list", "patch", "update"]
            resources.append({"name": kind.resource, "singularName": kind.kind.lower(), "namespaced": kind.namespaced,
                              "kind": kind.kind, "verbs": verbs, "shortNames": SHORT_NAMES.get(kind.resource, [])})  # fmt: skip
            subresources = {"Node": ["status"], "Deployment": ["status"],
                            "CertificateSigningRequest": ["approval", "status"]}.get(kind.kind, [])  # fmt: skip
            for sub in subresources:
                resources.append({"name": f"{kind.resource}/{sub}", "singularName": "", "namespaced": kind.namespaced,
                                  "kind": kind.kind, "verbs": ["get", "patch", "update"]})  # fmt: skip
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": api_version, "resources": resources}


def group_list(kinds: list[Kind]) -> dict[str, Any]:
    """The APIGroupList of /apis (every named group and its versions)."""
    groups: dict[str, list[str]] = {}
    for kind in kinds:
        if kind.group and kind.version not in groups.setdefault(kind.group, []):
            groups[kind.group].append(kind.version)
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
        {"name": name, "versions": [{"groupVersion": f"{name}/{v}", "version": v} for v in versions],
         "preferredVersion": {"groupVersion": f"{name}/{versions[0]}", "version": versions[0]}}
        for name, versions in sorted(groups.items())
    ]}  # fmt: skip
