"""The catalog: which certificates each node needs, with which SANs, and where each file goes."""

from __future__ import annotations

import builtins
import os
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

import pytest

from khatui import nodepaths
from khatui.errors import InputError
from khatui.pki.ca_names import CAName
from khatui.pki.catalog import LeafKind, LeafSpec, Profile, build_catalog
from khatui.pki.issuing import fresh_pki
from khatui.spec.cluster import Cluster
from khatui.spec.validate import validate_file
from tests.pki.conftest import EXAMPLES, EXTERNAL, STACKED


def load(path: Path) -> Cluster:
    report = validate_file(str(path), check_local_files=False)
    assert report.cluster is not None
    return report.cluster


def sans_of(leaves: Sequence[LeafSpec], label: str) -> list[str]:
    leaf = next(leaf for leaf in leaves if leaf.label == label)
    return [san.value for san in leaf.sans]


def test_stacked_cluster_needs_three_leaves_per_member_and_three_per_control_plane() -> None:
    catalog = build_catalog(load(STACKED))
    labels = [leaf.label for leaf in catalog.leaves]
    for node in ("cp1", "cp2", "cp3"):
        for kind in LeafKind:
            assert f"{node}/{kind.value}" in labels
    assert len(labels) == 18 and len(set(labels)) == 18
    assert [a.common_name for a in catalog.authorities] == ["etcd-ca", "kubernetes", "front-proxy-ca"]
    assert catalog.validity_hours == 43800 and catalog.ca_validity_hours == 87600


def test_apiserver_sans_cover_vip_masters_service_names_and_service_ip() -> None:
    catalog = build_catalog(load(STACKED))
    sans = sans_of(catalog.leaves, "cp2/apiserver")
    for required in (
        "10.20.0.100",  # the VIP
        "10.20.0.11", "10.20.0.12", "10.20.0.13",  # every master
        "cp2", "localhost", "127.0.0.1", "::1",
        "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local",
        "10.96.0.1",  # first address of serviceCIDR 10.96.0.0/12
        "api.prod.example.com",  # extraSANs
    ):  # fmt: skip
        assert required in sans
    assert len(sans) == len(set(sans))
    leaf = next(leaf for leaf in catalog.leaves if leaf.label == "cp2/apiserver")
    reasons = {san.value: san.why for san in leaf.sans}
    assert reasons["10.20.0.100"] == "the VIP"
    assert "Service IP" in reasons["10.96.0.1"]


def test_external_lb_address_is_in_the_apiserver_cert() -> None:
    catalog = build_catalog(load(EXTERNAL))
    leaf = next(leaf for leaf in catalog.leaves if leaf.kind is LeafKind.APISERVER)
    reasons = {san.value: san.why for san in leaf.sans}
    assert reasons["k8s-api.example.com"] == "the load balancer address"


def test_etcd_leaves_use_the_guide_profiles_and_client_certs_have_no_sans() -> None:
    catalog = build_catalog(load(EXTERNAL))
    by_label = {leaf.label: leaf for leaf in catalog.leaves}
    assert by_label["etcd1/etcd-peer"].profile is Profile.PEER
    assert by_label["etcd1/etcd-server"].profile is Profile.PEER  # etcd's gateway also dials with it
    assert by_label["etcd1/etcd-healthcheck-client"].profile is Profile.CLIENT
    assert by_label["master1/apiserver"].profile is Profile.SERVER
    assert by_label["master1/apiserver-etcd-client"].issuer is CAName.ETCD
    assert by_label["master1/front-proxy-client"].issuer is CAName.FRONT_PROXY
    for leaf in catalog.leaves:
        if leaf.profile is Profile.CLIENT:
            assert leaf.sans == ()
    assert sans_of(catalog.leaves, "etcd2/etcd-server")[:2] == ["etcd2", "10.30.0.12"]
    assert {"localhost", "127.0.0.1", "::1"} <= set(sans_of(catalog.leaves, "etcd2/etcd-peer"))


