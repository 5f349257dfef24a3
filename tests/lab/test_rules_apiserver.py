"""Every rule of rules/apiserver.yaml and rules/kubectl.yaml: fed what the real kube-apiserver and
kubectl refuse, the stand-ins refuse it in the same words (host-side, over a real loopback etcd)."""

from __future__ import annotations

import copy
import io
import json
import tarfile
from typing import Any

import pytest

from khatui_lab.standins.apiserver_api import route
from khatui_lab.standins.apiserver_registry import Registry
from khatui_lab.standins.apiserver_schema import Schemas
from khatui_lab.standins.apiserver_store import Etcd
from khatui_lab.standins_install import LIB, PACKAGE, archive

from .local_etcd import ADMINS, SCHEMAS, schemas

ADMIN = ("kubernetes-admin", ADMINS)
NODE_CP1 = ("system:node:cp1", frozenset({"system:nodes", "system:authenticated"}))
STRICT = "?fieldValidation=Strict"
DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
        },
    },
}
DEPLOYMENTS = "/apis/apps/v1/namespaces/default/deployments"
CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
        "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
            "type": "object",
            "properties": {"spec": {"type": "object", "properties": {"size": {"type": "integer"}}}},
        }}}],
    },
}  # fmt: skip
WIDGET = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"size": 3}}


def call(registry: Registry, method: str, path: str, body: Any = None, user: tuple[str, frozenset[str]] = ADMIN,
         content_type: str = "application/json") -> tuple[int, dict[str, Any]]:  # fmt: skip
    return route(method, path, user[0], user[1], registry, copy.deepcopy(body), content_type)


def test_create_twice_is_already_exists(registry: Registry) -> None:
    code, stored = call(registry, "POST", DEPLOYMENTS + STRICT, DEPLOYMENT)
    assert code == 201 and stored["metadata"]["uid"] and stored["metadata"]["resourceVersion"]
    code, body = call(registry, "POST", DEPLOYMENTS + STRICT, DEPLOYMENT)
    assert (code, body["reason"], body["message"]) == (409, "AlreadyExists", 'deployments.apps "web" already exists')


def test_get_of_a_missing_object_is_not_found_with_the_real_status(registry: Registry) -> None:
    code, body = call(registry, "GET", DEPLOYMENTS + "/nope")
    assert code == 404
    assert body == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                    "message": 'deployments.apps "nope" not found', "reason": "NotFound", "code": 404,
                    "details": {"name": "nope", "group": "apps", "kind": "deployments"}}  # fmt: skip


def test_an_object_in_a_missing_namespace_is_refused_by_namespace_lifecycle(registry: Registry) -> None:
    other = {**DEPLOYMENT, "metadata": {**DEPLOYMENT["metadata"], "namespace": "shop"}}
    code, body = call(registry, "POST", "/apis/apps/v1/namespaces/shop/deployments" + STRICT, other)
    assert (code, body["reason"], body["message"]) == (404, "NotFound", 'namespaces "shop" not found')
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}
    assert call(registry, "POST", "/api/v1/namespaces", namespace)[0] == 201
    assert call(registry, "POST", "/apis/apps/v1/namespaces/shop/deployments" + STRICT, other)[0] == 201


def test_the_default_namespaces_exist(registry: Registry) -> None:
    code, body = call(registry, "GET", "/api/v1/namespaces")
    assert code == 200
    names = sorted(item["metadata"]["name"] for item in body["items"])
    assert names == ["default", "kube-node-lease", "kube-public", "kube-system"]
    assert body["items"][0]["status"] == {"phase": "Active"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["spec"].update(foo=1), 'strict decoding error: unknown field "spec.foo"'),
        (lambda d: d["spec"]["template"]["spec"]["containers"][0].update(imagePullPolcy="Always"),
         'strict decoding error: unknown field "spec.template.spec.containers[0].imagePullPolcy"'),
        (lambda d: d["metadata"].update(label={"a": "b"}), 'strict decoding error: unknown field "metadata.label"'),
    ],
)  # fmt: skip
def test_unknown_fields_are_a_strict_decoding_error(registry: Registry, change: Any, message: str) -> None:
    bad = copy.deepcopy(DEPLOYMENT)
    change(bad)
    code, body = call(registry, "POST", DEPLOYMENTS + STRICT, bad)
    assert (code, body["reason"]) == (400, "BadRequest")
    assert body["message"] == 'Deployment in version "v1" cannot be handled as a Deployment: ' + message
    assert call(registry, "POST", DEPLOYMENTS, bad)[0] == 201  # the server's default is Warn, not Strict


