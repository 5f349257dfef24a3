"""Plan building as data (pyinfra's tests/operations/*/*.json): each file in tests/plan/fixtures/ is a
spec and what the nodes look like, and the steps the plan must then hold. One test loads them all.

A fixture (YAML) has:

- `example`: an example under assets/examples/ (without `.yaml`), or `spec`: an inline spec document;
  `set` ({dotted.path: value}) and `remove_nodes` ([names]) edit it.
- `facts`: absent -> planned offline. Otherwise every node starts converged — every file of the spec in
  place, kubeadm done, its services active — (`converged: example` converges it to the example before
  `set`; `contents: true` records the non-secret contents too, so header-only changes are seen), then
  `nodes: {name: {stale: [paths], missing: [paths], services: {unit: state}, kubeadm: false,
  uninstalled: [packages], facts: {NodeFacts field: value}}}` edits it. A converged node has apt-get,
  every package of `distro.names` (version 1.0), no swap and every module of its modules-load.d files loaded.
- `install: true` plans the install phases (left out otherwise, so other fixtures need not list
  their no-ops); a node's `binaries: {name: version line}` edits what it reports, `bare: true` says
  it has no release binary at all.
- `smoke: true` plans the verification's smoke test (`apply --smoke`).
- `token`, `cert_summaries` ({node: {path: summary}}), `redo` ([step ids]), `phases` ([names]: compose
  those phases only) and `mirror_key` (the package mirror's key, as text).
- `expect`: `phases` (non-empty phases in order), `requires` ({phase: [phases]}), `nodes` ({phase: [nodes
  with steps]}), `changes`, `noops` (every no-op step -> its reason, exactly), `absent` ([step ids]),
  `secrets`, `essential`, and `steps` ({step id: {noop, check, actions}}): `actions` is the exact list
  of `{run: command}`, `{wait: command}` and `{upload: path}` (a wait's `judge`: `{is: class, field: [values]}`; an upload's `secret: true`, `summary` when set, and
  `contains`: text the uploaded content must hold).

Every node gets a stand-in CA certificate, and etcd members a stand-in peer key, so the pki phase and
the discovery kubeconfig have something to carry without issuing real certificates.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from khatui.facts.distro import Family, names
from khatui.facts.model import NodeFacts
from khatui.plan.compose import build_plan
from khatui.plan.context import KUBEADM_DONE
from khatui.plan.model import Action, Plan, Run, Step, Transfer, Upload
from khatui.plan.phases import rollout_phases
from khatui.plan.phases.node_settings import MODULES_DIR, modules_of
from khatui.render import render_cluster
from khatui.render.files import FileKind, RenderedFile
from khatui.spec.cluster import Cluster
from khatui.spec.yamlio import load_file
from tests.conftest import ROOT

FIXTURES = Path(__file__).parent / "fixtures"
CASES = sorted(FIXTURES.glob("*.yaml"))
TOKEN = "abcdef.0123456789abcdef"
INSTALLED = {
    "kubeadm": "v1.31.4",
    "kubelet": "Kubernetes v1.31.4",
    "kubectl": "Client Version: v1.31.4",
    "containerd": "containerd github.com/containerd/containerd v1.7.24 88bf19b2105c8b17560993bee28a01ddc2f97182",
    "runc": "runc version 1.2.3",
    "crictl": "crictl version v1.31.1",
}
"""What a converged node's release binaries print: the versions khatui installs by default."""
SERVICES = {
    "etcd": "active",
    "haproxy": "active",
    "keepalived": "active",
    "nginx": "active",
    "kubelet": "active",
    "containerd": "active",
}


def example_data(name: str) -> dict[str, Any]:
    data: dict[str, Any] = load_file(str(ROOT / "assets/examples" / f"{name}.yaml")).data
    return data


