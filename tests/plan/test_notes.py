"""A spec that asks something of the nodes no step can check (kubeadm pulling no image) says so: the
kubeadm configuration carries it, and the plan notes it for every view and the rollout log."""

from __future__ import annotations

from typing import Any

import yaml

from khatui.views.preview import plan_to_json
from tests.plan.test_fixtures import files_of, plan_of


def _registrations(case: dict[str, Any]) -> list[dict[str, Any]]:
    from tests.plan.test_fixtures import cluster_of

    found = []
    for file in files_of(cluster_of(case)):
        if file.path.endswith(("kubeadm-init.yaml", "kubeadm-join.yaml")):
            for doc in yaml.safe_load_all(file.data):
                if doc and "nodeRegistration" in doc:
                    found.append(doc["nodeRegistration"])
    return found


def test_image_pull_policy_reaches_every_node_registration_and_the_plan_notes_it() -> None:
    case = {"example": "stacked-haproxy-ipvs-nfs", "set": {"spec.controlPlane": {"imagePullPolicy": "Never"}}}
    registrations = _registrations(case)
    assert registrations and all(r["imagePullPolicy"] == "Never" for r in registrations)
    plan = plan_of(case)
    assert len(plan.notes) == 1 and "imagePullPolicy: Never" in plan.notes[0]
    assert plan_to_json(plan)["notes"] == list(plan.notes)


def test_the_default_policy_writes_nothing_and_notes_nothing() -> None:
    case = {"example": "stacked-haproxy-ipvs-nfs"}
    assert all("imagePullPolicy" not in r for r in _registrations(case))
    assert plan_of(case).notes == ()


def test_no_pod_network_is_noted_and_the_verification_does_not_wait_for_ready_nodes() -> None:
    from khatui.plan.compose import notes
    from khatui.spec.cluster import Cluster
    from khatui.spec.yamlio import load_file
    from tests.conftest import ROOT

    data = load_file(str(ROOT / "assets/examples/stacked-haproxy-ipvs-nfs.yaml")).data
    data["spec"]["network"] = {"plugin": "none"}
    found = notes(Cluster.model_validate(data))
    assert len(found) == 1 and "network.plugin: none" in found[0] and "NotReady" in found[0]
