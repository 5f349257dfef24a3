"""From bare machines (issue 14): a bare lab node has none of what the rollout installs; `plan` lists
the installs, `apply` installs everything from the lab's signed repository and files mirror and
converges, and a second `plan` says nothing would change. Then the stacked example's IPVS mode on
the same bare node: the lab kernel has no IPVS, so preflight names the missing modules, and the plan
loads the modules before it applies their sysctls.

One 1-node bare lab (cp1: control plane, etcd member, haproxy + keepalived) for the module.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from khatui_lab.labspec import ETCD
from tests.e2e.conftest import Env, make_env

SUBNET = "10.88.0"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    yield from make_env(tmp_path_factory, "kbi", f"{SUBNET}.0/24", 1, bare=True)


@pytest.fixture(scope="module")
def planned(env: Env) -> str:
    result = env.khatui("plan", str(env.spec), check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def applied(env: Env, planned: str) -> Env:
    result = env.khatui("apply", str(env.spec), "--yes", timeout=900)
    assert "done:" in result.stdout + result.stderr
    return env


def test_plan_lists_the_installs_of_the_bare_node(planned: str) -> None:
    assert "upload /etc/apt/sources.list.d/khatui-mirror.sources" in planned
    assert f"URIs: http://{SUBNET}.1:8642/debian" in planned
    assert "-o Dir::Etc::sourceparts=-" in planned  # the lab's repository only
    for install in ("containerd 1.6.20", "runc 1.1.5", "cni-plugins 1.1.1", f"etcd {ETCD}", "kubeadm 1.31.4"):
        assert f"install {install} (not installed;" in planned
    assert "via the operator's cache" in planned


def test_apply_installs_everything_from_the_lab(applied: Env) -> None:
    versions = applied.sh(
        "cp1",
        "etcd --version | head -1; dpkg-query -W -f '${Package}\\n' haproxy keepalived conntrack; "
        "containerd --version; runc --version | head -1; /opt/cni/bin/loopback --version 2>&1 | head -1; "
        "systemctl is-active etcd haproxy keepalived containerd kubelet",
    )
    out = versions.stdout
    assert f"etcd Version: {ETCD}" in out
    assert {"haproxy", "keepalived", "conntrack"} <= set(out.split())
    assert "1.6.20" in out and "runc version 1.1.5" in out and "v1.1.1" in out
    assert out.split()[-5:] == ["active"] * 5, out


def test_a_second_plan_changes_nothing(applied: Env) -> None:
    result = applied.khatui("plan", str(applied.spec))
    assert "nothing would change: all 1 nodes are converged" in result.stdout


def test_ipvs_on_the_bare_node_names_the_missing_modules_and_loads_them_before_sysctls(
    applied: Env, tmp_path: Path
) -> None:
    data = yaml.safe_load(applied.spec.read_text())
    data["spec"]["kubeProxy"] = {"mode": "ipvs"}
    spec = tmp_path / "ipvs.yaml"
    spec.write_text(yaml.safe_dump(data))
    result = applied.khatui("plan", str(spec), check=False)
    out = result.stdout + result.stderr
    assert result.returncode == 1  # a preflight check fails
    assert "FAIL cp1 ipvs-modules: IPVS kernel modules that cannot be loaded" in " ".join(out.split())
    assert "ip_vs, ip_vs_rr, ip_vs_sh, ip_vs_wrr" in " ".join(out.split())
    modules, sysctls = out.index("kernel modules (loaded now and at boot)"), out.index("kernel settings (sysctl.d)")
    assert modules < sysctls
    assert out.index("$ modprobe -- ip_vs") < out.index("$ sysctl -q -p /etc/sysctl.d/")
