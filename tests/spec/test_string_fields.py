"""No string field of the spec accepts a line break: every string value of documents that use every
field of every model (each load-balancer mode, each storage backend) gets a trailing "\n" in turn,
and each must be refused at its own path. A field added to a model without being covered here
fails `test_every_text_field_is_covered`."""

from __future__ import annotations

import enum
import ipaddress
import typing
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from khatui.spec.cluster import Cluster
from khatui.spec.problems import Path
from khatui.spec.validate import validate_data

MONITOR = "10.20.0.6:6789"
FULL_SPEC: dict[str, Any] = {
    "highAvailability": True,
    "nodes": [
        {
            "name": f"cp{i}",
            "address": f"10.20.0.1{i}",
            "roles": ["control-plane", "etcd"],
            "ssh": {
                "user": "ops",
                "port": 22,
                "host": "cp.example.com",
                "identityFile": "~/.ssh/id_ed25519",
                "knownHostsFile": "~/.ssh/known_hosts",
                "jumpHost": "ops@bastion:2222",
                "jumpIdentityFile": "~/.ssh/bastion_ed25519",
                "sudo": True,
                "sudoPasswordEnv": "SUDO_PASSWORD",
            },
        }
        for i in (1, 2, 3)
    ]
    + [{"name": "lb1", "address": "10.20.0.21", "roles": ["lb"]}],
    "etcd": {"topology": "stacked", "runAs": "systemd", "dataDir": "/var/lib/etcd", "version": "3.5.16"},
    "pki": {
        "keyAlgorithm": "rsa-2048",
        "validity": "43800h",
        "extraSANs": ["api.example.com", "10.20.0.200"],
        "ca": {
            "etcd": {"mode": "import", "certFile": "ca.crt", "keyFile": "ca.key", "keyPassphraseEnv": "CA_PASS"},
            "kubernetes": {"mode": "generate"},
        },
    },
    "controlPlane": {
        "kubernetesVersion": "v1.31.4",
        "podCIDR": "10.244.0.0/16",
        "serviceCIDR": "10.96.0.0/12",
        "dnsDomain": "cluster.local",
        "imagePullPolicy": "Never",
    },
    "kubeProxy": {"mode": "ipvs", "ipvsScheduler": "rr"},
    "network": {"plugin": "flannel", "encapsulation": "host-gw", "mtu": 1450},
    "dns": {"memoryLimit": "512Mi", "nodeLocalDNS": {"enabled": True, "address": "169.254.20.10"}},
    "persistence": {
        "classes": [
            {"name": "l", "backend": "local", "reclaimPolicy": "Retain", "paths": ["/mnt/d1"], "capacity": "1Ti"},
            {"name": "n", "backend": "nfs", "server": "nfs.example.com", "path": "/x", "mountOptions": ["hard"]},
            {
                "name": "i",
                "backend": "iscsi",
                "portal": "10.20.0.7:3260",
                "iqn": "iqn.2024-01.com.example:t",
                "fsType": "xfs",
                "capacity": "1Gi",
            },
            {"name": "g", "backend": "glusterfs", "endpoints": ["10.20.0.8"], "volume": "vol0"},
            {
                "name": "c",
                "backend": "ceph-rbd",
                "clusterId": "cid",
                "monitors": [MONITOR],
                "pool": "p",
                "user": "k",
                "secretRef": {"name": "s", "namespace": "ns"},
            },
            {"name": "a", "backend": "aws-ebs", "type": "gp3", "fsType": "ext4"},
            {"name": "p", "backend": "gce-pd", "type": "pd-ssd", "replicationType": "none"},
            {"name": "z", "backend": "azure-disk", "skuName": "Premium_LRS", "cachingMode": "None"},
        ]
    },
}
FULL_SPEC["install"] = {
    "binaries": {
        "fetchOn": "nodes",
        "mirror": "https://files.example.com/k8s",
        "checksums": "sums.txt",
        "containerd": "1.7.24",
        "runc": "1.2.3",
        "cniPlugins": "1.6.1",
        "crictl": "v1.31.1",
    },
    "packages": {
        "mirror": {
            "url": "https://deb.example.com/debian",
            "key": "mirror.asc",
            "suite": "bookworm",
            "components": ["main"],
        }
    },
    "images": {"mirrors": {"registry.k8s.io": ["https://registry.example.com"]}},
}
for _klass in FULL_SPEC["persistence"]["classes"]:
    _klass.setdefault("reclaimPolicy", "Delete")
