"""The guide's other topology on a 7-node lab: 3 external etcd members run as kubelet static pods,
2 control planes, 2 haproxy + keepalived nodes with a VIP."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.e2e.conftest import Env, make_env

SUBNET = "10.95.0"
ROLES = {"cp1": ("etcd1", ["etcd"]), "cp2": ("etcd2", ["etcd"]), "cp3": ("etcd3", ["etcd"]),
         "worker1": ("master1", ["control-plane"]), "worker2": ("master2", ["control-plane"]),
         "lb1": ("lb1", ["lb"]), "lb2": ("lb2", ["lb"])}  # fmt: skip


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    for made in make_env(tmp_path_factory, "kex", f"{SUBNET}.0/24", 7):
        data: dict[str, Any] = yaml.safe_load(made.spec.read_text())
        for node in data["spec"]["nodes"]:
            node["name"], node["roles"] = ROLES[node["name"]]
        data["spec"]["etcd"] = {"topology": "external", "runAs": "static-pod"}
        made.spec = made.spec.with_name("external.yaml")
        made.spec.write_text(yaml.safe_dump(data, sort_keys=False))
        yield made


@pytest.fixture(scope="module")
def rolled_out(env: Env) -> Env:
    env.khatui("validate", "--strict", str(env.spec))
    result = env.khatui("apply", str(env.spec), "--yes")
    assert "done:" in result.stdout + result.stderr
    return env


def test_external_etcd_runs_as_static_pods_and_is_healthy(rolled_out: Env) -> None:
    for lab_node in ("cp1", "cp2", "cp3"):
        assert rolled_out.sh(lab_node, "systemctl is-active etcd").stdout.strip() != "active"
        assert rolled_out.sh(lab_node, "pgrep -x etcd").returncode == 0, f"no etcd process on {lab_node}"
        assert "kubelet" in rolled_out.sh(lab_node, "ps -o comm= -p $(ps -o ppid= -p $(pgrep -x etcd))").stdout
    pki = rolled_out.pki
    command = [
        "etcdctl", f"--endpoints={','.join(f'https://{SUBNET}.{i}:2379' for i in (11, 12, 13))}",
        f"--cacert={pki('ca/etcd.crt')}", f"--cert={pki('nodes/master1/apiserver-etcd-client.crt')}",
        f"--key={pki('nodes/master1/apiserver-etcd-client.key')}", "member", "list",
    ]  # fmt: skip
    members = subprocess.run(
        command, capture_output=True, text=True, env={"ETCDCTL_API": "3", "PATH": "/usr/bin:/bin"}, timeout=30
    )
    assert members.returncode == 0, members.stderr
    assert sorted(re.findall(r", (etcd\d),", members.stdout)) == ["etcd1", "etcd2", "etcd3"]


def test_control_planes_use_the_external_members(rolled_out: Env) -> None:
    config = rolled_out.sh("worker1", "cat /etc/kubernetes/khatui/kubeadm-init.yaml").stdout
    assert all(f"https://{SUBNET}.{i}:2379" in config for i in (11, 12, 13))
    assert rolled_out.sh("worker1", "test -f /etc/kubernetes/manifests/etcd.yaml").returncode != 0


def test_api_through_the_vip_and_nothing_left_to_change(rolled_out: Env) -> None:
    assert rolled_out.https_get(f"{SUBNET}.100", 6443, "/healthz", rolled_out.pki("ca/kubernetes.crt")) == "ok"
    plan = rolled_out.khatui("plan", str(rolled_out.spec), "--no-diff")
    assert "nothing would change: all 7 nodes are converged" in plan.stdout