def cluster_of(case: dict[str, Any], edited: bool = True) -> Cluster:
    """The fixture's spec (`edited=False`: before `set` and `remove_nodes`)."""
    data = copy.deepcopy(case["spec"]) if "spec" in case else example_data(case["example"])
    data["spec"].setdefault("install", {}).setdefault("enabled", bool(case.get("install", False)))
    if edited:
        for dotted, value in case.get("set", {}).items():
            *parents, key = dotted.split(".")
            target = data
            for part in parents:
                target = target[part]
            target[key] = value
        removed = set(case.get("remove_nodes", []))
        data["spec"]["nodes"] = [n for n in data["spec"]["nodes"] if n["name"] not in removed]
    return Cluster.model_validate(data)


def files_of(cluster: Cluster) -> list[RenderedFile]:
    """The rendered files plus the stand-in PKI (see the module docstring)."""
    ca = [
        RenderedFile(n.name, "/etc/kubernetes/pki/ca.crt", b"CA CERT", FileKind.CERTIFICATE, "pki", 0o644)
        for n in cluster.spec.nodes
    ]
    keys = [
        RenderedFile(n.name, "/etc/kubernetes/pki/etcd/peer.key", b"KEY", FileKind.KEY, "pki", 0o600)
        for n in cluster.spec.nodes
        if "etcd" in n.roles
    ]
    return [*render_cluster(cluster), *ca, *keys]


def _as_field(name: str, value: Any) -> Any:
    """A fixture's YAML list as the NodeFacts field `name` holds it (a frozenset or a tuple)."""
    default = getattr(NodeFacts("n"), name)
    return type(default)(value) if isinstance(default, frozenset | tuple) else value


def facts_of(case: dict[str, Any], cluster: Cluster) -> dict[str, NodeFacts] | None:
    """The nodes as the fixture describes them (None: offline)."""
    spec = case.get("facts")
    if spec is None:
        return None
    source = cluster_of(case, edited=False) if spec.get("converged", "spec") == "example" else cluster
    files = files_of(source)
    facts = {}
    for node in cluster.spec.nodes:
        mine = [f for f in files if f.node == node.name]
        edit = spec.get("nodes", {}).get(node.name, {})
        hashes = {f.path: hashlib.sha256(f.data).hexdigest() for f in mine}
        hashes |= {path: "f" * 64 for path in edit.get("stale", [])}
        for path in edit.get("missing", []):
            hashes.pop(path, None)
        if edit.get("kubeadm", True):
            hashes[KUBEADM_DONE] = "0" * 64
        contents = {f.path: f.data for f in mine if f.kind is not FileKind.KEY} if spec.get("contents") else {}
        services = SERVICES | edit.get("services", {})
        bare = edit.get("bare", False)
        binaries = {} if bare else {**INSTALLED, "etcd": f"etcd Version: {cluster.spec.etcd.version}"}
        binaries |= edit.get("binaries", {})
        installed = {p: "1.0" for family in Family for p in names(family) if p not in edit.get("uninstalled", [])}
        modules = frozenset(m for f in mine if f.path.startswith(MODULES_DIR) for m in modules_of(f))
        converged = NodeFacts(
            node.name,
            arch="x86_64",
            binaries=binaries,
            cni_version="" if bare else "CNI loopback plugin v1.4.0",
            file_hashes=hashes,
            file_contents=contents,
            services=services,
            package_manager="apt-get",
            packages=installed,
            modules_loaded=modules,
        )
        facts[node.name] = replace(converged, **{k: _as_field(k, v) for k, v in edit.get("facts", {}).items()})
    return facts


def plan_of(case: dict[str, Any]) -> Plan:
    cluster = cluster_of(case)
    rollout = rollout_phases(smoke=case.get("smoke", False))
    by_name = {phase.name: phase for phase in rollout}
    phases = [by_name[name] for name in case["phases"]] if "phases" in case else rollout
    return build_plan(
        cluster,
        files_of(cluster),
        "spec-hash",
        facts_of(case, cluster),
        case.get("token", TOKEN),
        {(node, path): text for node, paths in case.get("cert_summaries", {}).items() for path, text in paths.items()},
        redo=frozenset(case.get("redo", [])),
        phases=phases,
        mirror_key=case.get("mirror_key", "").encode(),
    )


