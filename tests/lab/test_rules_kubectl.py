"""Every rule of rules/kubectl.yaml: the kubectl stand-in, talking to the apiserver stand-in's request
handling over a real loopback etcd, prints what the real kubectl prints and exits as it does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from khatui_lab.standins.apiserver_registry import Registry
from khatui_lab.standins.kubectl_api import KubectlError, ServerError
from khatui_lab.standins.kubectl_apply import apply
from khatui_lab.standins.kubectl_get import delete, get, node_status, wait

from .local_etcd import admin_api
from .manifests import DNS, STORAGE


def _apply(registry: Registry, path: Path) -> tuple[list[str], list[str]]:
    said: list[str] = []
    errors = apply(admin_api(registry), str(path), None, said.append)
    return said, errors


def test_apply_creates_configures_and_leaves_unchanged_like_kubectl(registry: Registry, tmp_path: Path) -> None:
    (tmp_path / "10-dns.yaml").write_text(DNS)
    (tmp_path / "20-storage.yaml").write_text(STORAGE)
    assert _apply(registry, tmp_path) == (
        ["configmap/coredns created", "deployment.apps/coredns created", "storageclass.storage.k8s.io/local created"],
        [],
    )
    (tmp_path / "10-dns.yaml").write_text(DNS.replace("replicas: 2", "replicas: 3"))
    assert _apply(registry, tmp_path)[0] == [
        "configmap/coredns unchanged", "deployment.apps/coredns configured", "storageclass.storage.k8s.io/local unchanged"
    ]  # fmt: skip
    stored = admin_api(registry)("GET", "/apis/apps/v1/namespaces/kube-system/deployments/coredns").body
    assert stored["spec"]["replicas"] == 3 and stored["metadata"]["generation"] == 2


def test_apply_of_a_kind_whose_crd_is_missing_is_no_matches(registry: Registry, tmp_path: Path) -> None:
    (tmp_path / "w.yaml").write_text("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n---\n" + STORAGE)
    said, errors = _apply(registry, tmp_path / "w.yaml")
    assert said == ["storageclass.storage.k8s.io/local created"]  # the others are applied, as kubectl does
    assert errors == [f'error: resource mapping not found for name: "w" namespace: "" from "{tmp_path}/w.yaml": no '
                      'matches for kind "Widget" in version "example.com/v1"\nensure CRDs are installed first']  # fmt: skip


def test_apply_validates_strictly_by_default(registry: Registry, tmp_path: Path) -> None:
    (tmp_path / "d.yaml").write_text(DNS.replace("replicas: 2", "replicas: 2\n  replica: 2"))
    said, errors = _apply(registry, tmp_path / "d.yaml")
    assert said == ["configmap/coredns created"]
    assert errors == [f'Error from server (BadRequest): error when creating "{tmp_path}/d.yaml": Deployment in version '
                      '"v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.replica"']  # fmt: skip


def test_apply_into_a_missing_namespace_is_not_found(registry: Registry, tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}\n")
    assert _apply(registry, tmp_path / "c.yaml")[1] == [
        f'Error from server (NotFound): error when creating "{tmp_path}/c.yaml": namespaces "shop" not found'
    ]


def _node(registry: Registry, name: str, ready: str | None, role: str = "") -> None:
    labels = {f"node-role.kubernetes.io/{role}": ""} if role else {}
    node: dict[str, Any] = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels}}
    api = admin_api(registry)
    assert api("POST", "/api/v1/nodes", node).status == 201
    if ready is not None:
        status = {"nodeInfo": {"kubeletVersion": "v1.31.4"},
                  "conditions": [{"type": "Ready", "status": ready, "reason": "KubeletNotReady"}]}  # fmt: skip
        assert api("PATCH", "/api/v1/nodes/" + name + "/status", {"status": status}).status == 200


def test_get_nodes_prints_kubectls_columns_with_status_from_the_ready_condition(
    registry: Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    _node(registry, "cp1", "True", "control-plane")
    _node(registry, "cp2", "False", "control-plane")
    _node(registry, "w1", None)
    assert get(admin_api(registry), ["nodes"], "default", False, "", "") == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert rows[0] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert [(r[0], r[1], r[2]) for r in rows[1:]] == [
        ("cp1", "Ready", "control-plane"), ("cp2", "NotReady", "control-plane"), ("w1", "Unknown", "<none>")
    ]  # fmt: skip
    assert rows[1][4] == "v1.31.4"
    assert node_status({"spec": {"unschedulable": True}, "status": {"conditions": [
        {"type": "Ready", "status": "True"}]}}) == "Ready,SchedulingDisabled"  # fmt: skip


def test_get_prints_json_yaml_and_names(registry: Registry, capsys: pytest.CaptureFixture[str]) -> None:
    _node(registry, "cp1", "True")
    api = admin_api(registry)
    get(api, ["no", "cp1"], "default", False, "json", "")
    assert json.loads(capsys.readouterr().out)["metadata"]["name"] == "cp1"
    get(api, ["namespaces"], "default", False, "yaml", "")
    assert yaml.safe_load(capsys.readouterr().out)["kind"] == "List"
    get(api, ["deploy"], "kube-system", False, "", "")
    assert capsys.readouterr().err == "No resources found in kube-system namespace.\n"
    get(api, ["node"], "x", False, "name", "")
    assert capsys.readouterr().out == "node/cp1\n"


def test_get_of_a_missing_object_is_not_found_from_the_server(registry: Registry) -> None:
    with pytest.raises(ServerError) as caught:
        get(admin_api(registry), ["deployments", "web"], "default", False, "", "")
    assert str(caught.value) == 'Error from server (NotFound): deployments.apps "web" not found'


def test_get_of_an_unknown_type_is_refused(registry: Registry) -> None:
    with pytest.raises(KubectlError, match=r'^the server doesn\'t have a resource type "widgets"$'):
        get(admin_api(registry), ["widgets"], "default", False, "", "")


def test_wait_for_a_condition_times_out_as_kubectl_does(registry: Registry, capsys: pytest.CaptureFixture[str]) -> None:
    _node(registry, "cp1", "True")
    _node(registry, "cp2", "False")
    api = admin_api(registry)
    assert wait(api, ["node/cp1"], "default", "condition=Ready", "1s") == 0
    assert capsys.readouterr().out == "node/cp1 condition met\n"
    with pytest.raises(KubectlError, match=r"^timed out waiting for the condition on nodes/cp2$"):
        wait(api, ["nodes", "cp2"], "default", "condition=Ready", "1s")
    with pytest.raises(KubectlError, match=r"^condition not met for nodes/cp2$"):
        wait(api, ["node/cp2"], "default", "condition=Ready", "0")
    assert wait(api, ["node/cp2"], "default", "condition=ready=false", "0") == 0


def test_a_deployment_never_becomes_available_in_the_lab(registry: Registry, tmp_path: Path) -> None:
    (tmp_path / "d.yaml").write_text(DNS)
    _apply(registry, tmp_path / "d.yaml")
    with pytest.raises(KubectlError, match=r"^condition not met for deployments.apps/coredns$"):
        wait(admin_api(registry), ["deployment/coredns"], "kube-system", "condition=Available", "0s")


def test_delete_removes_and_reports_missing_objects(registry: Registry, capsys: pytest.CaptureFixture[str]) -> None:
    _node(registry, "cp1", None)
    api = admin_api(registry)
    assert delete(api, ["nodes", "cp1"], None, None, False) == 0
    assert capsys.readouterr().out == 'node "cp1" deleted\n'
    assert delete(api, ["nodes", "cp1"], None, None, False) == 1
    assert capsys.readouterr().err == 'Error from server (NotFound): nodes "cp1" not found\n'
    assert delete(api, ["nodes", "cp1"], None, None, True) == 0