def test_a_value_of_the_wrong_type_is_a_decoding_error(registry: Registry) -> None:
    bad = copy.deepcopy(DEPLOYMENT)
    bad["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": "DEBUG", "value": True}]
    code, body = call(registry, "POST", DEPLOYMENTS, bad)
    assert (code, body["reason"]) == (400, "BadRequest")
    assert body["message"] == (
        'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal bool into Go struct '
        "field EnvVar.spec.template.spec.containers.env.value of type string"
    )


def test_required_fields_are_invalid_when_missing(registry: Registry) -> None:
    bad = copy.deepcopy(DEPLOYMENT)
    del bad["spec"]["selector"]
    code, body = call(registry, "POST", DEPLOYMENTS + STRICT, bad)
    assert (code, body["reason"]) == (422, "Invalid")
    assert body["message"] == 'Deployment.apps "web" is invalid: spec.selector: Required value'
    nameless = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}
    code, body = call(registry, "POST", "/api/v1/namespaces/default/configmaps", nameless)
    assert body["message"] == 'ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required'


def test_a_kind_whose_crd_was_not_applied_is_not_served(registry: Registry) -> None:
    widgets = "/apis/example.com/v1/namespaces/default/widgets"
    assert call(registry, "POST", widgets, WIDGET)[0] == 404
    assert call(registry, "GET", "/apis/example.com/v1")[0] == 404
    assert call(registry, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions" + STRICT, CRD)[0] == 201
    listing = call(registry, "GET", "/apis/example.com/v1")[1]
    assert [r["name"] for r in listing["resources"]] == ["widgets"]
    code, body = call(registry, "POST", widgets + STRICT, {**WIDGET, "spec": {"size": 3, "colour": "red"}})
    assert (code, body["message"]) == (400, 'Widget in version "v1" cannot be handled as a Widget: strict decoding '
                                            'error: unknown field "spec.colour"')  # fmt: skip
    assert call(registry, "POST", widgets + STRICT, WIDGET)[0] == 201
    assert registry.etcd.get("/registry/example.com/widgets/default/w")


def test_an_update_from_an_older_resource_version_is_a_conflict(registry: Registry) -> None:
    stored = call(registry, "POST", DEPLOYMENTS, DEPLOYMENT)[1]
    newer = call(registry, "PUT", DEPLOYMENTS + "/web", {**stored, "spec": {**stored["spec"], "replicas": 3}})[1]
    assert newer["metadata"]["generation"] == 2
    code, body = call(registry, "PUT", DEPLOYMENTS + "/web", stored)
    assert (code, body["reason"]) == (409, "Conflict")
    assert body["message"].startswith('Operation cannot be fulfilled on deployments.apps "web": the object has been')


def test_a_deployment_is_never_available_without_running_pods(registry: Registry) -> None:
    stored = call(registry, "POST", DEPLOYMENTS, DEPLOYMENT)[1]
    assert stored["status"]["replicas"] == 0 and "availableReplicas" not in stored["status"]
    assert stored["status"]["conditions"] == [{"type": "Available", "status": "False",
                                               "reason": "MinimumReplicasUnavailable",
                                               "message": "Deployment does not have minimum availability."}]  # fmt: skip
    claimed = {**stored, "status": {"availableReplicas": 2, "conditions": [{"type": "Available", "status": "True"}]}}
    assert call(registry, "PUT", DEPLOYMENTS + "/web/status", claimed)[1]["status"] == stored["status"]


def _node(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}}}


READY = {"conditions": [{"type": "Ready", "status": "False", "reason": "KubeletNotReady",
                         "message": "container runtime network not ready: NetworkReady=false"}]}  # fmt: skip


def test_a_node_registers_and_reports_its_status_through_the_status_subresource(registry: Registry) -> None:
    code, stored = call(registry, "POST", "/api/v1/nodes", _node("cp1"), NODE_CP1)
    assert code == 201 and registry.etcd.get("/registry/minions/cp1")
    code, patched = call(registry, "PATCH", "/api/v1/nodes/cp1/status", {"status": READY}, NODE_CP1,
                         "application/strategic-merge-patch+json")  # fmt: skip
    assert code == 200 and patched["status"] == READY
    put = call(registry, "PUT", "/api/v1/nodes/cp1/status", {**patched, "metadata": {**patched["metadata"], "labels": {}}},
               NODE_CP1)[1]  # fmt: skip
    assert put["metadata"]["labels"] == {"kubernetes.io/hostname": "cp1"}  # the status subresource keeps the rest
    ignored = call(registry, "PUT", "/api/v1/nodes/cp1", {**put, "status": {}}, NODE_CP1)[1]
    assert ignored["status"] == READY  # and the main resource keeps the status
    assert call(registry, "GET", "/api/v1/nodes/cp1/status", user=NODE_CP1)[1]["status"] == READY


