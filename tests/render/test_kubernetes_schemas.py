"""Every Kubernetes object khatui renders (static pods, addons) validates against the official API
schema of the spec's Kubernetes version, in strict mode (unknown fields are errors), offline.

kubernetes-validate ships the OpenAPI-derived JSON schemas of each release inside the package; it
opens no network connection. Kinds that have no schema there (kubeadm's, the kubelet's and
kube-proxy's configuration, kubeconfig files) are checked by test_component_configs instead.
"""

from __future__ import annotations

import socket
from importlib import resources
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml

from khatui.render import FileKind, RenderedFile
from tests.render.variants import file_id, rendered, specs

OBJECT_FILES = [
    (name, file)
    for name, files in rendered().items()
    for file in files
    if file.kind in (FileKind.MANIFEST, FileKind.ADDON)
]


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Validation must work without a network: any connection attempt fails the test."""

    def refuse(*args: object) -> None:
        raise AssertionError(f"network access during schema validation: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def _documents(file: RenderedFile) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(file.text) if doc is not None]


def test_schemas_ship_with_the_package() -> None:
    schemas = resources.files("kubernetes_validate") / "kubernetes-json-schema"
    versions = {p.name for p in schemas.iterdir()}
    for cluster in specs().values():
        minor = cluster.spec.control_plane.kubernetes_version.lstrip("v").rsplit(".", 1)[0]
        assert f"v{minor}.0-local-strict" in versions, f"no strict schemas for Kubernetes {minor}"


def test_every_kind_is_covered() -> None:
    kinds = {doc["kind"] for _, file in OBJECT_FILES for doc in _documents(file)}
    assert kinds >= {
        "Pod", "ConfigMap", "Deployment", "DaemonSet", "Service", "ServiceAccount", "StorageClass",
        "PersistentVolume", "CSIDriver", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Namespace",
    }  # fmt: skip


@pytest.mark.parametrize("item", OBJECT_FILES, ids=file_id)
def test_objects_validate_strictly(item: tuple[str, RenderedFile]) -> None:
    name, file = item
    version = specs()[name].spec.control_plane.kubernetes_version.lstrip("v")
    documents = _documents(file)
    assert documents
    for document in documents:
        try:
            kubernetes_validate.validate(document, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            where = "/".join(str(p) for p in exc.path)
            pytest.fail(f"{document['kind']} {document['metadata'].get('name')}: {where}: {exc.message}")


def test_strict_validation_catches_unknown_fields() -> None:
    """Not vacuous: strict mode rejects a field the API does not have."""
    pod = next(doc for _, file in OBJECT_FILES for doc in _documents(file) if doc["kind"] == "Pod")
    pod = {**pod, "spec": {**pod["spec"], "hostNetworking": True}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(pod, "1.31.0", strict=True)