def test_placements_follow_kubeadm_layout() -> None:
    catalog = build_catalog(load(STACKED))
    cp1 = {p.dest: p for p in catalog.for_node("cp1")}
    assert cp1[nodepaths.CA_KEY].file == "ca/kubernetes.key" and cp1[nodepaths.CA_KEY].secret
    assert cp1[nodepaths.SA_PUB].file == "ca/sa.pub" and not cp1[nodepaths.SA_PUB].secret
    assert cp1[nodepaths.ETCD_SERVER_CERT].file == "nodes/cp1/etcd-server.crt"
    assert cp1[nodepaths.APISERVER_KEY].file == "nodes/cp1/apiserver.key"
    assert cp1[PurePosixPath("/etc/kubernetes/pki/front-proxy-client.crt")].file == "nodes/cp1/front-proxy-client.crt"
    assert cp1[nodepaths.ETCD_CA_KEY].file == "ca/etcd.key"  # stacked: kubeadm on each master wants it
    assert catalog.for_node("lb1") == [] and catalog.for_node("worker1") == []
    for placement in catalog.placements:
        assert placement.secret == placement.file.endswith(".key")


def test_external_etcd_ca_key_stays_in_the_store() -> None:
    catalog = build_catalog(load(EXTERNAL))
    assert all(p.file != "ca/etcd.key" for p in catalog.placements)
    etcd1 = {p.dest: p.file for p in catalog.for_node("etcd1")}
    assert etcd1 == {
        nodepaths.ETCD_CA_CERT: "ca/etcd.crt",
        nodepaths.ETCD_SERVER_CERT: "nodes/etcd1/etcd-server.crt",
        nodepaths.ETCD_SERVER_KEY: "nodes/etcd1/etcd-server.key",
        nodepaths.ETCD_PEER_CERT: "nodes/etcd1/etcd-peer.crt",
        nodepaths.ETCD_PEER_KEY: "nodes/etcd1/etcd-peer.key",
        nodepaths.ETCD_HEALTHCHECK_CERT: "nodes/etcd1/etcd-healthcheck-client.crt",
        nodepaths.ETCD_HEALTHCHECK_KEY: "nodes/etcd1/etcd-healthcheck-client.key",
    }
    master = {p.dest for p in catalog.for_node("master1")}
    assert nodepaths.ETCD_CA_CERT in master and nodepaths.APISERVER_ETCD_CLIENT_KEY in master


def test_select_by_group_kind_and_node() -> None:
    catalog = build_catalog(load(STACKED))
    etcd = catalog.select(["etcd"])
    assert {leaf.issuer for leaf in etcd} == {CAName.ETCD}
    assert any(leaf.kind is LeafKind.APISERVER_ETCD_CLIENT for leaf in etcd)
    assert [leaf.label for leaf in catalog.select(["apiserver"])] == ["cp1/apiserver", "cp2/apiserver", "cp3/apiserver"]
    assert {leaf.node for leaf in catalog.select(["cp2"])} == {"cp2"}
    assert len(catalog.select([])) == len(catalog.leaves)
    with pytest.raises(InputError, match="'nope' matches nothing"):
        catalog.select(["nope"])


def test_single_node_catalog_uses_the_local_proxy_address() -> None:
    catalog = build_catalog(load(EXAMPLES / "single-node-lab.yaml"))
    leaf = next(leaf for leaf in catalog.leaves if leaf.kind is LeafKind.APISERVER)
    assert {"127.0.0.1", "10.77.0.11", "node1"} <= {san.value for san in leaf.sans}


def test_pure_core_turns_a_spec_into_pem_bytes_without_a_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    catalog = build_catalog(load(EXTERNAL))

    def no_disk(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the pure core touched the disk")

    monkeypatch.setattr(builtins, "open", no_disk)
    monkeypatch.setattr(os, "open", no_disk)
    files = fresh_pki(catalog)
    monkeypatch.undo()
    leaves = {f"{leaf.stem}.{ext}" for leaf in catalog.leaves for ext in ("crt", "key")}
    cas = {f"ca/{name}.{ext}" for name in ("etcd", "kubernetes", "front-proxy") for ext in ("crt", "key")}
    assert set(files) == leaves | cas | {"ca/sa.key", "ca/sa.pub"}
    assert all(data.startswith(b"-----BEGIN ") for data in files.values())
    assert {p.file for p in catalog.placements} <= set(files)
