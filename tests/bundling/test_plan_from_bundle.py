"""Planning from an air-gapped bundle: what each node gets from it, and a bad bundle failing the plan."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest

from khatui.errors import InputError
from khatui.facts.model import NodeFacts
from khatui.plan.compose import build_plan
from khatui.plan.model import Plan, Run, Transfer
from khatui.render import render_cluster
from khatui.spec.cluster import Cluster
from khatui.spec.yamlio import load_file
from tests.bundling.handmade import IMAGES, bundle_spec, write_bundle
from tests.conftest import ROOT


def _spec(tmp_path: Path) -> dict[str, Any]:
    data = load_file(str(ROOT / "assets/examples/single-node-lab.yaml")).data
    out = tmp_path / "bundle"
    return bundle_spec(data, out, write_bundle(out, Cluster.model_validate(data)))


def _cluster(tmp_path: Path) -> Cluster:
    return Cluster.model_validate(_spec(tmp_path))


def _plan(cluster: Cluster, facts: dict[str, NodeFacts] | None) -> Plan:
    return build_plan(cluster, render_cluster(cluster), "hash", facts, "abcdef.0123456789abcdef")


NODE = {"package_manager": "apt-get", "arch": "x86_64"}
CASES: list[tuple[str, dict[str, Any] | None, dict[str, Any]]] = [
    # (case, the node's facts (None: offline), step id -> [(action type, what)] or its no-op reason)
    (
        "bare node: every file from the bundle",
        NODE,
        {
            "packages/node1/packages": [
                ("transfer", "/var/lib/khatui/packages/kubernetes_1%3a2.0_amd64.deb"),
                ("transfer", "/var/lib/khatui/packages/libdep_1.0_amd64.deb"),
                ("transfer", "/var/lib/khatui/packages/haproxy_1%3a2.0_amd64.deb"),
                ("run", "sh -c"),
            ],
            "images/node1/images": [
                ("transfer", "/var/lib/khatui/images/registry.k8s.io_pause_3.10.tar"),
                ("transfer", "/var/lib/khatui/images/registry.k8s.io_kube-apiserver_v1.31.4.tar"),
                ("run", "ctr -n k8s.io images import /var/lib/khatui/images/registry.k8s.io_pause_3.10.tar"),
                (
                    "run",
                    "ctr -n k8s.io images import /var/lib/khatui/images/registry.k8s.io_kube-apiserver_v1.31.4.tar",
                ),
            ],
            "kube-tools/node1/kubeadm": [("transfer", "/var/lib/khatui/artifacts/"), ("run", "install -D -m 0755")],
        },
    ),
    (
        "containerd holds one image: only the other is imported",
        {**NODE, "images": frozenset({IMAGES[0]})},
        {
            "images/node1/images": [
                ("transfer", "/var/lib/khatui/images/registry.k8s.io_kube-apiserver_v1.31.4.tar"),
                (
                    "run",
                    "ctr -n k8s.io images import /var/lib/khatui/images/registry.k8s.io_kube-apiserver_v1.31.4.tar",
                ),
            ],
        },
    ),
    (
        "containerd holds every image: a no-op naming them",
        {**NODE, "images": frozenset(IMAGES)},
        {"images/node1/images": f"containerd holds {', '.join(IMAGES)}"},
    ),
    (
        "offline: planned as a bare node",
        None,
        {"images/node1/images": [("transfer", ""), ("transfer", ""), ("run", ""), ("run", "")]},
    ),
]


def _shape(plan: Plan, step_id: str) -> Any:
    step = plan.step(step_id)
    if step.is_noop:
        return step.noop_reason
    return [("transfer", a.path) if isinstance(a, Transfer) else ("run", str(a.command)) for a in step.actions]  # type: ignore[union-attr]


@pytest.mark.parametrize(("case", "node", "expected"), CASES, ids=[c[0] for c in CASES])
def test_a_bundle_node_gets_its_files_from_the_bundle(
    tmp_path: Path, case: str, node: dict[str, Any] | None, expected: dict[str, Any]
) -> None:
    cluster = _cluster(tmp_path)
    plan = _plan(cluster, None if node is None else {"node1": NodeFacts("node1", **node)})
    for step_id, wanted in expected.items():
        shape = _shape(plan, step_id)
        if isinstance(wanted, str):
            assert shape == wanted
        else:
            assert [
                (kind, what[: len(prefix)]) for (kind, what), (_, prefix) in zip(shape, wanted, strict=True)
            ] == wanted
    for action in (a for s in plan.steps() for a in s.actions if isinstance(a, Transfer)):
        assert action.local.startswith(str(tmp_path / "bundle") + "/"), action  # nothing from the cache or the net


def test_packages_are_installed_without_downloading(tmp_path: Path) -> None:
    plan = _plan(_cluster(tmp_path), {"node1": NodeFacts("node1", package_manager="apt-get")})
    run = plan.step("packages/node1/packages").actions[-1]
    assert isinstance(run, Run)
    words = shlex.split(str(run.command))
    assert words[:2] == ["sh", "-c"] and "--no-download" in words[2] and words[3] == "khatui-packages"
    assert words[4:] == [
        "/var/lib/khatui/packages/kubernetes_1%3a2.0_amd64.deb",
        "/var/lib/khatui/packages/libdep_1.0_amd64.deb",
        "/var/lib/khatui/packages/haproxy_1%3a2.0_amd64.deb",
    ]


def test_a_dnf_node_installs_with_every_repository_off_but_a_debian_bundle_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"node1: installs rhel packages, but the bundle .* holds debian 12"):
        _plan(_cluster(tmp_path), {"node1": NodeFacts("node1", package_manager="dnf")})


def _corrupt(out: Path) -> str:
    victim = next((out / "binaries").rglob("kubelet"))
    victim.write_bytes(b"tampered\n")
    return rf"{victim}: corrupt: sha256 [0-9a-f]{{64}}, the bundle's manifest says [0-9a-f]{{64}}$"


def _missing(out: Path) -> str:
    victim = out / "images/registry.k8s.io_pause_3.10.tar"
    victim.unlink()
    return rf"{victim}: missing from the bundle \(its manifest lists it\)$"


def _no_manifest(out: Path) -> str:
    (out / "manifest.json").unlink()
    return rf"{out}/manifest.json: missing; spec.install.bundle names a folder `khatui bundle` wrote$"


def _bad_manifest(out: Path) -> str:
    data = json.loads((out / "manifest.json").read_text())
    data["files"][0]["path"] = "../../etc/passwd"
    (out / "manifest.json").write_text(json.dumps(data))
    return r"manifest.json: files.0.path: Value error, .*no . or .. component"


def _other_format(out: Path) -> str:
    data = json.loads((out / "manifest.json").read_text())
    data["format"] = 9
    (out / "manifest.json").write_text(json.dumps(data))
    return r"manifest.json: bundle format 9; this khatui reads format 1$"


def _not_json(out: Path) -> str:
    (out / "manifest.json").write_text("{")
    return r"manifest.json: not JSON"


def _symlinked(out: Path) -> str:
    victim = next((out / "binaries").rglob("kubeadm"))
    victim.unlink()
    victim.symlink_to("/etc/hostname")
    return rf"{victim} is a symlink"


BAD = [_corrupt, _missing, _no_manifest, _bad_manifest, _other_format, _not_json, _symlinked]


@pytest.mark.parametrize("spoil", BAD, ids=lambda f: f.__name__.strip("_"))
def test_a_bad_bundle_fails_the_plan_naming_the_file(tmp_path: Path, spoil: Any) -> None:
    cluster = _cluster(tmp_path)
    pattern = spoil(tmp_path / "bundle")
    with pytest.raises(InputError, match=pattern) as caught:
        _plan(cluster, None)
    assert "\n" not in str(caught.value)


def test_plan_exits_2_on_a_corrupt_bundle_file(tmp_path: Path, cli: Any) -> None:
    spec = tmp_path / "cluster.yaml"
    spec.write_text(json.dumps(_spec(tmp_path)))
    pattern = _corrupt(tmp_path / "bundle")
    result = cli("plan", spec, "--offline")
    assert result.code == 2, result
    assert any(re.search(pattern.rstrip("$"), line) for line in result.err.splitlines()), result.err