LOAD_BALANCERS = [
    {"mode": "haproxy-keepalived", "vip": "10.20.0.100", "interface": "eth0"},
    {"mode": "kube-vip", "vip": "10.20.0.100", "interface": "eth0"},
    {"mode": "external", "address": "lb.example.com"},
    {"mode": "local-proxy", "implementation": "nginx"},
]
DOCUMENTS: list[dict[str, Any]] = [
    {
        "apiVersion": "khatui/v1",
        "kind": "Cluster",
        "metadata": {"name": "full"},
        "spec": {**FULL_SPEC, "loadBalancer": lb},
    }
    for lb in LOAD_BALANCERS
]
# A bundle is the only source when given (no mirrors beside it).
DOCUMENTS[-1]["spec"]["install"] = {"bundle": "/srv/khatui-bundle"}


def text_leaves(data: Any, path: Path = ()) -> Iterator[tuple[Path, str]]:
    """(path, value) of every string in `data`."""
    if isinstance(data, str):
        yield path, data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from text_leaves(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from text_leaves(value, (*path, index))


def replaced(data: Any, path: Path, value: Any) -> Any:
    if not path:
        return value
    if isinstance(data, dict):
        return {**data, path[0]: replaced(data[path[0]], path[1:], value)}
    return [replaced(item, path[1:], value) if i == path[0] else item for i, item in enumerate(data)]


LEAVES = sorted({(path, text) for doc in DOCUMENTS for path, text in text_leaves(doc)}, key=str)


def test_the_documents_are_well_shaped() -> None:
    for document in DOCUMENTS:
        Cluster.model_validate(document)


@pytest.mark.parametrize(("path", "text"), LEAVES, ids=[".".join(map(str, p)) for p, _ in LEAVES])
def test_a_trailing_newline_is_refused(path: Path, text: str) -> None:
    document = next(doc for doc in DOCUMENTS if (path, text) in set(text_leaves(doc)))
    for bad in (text + "\n", text + "\r", "\t" + text):
        problems = validate_data(replaced(document, path, bad)).problems
        at = [p for p in problems if p.path == path or (isinstance(path[-1], int) and p.path == path[:-1])]
        assert at and all(p.severity == "error" for p in at), (bad, [str(p) for p in problems])


def _is_text(annotation: Any) -> bool:
    if typing.get_origin(annotation) is typing.Literal:
        return all(isinstance(arg, str) for arg in typing.get_args(annotation))
    if annotation in (str, ipaddress.IPv4Address):
        return True
    return isinstance(annotation, type) and issubclass(annotation, str | enum.Enum)


def _models(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in typing.get_args(annotation):
        yield from _models(arg)


def _scalars(annotation: Any) -> Iterator[Any]:
    if typing.get_origin(annotation) is typing.Literal:
        yield annotation
        return
    args = typing.get_args(annotation)
    if not args:
        yield annotation
    for arg in args:
        if not (isinstance(arg, type) and issubclass(arg, BaseModel)) and arg is not type(None):
            yield from _scalars(arg)


def _text_fields(model: type[BaseModel], seen: set[type[BaseModel]]) -> Iterator[tuple[str, str]]:
    if model in seen:
        return
    seen.add(model)
    for name, info in model.model_fields.items():
        if any(_is_text(scalar) or "IPv" in str(scalar) for scalar in _scalars(info.annotation)):
            yield model.__name__, info.alias or name
        for sub in _models(info.annotation):
            yield from _text_fields(sub, seen)


def _keys_of(models: list[type[BaseModel]], data: Any, found: set[tuple[str, str]]) -> None:
    """(model, key) for every key of `data` read by one of `models` (a union is told apart by its tag)."""
    if isinstance(data, list):
        for item in data:
            _keys_of(models, item, found)
        return
    if not isinstance(data, dict):
        return
    model = next((m for m in models if _tag_matches(m, data)), models[0])
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key in data:
            found.add((model.__name__, key))
            submodels = list(_models(info.annotation))
            if submodels:
                _keys_of(submodels, data[key], found)


def _tag_matches(model: type[BaseModel], data: dict[str, Any]) -> bool:
    for field in ("mode", "backend"):
        info = model.model_fields.get(field)
        if info is not None and typing.get_origin(info.annotation) is typing.Literal:
            return data.get(field) in typing.get_args(info.annotation)
    return True


def test_every_text_field_is_covered() -> None:
    covered: set[tuple[str, str]] = set()
    for document in DOCUMENTS:
        _keys_of([Cluster], document, covered)
    fields = set(_text_fields(Cluster, set()))
    assert len(fields) > 60
    missing = fields - covered
    assert not missing, f"string fields not in the documents: {sorted(missing)}"