def action_record(action: Action, expected: dict[str, Any]) -> dict[str, Any]:
    """An action as a fixture writes it; `contains` is checked against the upload's content."""
    if isinstance(action, Upload):
        record: dict[str, Any] = {"upload": action.path}
        if action.secret:
            record["secret"] = True
        if action.summary:
            record["summary"] = action.summary
        if "contains" in expected:
            assert expected["contains"].encode() in action.content, f"{action.path} lacks {expected['contains']!r}"
            record["contains"] = expected["contains"]
        return record
    if isinstance(action, Transfer):
        return {"transfer": action.path, "url": action.url}
    if isinstance(action, Run):
        return {"run": str(action.command)}
    waits: dict[str, Any] = {"wait": str(action.command)}
    if "judge" in expected and action.judge is not None:
        waits["judge"] = judge_record(action.judge)
    return waits


def judge_record(judge: object) -> dict[str, Any]:
    """A judge as a fixture writes it: its class, then each field as a list of words."""
    fields = {f.name: [str(v) for v in getattr(judge, f.name)] for f in dataclasses.fields(judge)}  # type: ignore[arg-type]
    return {"is": type(judge).__name__, **fields}


def step_record(step: Step, expected: dict[str, Any]) -> dict[str, Any]:
    """The parts of `step` that `expected` names."""
    record: dict[str, Any] = {}
    if "noop" in expected:
        record["noop"] = step.noop_reason
    if "check" in expected:
        record["check"] = None if step.check is None else str(step.check)
    if "actions" in expected:
        wanted = expected["actions"] + [{}] * len(step.actions)
        record["actions"] = [action_record(a, e) for a, e in zip(step.actions, wanted, strict=False)]
    return record


def outcome(plan: Plan, expect: dict[str, Any]) -> dict[str, Any]:
    """What the plan holds, in the shape (and only the parts) of `expect`."""
    ids = {s.id for s in plan.steps()}
    views: dict[str, Callable[[], Any]] = {
        "phases": lambda: [p.name for p in plan.phases],
        "requires": lambda: {p.name: list(p.requires) for p in plan.phases if p.name in expect["requires"]},
        "nodes": lambda: {p.name: p.nodes() for p in plan.phases if p.name in expect["nodes"]},
        "changes": plan.changes,
        "noops": lambda: {s.id: s.noop_reason for s in plan.steps() if s.is_noop},
        "absent": lambda: [i for i in expect["absent"] if i not in ids],
        "secrets": lambda: list(plan.secrets),
        "essential": lambda: plan.essential,
        "steps": lambda: {
            i: step_record(plan.step(i), e) if i in ids else "missing" for i, e in expect["steps"].items()
        },
    }
    unknown = set(expect) - set(views)
    assert not unknown, f"unknown expectations: {sorted(unknown)}"
    return {key: views[key]() for key in expect}


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_plan_fixture(path: Path) -> None:
    case = yaml.safe_load(path.read_text())
    expect = case["expect"]
    plan = plan_of(case)
    ids = [s.id for s in plan.steps()]
    assert len(ids) == len(set(ids)), f"step ids twice: {sorted({i for i in ids if ids.count(i) > 1})}"
    assert outcome(plan, expect) == expect


def test_a_node_not_in_the_plan_is_reported_as_missing() -> None:
    """The loader's own check: a step id the plan lacks fails the fixture rather than passing quietly."""
    case: dict[str, Any] = {
        "example": "single-node-lab",
        "expect": {"steps": {"pki/nobody/certificates": {"noop": None}}},
    }
    assert outcome(plan_of(case), case["expect"])["steps"] == {"pki/nobody/certificates": "missing"}
