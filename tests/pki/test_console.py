"""The certificate console: list, renew, plan-ca-rotation, and help for every command."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from tests.pki.conftest import CLI, edit_spec, openssl, snapshot, write_spec

KEY_MATERIAL = re.compile(r"PRIVATE KEY|[A-Za-z0-9+/]{60,}")


def generated(tmp_path: Path, cli: CLI) -> tuple[Path, Path]:
    spec = write_spec(tmp_path)
    store = tmp_path / "pki"
    result = cli("certs", "generate", spec, "--dir", store)
    assert result.code == 0 and not KEY_MATERIAL.search(result.out + result.err)
    return spec, store


def test_list_json_describes_every_certificate_without_key_material(stacked_store: tuple[Path, Path], cli: CLI) -> None:
    spec, store = stacked_store
    result = cli("certs", "list", spec, "--dir", store, "--output", "json")
    assert result.code == 0, result.err
    assert not KEY_MATERIAL.search(result.out)
    data = json.loads(result.out)
    assert data["store"] == str(store) and data["warnings"] == []
    rows = {row["label"]: row for row in data["certificates"]}
    assert len(rows) == 3 + 1 + 18
    apiserver = rows["cp1/apiserver"]
    assert apiserver["node"] == "cp1" and apiserver["status"] == "ok"
    assert apiserver["subject"] == "CN=kube-apiserver" and apiserver["issuer"] == "CN=kubernetes"
    assert {"10.20.0.100", "10.96.0.1", "kubernetes.default.svc.cluster.local"} <= set(apiserver["sans"])
    assert 1823 <= apiserver["days_left"] <= 1825
    sha = openssl("x509", "-in", store / "nodes/cp1/apiserver.crt", "-noout", "-fingerprint", "-sha256").stdout
    assert sha.strip().split("=", 1)[1] == apiserver["fingerprint"]
    assert rows["service-account"]["key_algorithm"] == "ecdsa-p256" and rows["service-account"]["fingerprint"]
    assert rows["ca/etcd"]["days_left"] >= 3649


def test_list_yaml_and_table(stacked_store: tuple[Path, Path], cli: CLI) -> None:
    spec, store = stacked_store
    result = cli("certs", "list", spec, "--dir", store, "--output", "yaml")
    assert result.code == 0 and len(yaml.safe_load(result.out)["certificates"]) == 22
    table = cli("certs", "list", spec, "--dir", store)
    assert table.code == 0 and "etcd-healthcheck-client" in table.out and "cp3" in table.out
    assert not KEY_MATERIAL.search(table.out)


def test_list_warns_when_the_apiserver_cert_lacks_the_vip(tmp_path: Path, cli: CLI) -> None:
    spec, store = generated(tmp_path, cli)
    edit_spec(spec, lambda d: d["spec"]["loadBalancer"].update(vip="10.20.0.200"))
    result = cli("certs", "list", spec, "--dir", store, "--output", "json")
    assert result.code == 1
    warnings = json.loads(result.out)["warnings"]
    assert "cp1/apiserver lacks the VIP (10.20.0.200)" in warnings
    assert len([w for w in warnings if "lacks the VIP" in w]) == 3
    # generate keeps them (idempotent) but says so; renew fixes them.
    kept = cli("certs", "generate", spec, "--dir", store)
    assert kept.code == 0 and "unchanged" in kept.out and "lacks the VIP" in kept.err
    assert cli("certs", "renew", spec, "--dir", store, "--only", "apiserver", "--yes").code == 0
    assert cli("certs", "list", spec, "--dir", store, "--output", "json").code == 0


def test_list_flags_missing_and_expiring(tmp_path: Path, cli: CLI) -> None:
    spec, store = generated(tmp_path, cli)
    (store / "nodes" / "cp2" / "etcd-server.crt").unlink()
    result = cli("certs", "list", spec, "--dir", store, "--output", "json", "--within", "2000")
    rows = {row["label"]: row for row in json.loads(result.out)["certificates"]}
    assert rows["cp2/etcd-server"]["status"] == "missing"
    assert rows["cp1/etcd-server"]["status"] == "expiring"  # within 2000 days
    assert rows["ca/etcd"]["status"] == "ok"
    assert result.code == 1


def test_renew_reissues_leaves_from_the_same_cas(tmp_path: Path, cli: CLI) -> None:
    spec, store = generated(tmp_path, cli)
    before = snapshot(store)
    result = cli("certs", "renew", spec, "--dir", store, "--yes")
    assert result.code == 0, result.err
    assert "18 reissued" in result.out and not KEY_MATERIAL.search(result.out)
    after = snapshot(store)
    for name in after:
        changed = before[name][0] != after[name][0]
        assert changed == name.startswith("nodes/"), name  # CAs and the SA pair never change here
    for leaf in ("cp1/etcd-server", "cp2/apiserver", "cp3/front-proxy-client"):
        issuer = {"etcd-server": "etcd", "apiserver": "kubernetes", "front-proxy-client": "front-proxy"}[
            leaf.split("/")[1]
        ]
        assert openssl("verify", "-CAfile", store / "ca" / f"{issuer}.crt", store / f"nodes/{leaf}.crt").returncode == 0


def test_renew_only_and_dry_run(tmp_path: Path, cli: CLI) -> None:
    spec, store = generated(tmp_path, cli)
    before = snapshot(store)
    preview = cli("certs", "renew", spec, "--dir", store, "--only", "etcd-server,cp1", "--dry-run")
    assert preview.code == 0 and "dry run: nothing written" in preview.out
    labels = set(re.findall(r"^  (\S+)", preview.out, re.MULTILINE))
    assert labels == {
        "cp1/etcd-server", "cp2/etcd-server", "cp3/etcd-server", "cp1/etcd-peer",
        "cp1/etcd-healthcheck-client", "cp1/apiserver", "cp1/apiserver-etcd-client", "cp1/front-proxy-client",
    }  # fmt: skip
    assert "SHA-256" in preview.out and not KEY_MATERIAL.search(preview.out)
    assert snapshot(store) == before
    result = cli("certs", "renew", spec, "--dir", store, "--only", "front-proxy", "--yes")
    after = snapshot(store)
    assert result.code == 0
    assert {n for n in after if after[n] != before[n]} == {
        f"nodes/{node}/front-proxy-client.{ext}" for node in ("cp1", "cp2", "cp3") for ext in ("crt", "key")
    }


def test_renew_asks_and_refuses_bad_input(tmp_path: Path, cli: CLI) -> None:
    spec = write_spec(tmp_path)
    store = tmp_path / "pki"
    empty = cli("certs", "renew", spec, "--dir", store, "--yes")
    assert empty.code == 2 and "run `khatui certs generate" in empty.err and not store.exists()
    assert cli("certs", "generate", spec, "--dir", store).code == 0
    unconfirmed = cli("certs", "renew", spec, "--dir", store)  # stdin is not a terminal under pytest
    assert unconfirmed.code == 2 and "--yes" in unconfirmed.err
    unknown = cli("certs", "renew", spec, "--dir", store, "--only", "cp9", "--yes")
    assert unknown.code == 2 and "'cp9' matches nothing" in unknown.err
    fresh = cli("certs", "renew", spec, "--dir", store, "--expiring-within", "30", "--yes")
    assert fresh.code == 0 and "nothing to renew" in fresh.out


def test_plan_ca_rotation_prints_steps_it_does_not_run(stacked_store: tuple[Path, Path], cli: CLI) -> None:
    spec, store = stacked_store
    before = snapshot(store)
    result = cli("certs", "plan-ca-rotation", spec, "--dir", store, "--ca", "etcd")
    assert result.code == 0
    assert "it does not run them" in result.out
    assert f"khatui certs generate {spec} --dir {store}.next" in result.out
    assert "cp2: " in result.out and "/etc/kubernetes/pki/etcd/server.crt" in result.out
    assert "etcdctl endpoint health" in result.out
    step4, step5 = result.out.split("\n4. ")[1].split("\n5. ")
    assert "etcd/ca.key" not in step4 and "/etc/kubernetes/pki/etcd/ca.key" in step5  # key moves with the cert
    assert snapshot(store) == before
    kube = cli("certs", "plan-ca-rotation", spec, "--dir", store, "--ca", "kubernetes")
    assert "manual-rotation-of-ca-certificates" in kube.out and "kubelet.conf" in kube.out


@pytest.mark.parametrize("command", ["generate", "list", "renew", "plan-ca-rotation"])
def test_every_command_has_help(command: str, cli: CLI) -> None:
    result = cli("certs", command, "--help")
    assert result.code == 0 and "usage: khatui certs " + command in result.out
    assert "SPEC" in result.out and "--dir" in result.out
    assert len(result.out.split("\n\n")[1]) > 80  # a real description paragraph


def test_certs_alone_prints_help(cli: CLI) -> None:
    result = cli("certs")
    assert result.code == 0 and "generate" in result.out and "plan-ca-rotation" in result.out
