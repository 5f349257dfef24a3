"""k0sctl and KubeKey cluster files (in the shapes their documentation shows) -> spec documents."""

from __future__ import annotations

from pathlib import Path

import pytest

from khatui.cli.main import main
from khatui.inventory.assemble import cluster_document
from khatui.inventory.k0sctl import import_k0sctl
from khatui.inventory.kubekey import import_kubekey
from khatui.spec.validate import validate_data

FIXTURES = Path(__file__).parent / "fixtures"
K0SCTL = FIXTURES / "k0sctl" / "k0sctl.yaml"
KUBEKEY = FIXTURES / "kubekey" / "config-sample.yaml"


def test_k0sctl_file_gives_roles_ssh_bastion_network_and_external_lb() -> None:
    result = import_k0sctl(str(K0SCTL))
    document = cluster_document(result, result.name or "x")
    spec = document["spec"]
    assert document["metadata"] == {"name": "my-k0s-cluster"}
    assert [(n["name"], n["address"], n["roles"]) for n in spec["nodes"]] == [
        ("node-10-0-0-1", "10.0.0.1", ["control-plane", "etcd"]),
        ("node-10-0-1-2", "10.0.1.2", ["control-plane", "etcd", "worker"]),
        ("node-10-0-0-4", "10.0.0.4", ["control-plane", "etcd"]),
        ("node-10-0-0-3", "10.0.0.3", ["worker"]),
    ]
    assert spec["nodes"][0]["ssh"] == {
        "user": "ubuntu",
        "port": 22,
        "identityFile": "~/.ssh/id_rsa",
        "jumpHost": "jump@198.51.100.7:2200",
        "jumpIdentityFile": "~/.ssh/bastion",
        "sudo": True,
    }
    assert spec["nodes"][1]["ssh"] == {"user": "root", "host": "203.0.113.2"}
    assert spec["loadBalancer"] == {"mode": "external", "address": "10.0.0.100", "port": 6443}
    assert spec["controlPlane"] == {
        "kubernetesVersion": "v1.31.4",
        "podCIDR": "10.244.0.0/16",
        "serviceCIDR": "10.96.0.0/12",
    }
    assert spec["kubeProxy"] == {"mode": "ipvs"}
    assert spec["pki"] == {"extraSANs": ["10.0.0.100", "k8s.example.com"]}
    assert [n.line for n in result.sorted_notices()] == [28, 45]  # uploadBinary, network.provider
    assert validate_data(document).ok


def test_kubekey_config_gives_roles_ranges_local_proxy_and_settings() -> None:
    result = import_kubekey(str(KUBEKEY))
    document = cluster_document(result, result.name or "x")
    spec = document["spec"]
    assert [(n["name"], n["roles"]) for n in spec["nodes"]] == [
        ("node1", ["control-plane", "etcd"]),
        ("node2", ["control-plane", "etcd"]),
        ("node3", ["control-plane", "etcd"]),
        ("node4", ["worker"]),
    ]
    assert spec["nodes"][0]["ssh"] == {"user": "ubuntu", "port": 8022, "sudo": True}
    assert spec["loadBalancer"] == {"mode": "local-proxy", "implementation": "haproxy"}
    assert spec["etcd"] == {"topology": "stacked", "runAs": "systemd"}
    assert spec["controlPlane"]["podCIDR"] == "10.233.64.0/18"
    assert spec["kubeProxy"] == {"mode": "ipvs"}
    messages = [str(n) for n in result.sorted_notices()]
    assert f"{KUBEKEY}:8: notice: spec.hosts[0].password is an inline secret and was NOT imported: " in messages[0]
    assert "Qcloud" not in "".join(messages)
    assert validate_data(document).ok


@pytest.mark.parametrize("source", ["k0sctl", "kubekey"])
def test_import_help_lists_the_new_sources(source: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["import", "--help"])
    assert source in capsys.readouterr().out
