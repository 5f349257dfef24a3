"""kubeadm's external etcd floor, judged before kubeadm runs: the floor table, and the lab's own spec
(Debian 12's etcd 3.4.23 as the external etcd of a v1.31 kubeadm) refused with what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from khatui.facts.model import NodeFacts
from khatui.facts.probe import PATH_EXECUTABLES
from khatui.preflight import upstream
from khatui.preflight.checks import Status, preflight
from khatui.spec.cluster import Cluster
from khatui.spec.validate import validate_data
from khatui_lab.labspec import lab_spec_data
from khatui_lab.layout import DEFAULT_NODES, parse_subnet, plan_layout

DEBIAN12_ETCD = "etcd Version: 3.4.23"
"""`etcd --version`'s first line for Debian 12's etcd-server (recorded on this project's machine)."""
TRIXIE_ETCD = "etcd Version: 3.5.16"


def lab_cluster(tmp_path: Path, kubernetes: str = "", **etcd: str) -> Cluster:
    """The spec `khatui lab up` writes for the default lab, with `etcd` fields and the version changed."""
    data = lab_spec_data(plan_layout("khatui", parse_subnet("10.77.0.0/24"), DEFAULT_NODES), tmp_path / "id")
    data["spec"]["etcd"] |= etcd
    if kubernetes:
        data["spec"]["controlPlane"] = {"kubernetesVersion": kubernetes}
    cluster = validate_data(data).cluster
    assert cluster is not None
    return cluster


def etcd_cells(cluster: Cluster, etcd_line: str) -> list[tuple[str, Status, str]]:
    facts = {n.name: NodeFacts(n.name, binaries={"etcd": etcd_line}) for n in cluster.spec.nodes}
    return [(r.node, r.status, r.evidence) for r in preflight(cluster, facts) if r.check == "etcd-version"]


@pytest.mark.parametrize(
    ("kubernetes", "floor"),
    [
        ("v1.31.0", "3.5.11-0"),
        ("v1.31.4", "3.5.11-0"),
        ("v1.31.14", "3.5.24-0"),
        ("v1.32.0", "3.5.16-0"),
        ("v1.32.9", "3.5.16-0"),
        ("v1.32.10", "3.5.24-0"),
        ("v1.33.5", "3.5.21-0"),
        ("v1.33.6", "3.5.24-0"),
        ("v1.30.5", None),
        ("v1.29.0", None),
    ],
)
def test_etcd_floor_table(kubernetes: str, floor: str | None) -> None:
    found = upstream.etcd_floor(kubernetes)
    assert (found.floor if found else None) == floor


def test_todays_lab_spec_is_refused_with_what_to_do(tmp_path: Path) -> None:
    """The lab's spec (stacked, runAs: systemd, kubernetesVersion v1.31.4) on Debian 12's etcd 3.4.23."""
    cluster = lab_cluster(tmp_path)
    cells = etcd_cells(cluster, DEBIAN12_ETCD)
    assert cluster.spec.control_plane.kubernetes_version == "v1.31.4"
    failed = {node for node, status, _ in cells if status is Status.FAIL}
    assert failed == {"cp1", "cp2", "cp3"}
    (evidence,) = {e for node, _, e in cells if node in failed}
    assert evidence == (
        "installed etcd (etcd Version: 3.4.23) is older than 3.5.11-0, the oldest external etcd kubeadm v1.31.4 "
        'accepts: its ExternalEtcdVersion check fails with "this version of kubeadm only supports external etcd '
        'version >= 3.5.11-0. Current version: 3.4.23". install an etcd of at least that version here (or use '
        "etcd.runAs: static-pod with etcd.version >= 3.5.11)"
    )


def test_lab_spec_passes_with_trixies_etcd(tmp_path: Path) -> None:
    cells = etcd_cells(lab_cluster(tmp_path), TRIXIE_ETCD)
    assert {status for _, status, _ in cells} == {Status.PASS}


def test_static_pod_etcd_is_judged_by_the_spec_version(tmp_path: Path) -> None:
    cluster = lab_cluster(tmp_path, "v1.32.10", runAs="static-pod", version="3.5.16")
    (evidence,) = {e for _, status, e in etcd_cells(cluster, DEBIAN12_ETCD) if status is Status.FAIL}
    assert evidence.startswith("etcd.version 3.5.16 (static pod image) is older than 3.5.24-0")
    assert evidence.endswith("set etcd.version >= 3.5.24")


def test_a_systemd_member_khatui_installs_is_judged_by_the_version_it_installs(tmp_path: Path) -> None:
    """With install on, Debian 12's old etcd on the node is what the rollout replaces, not the answer."""
    data = lab_cluster(tmp_path).model_dump(by_alias=True, mode="json")
    data["spec"]["install"] = {"enabled": True}
    cells = etcd_cells(Cluster.model_validate(data), DEBIAN12_ETCD)
    members = {e for node, status, e in cells if node.startswith("cp") and status is Status.PASS}
    assert members == {"etcd 3.5.16 >= 3.5.11-0 (kubeadm v1.31.4's MinExternalEtcdVersion)"}


def test_unrecorded_kubeadm_versions_warn(tmp_path: Path) -> None:
    cluster = lab_cluster(tmp_path, "v1.30.5")
    statuses = {status for node, status, _ in etcd_cells(cluster, DEBIAN12_ETCD) if node.startswith("cp")}
    assert statuses == {Status.WARN}


@pytest.mark.parametrize("minor", range(29, 34))
def test_the_probe_looks_up_every_executable_kubeadm_needs(minor: int) -> None:
    assert {e.name for e in upstream.kubeadm_executables(minor)} <= set(PATH_EXECUTABLES)
