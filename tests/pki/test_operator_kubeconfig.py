"""`khatui kubeconfig`: the operator's admin kubeconfig, checked with openssl against the store's CA,
its file mode, and its server for each load-balancer mode."""

from __future__ import annotations

import base64
import stat
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509

from khatui.cli.kubeconfig_cmd import ttl
from khatui.views.outcome import kubeconfig_line
from tests.pki.conftest import CLI, edit_spec, openssl


def _decoded(document: dict[str, Any], section: str, key: str) -> bytes:
    return base64.b64decode(document[section][0][section.rstrip("s")][key])


def _written(tmp_path: Path, cli: CLI, spec: Path, store: Path, *args: str) -> dict[str, Any]:
    out = tmp_path / "admin.kubeconfig"
    result = cli("kubeconfig", spec, "--dir", store, "-o", out, *args)
    assert result.code == 0, result.err
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    document: dict[str, Any] = yaml.safe_load(out.read_text())
    return document


def test_the_client_certificate_verifies_against_the_cluster_ca_and_is_short_lived(
    stacked_store: tuple[Path, Path], cli: CLI, tmp_path: Path
) -> None:
    spec, store = stacked_store
    document = _written(tmp_path, cli, spec, store, "--user", "alice")
    (tmp_path / "client.crt").write_bytes(_decoded(document, "users", "client-certificate-data"))
    assert _decoded(document, "clusters", "certificate-authority-data") == (store / "ca/kubernetes.crt").read_bytes()
    checked = openssl(
        "verify", "-CAfile", store / "ca/kubernetes.crt", "-purpose", "sslclient", tmp_path / "client.crt"
    )
    assert checked.stdout.strip().endswith(": OK")
    cert = x509.load_pem_x509_certificate((tmp_path / "client.crt").read_bytes())
    assert cert.subject.rfc4514_string() == "CN=alice,O=kubeadm:cluster-admins"
    assert cert.not_valid_after_utc - cert.not_valid_before_utc <= timedelta(hours=25)
    key = _decoded(document, "users", "client-key-data")
    (tmp_path / "client.key").write_bytes(key)
    pub_of_key = openssl("pkey", "-in", tmp_path / "client.key", "-pubout").stdout
    assert pub_of_key == openssl("x509", "-in", tmp_path / "client.crt", "-noout", "-pubkey").stdout


def test_groups_and_lifetime_are_the_operators_choice(
    stacked_store: tuple[Path, Path], cli: CLI, tmp_path: Path
) -> None:
    spec, store = stacked_store
    document = _written(tmp_path, cli, spec, store, "--user", "bob", "--group", "system:masters", "--ttl", "30d")
    cert = x509.load_pem_x509_certificate(_decoded(document, "users", "client-certificate-data"))
    assert cert.subject.rfc4514_string() == "CN=bob,O=system:masters"
    assert cert.not_valid_after_utc - cert.not_valid_before_utc > timedelta(days=29)


@pytest.mark.parametrize(
    ("balancer", "server"),
    [
        (None, "https://10.20.0.100:6443"),  # the example's haproxy-keepalived VIP
        ({"mode": "external", "address": "k8s-api.example.com", "port": 443}, "https://k8s-api.example.com:443"),
        ({"mode": "kube-vip", "vip": "10.20.0.100", "vipPrefixLength": 24}, "https://10.20.0.100:6443"),
        ({"mode": "local-proxy"}, "https://10.20.0.11:6443"),  # not 127.0.0.1:7443: the first control plane
    ],
)
def test_the_server_is_the_address_a_client_off_the_nodes_reaches(
    stacked_store: tuple[Path, Path], cli: CLI, tmp_path: Path, balancer: dict[str, Any] | None, server: str
) -> None:
    spec, store = stacked_store
    mine = tmp_path / "cluster.yaml"
    mine.write_text(spec.read_text())
    if balancer is not None:
        edit_spec(mine, lambda data: data["spec"].__setitem__("loadBalancer", balancer))
    document = _written(tmp_path, cli, mine, store)
    assert document["clusters"][0]["cluster"]["server"] == server


def test_a_store_without_the_cluster_ca_is_one_line_exit_2(
    stacked_store: tuple[Path, Path], cli: CLI, tmp_path: Path
) -> None:
    spec, _ = stacked_store
    result = cli("kubeconfig", spec, "--dir", tmp_path / "empty", "-o", tmp_path / "k")
    assert result.code == 2 and "the cluster CA is not in the PKI store" in result.err
    assert len(result.err.strip().splitlines()) == 1 and not (tmp_path / "k").exists()


@pytest.mark.parametrize("value", ["", "24", "0h", "1.5h", "-1h", "24H", "1w", "9999999h"])
def test_a_bad_ttl_is_refused(value: str) -> None:
    with pytest.raises(Exception, match="is not a duration"):
        ttl(value)


def test_the_closing_line_offers_the_command() -> None:
    assert kubeconfig_line("my lab.yaml", "lab") == (
        "your admin kubeconfig (valid 24 h): khatui kubeconfig 'my lab.yaml' -o lab.kubeconfig"
    )