def test_a_node_may_not_modify_another_node(registry: Registry) -> None:
    assert call(registry, "POST", "/api/v1/nodes", _node("cp2"))[0] == 201
    code, body = call(registry, "PATCH", "/api/v1/nodes/cp2/status", {"status": READY}, NODE_CP1,
                      "application/merge-patch+json")  # fmt: skip
    assert (code, body["message"]) == (403, 'nodes "cp2" is forbidden: node "cp1" is not allowed to modify node "cp2"')
    assert call(registry, "GET", "/api/v1/nodes/cp2", user=NODE_CP1)[0] == 200


def test_a_user_without_a_role_is_forbidden(registry: Registry) -> None:
    code, body = call(registry, "GET", "/api/v1/namespaces/kube-system/secrets", user=("alice", frozenset()))
    assert (code, body["reason"]) == (403, "Forbidden")
    assert body["message"] == ('secrets is forbidden: User "alice" cannot list resource "secrets" in API group "" in '
                               'the namespace "kube-system"')  # fmt: skip


def test_a_patch_sent_as_plain_json_is_an_unsupported_media_type(registry: Registry) -> None:
    call(registry, "POST", "/api/v1/nodes", _node("cp1"))
    code, body = call(registry, "PATCH", "/api/v1/nodes/cp1", {"metadata": {"labels": {"a": "b"}}})
    assert (code, body["reason"]) == (415, "UnsupportedMediaType")
    assert body["message"].startswith("the body of the request was in an unknown format - accepted media types")


def test_lists_filter_by_label_selector(registry: Registry) -> None:
    for name in ("cp1", "w1"):
        node = _node(name)
        node["metadata"]["labels"]["role"] = "cp" if name == "cp1" else "worker"
        call(registry, "POST", "/api/v1/nodes", node)
    names = [n["metadata"]["name"] for n in call(registry, "GET", "/api/v1/nodes?labelSelector=role%3Dcp")[1]["items"]]
    assert names == ["cp1"]
    assert len(call(registry, "GET", "/api/v1/nodes?labelSelector=role")[1]["items"]) == 2


def test_the_schemas_are_those_of_the_clusters_version() -> None:
    assert SCHEMAS.version == "v1.31" and ("resource.k8s.io", "v1alpha3", "DeviceClass") in SCHEMAS.by_kind
    old = schemas("v1.29.10")
    assert old.version == "v1.29" and ("resource.k8s.io", "v1alpha3", "DeviceClass") not in old.by_kind


def test_the_stand_ins_reach_the_node_with_their_versions_schemas() -> None:
    with tarfile.open(fileobj=io.BytesIO(archive("v1.30.2"))) as tar:
        member = tar.extractfile(f"{LIB.lstrip('/')}/{PACKAGE}/schemas.json")
        assert member is not None
        assert Schemas(json.loads(member.read())).version == "v1.30"


def test_lists_filter_by_supported_field_selectors_only(registry: Registry) -> None:
    for name, kind in (("bootstrap-token-abcdef", "bootstrap.kubernetes.io/token"), ("db", "Opaque")):
        secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "type": kind}
        assert call(registry, "POST", "/api/v1/namespaces/kube-system/secrets", secret)[0] == 201
    tokens = "/api/v1/namespaces/kube-system/secrets?fieldSelector=type%3Dbootstrap.kubernetes.io%2Ftoken"
    assert [s["metadata"]["name"] for s in call(registry, "GET", tokens)[1]["items"]] == ["bootstrap-token-abcdef"]
    code, body = call(registry, "GET", "/api/v1/namespaces/kube-system/secrets?fieldSelector=data.x%3D1")
    assert (code, body["reason"]) == (400, "BadRequest") and body["message"].endswith(
        "field label not supported: data.x"
    )


def test_the_systems_namespaces_may_not_be_deleted(registry: Registry) -> None:
    code, body = call(registry, "DELETE", "/api/v1/namespaces/kube-system")
    assert (code, body["reason"]) == (403, "Forbidden")
    assert body["message"] == 'namespaces "kube-system" is forbidden: this namespace may not be deleted'
    assert call(registry, "DELETE", "/api/v1/namespaces/kube-node-lease")[0] == 200


def test_a_request_is_authorized_before_the_store_is_reached() -> None:
    unreachable = Registry(Etcd("http://127.0.0.1:9"), SCHEMAS)  # any etcdctl call would fail
    code, body = route("GET", "/api/v1/namespaces/kube-system/configmaps/x", "system:anonymous", frozenset(),
                       unreachable, None)  # fmt: skip
    assert (code, body["reason"]) == (403, "Forbidden")
