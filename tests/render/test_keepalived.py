"""Every rendered keepalived.conf passes `keepalived --config-test` (with its check script in place),
priorities order the lb nodes, and the check script really tracks haproxy's pid."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from khatui.render import RenderedFile
from khatui.render.keepalived import CHECK_SCRIPT_PATH
from khatui.spec.loadbalancer import HAProxyKeepalived, vip_network
from khatui.spec.nodes import Role
from tests.render.tools import require, run, write
from tests.render.variants import file_id, files_named, rendered, specs

CONFIGS = files_named("/etc/keepalived/keepalived.conf")
SCRIPTS = files_named(str(CHECK_SCRIPT_PATH))


def _config_test(tmp_path: Path, config: str) -> subprocess.CompletedProcess[str]:
    """`keepalived --config-test` in a network namespace that has the node's VRRP interface.

    keepalived checks that the interface exists: the test gives it one of that name (a bridge, which
    needs no kernel module) in a private namespace, as the node would have. The check script must
    exist, be executable and unwritable by others (enable_script_security): tmp_path is root's 0700
    folder, so the rendered script is judged there.
    """
    script = write(tmp_path / "check.sh", SCRIPTS[0][1].text, 0o755)
    path = write(tmp_path / "keepalived.conf", config.replace(str(CHECK_SCRIPT_PATH), str(script)))
    interface = re.search(r"^    interface (\S+)$", config, re.M).group(1)  # type: ignore[union-attr]
    inner = f"ip link add {interface} type bridge && ip link set {interface} up && exec {require('keepalived')} --config-test -f {path}"
    return run([require("unshare"), "--net", "sh", "-c", inner])


@pytest.mark.parametrize("item", CONFIGS, ids=file_id)
def test_keepalived_accepts(item: tuple[str, RenderedFile], tmp_path: Path) -> None:
    result = _config_test(tmp_path, item[1].text)
    assert result.returncode == 0, result.stderr + result.stdout
    assert result.stderr == "" and result.stdout == ""


def test_keepalived_check_catches_errors(tmp_path: Path) -> None:
    result = _config_test(tmp_path, CONFIGS[0][1].text.replace("advert_int", "advert_interval"))
    assert result.returncode != 0 and "Unknown keyword" in result.stderr


@pytest.mark.parametrize("name", sorted({name for name, _ in CONFIGS}))
def test_vrrp_instance_per_lb_node(name: str) -> None:
    cluster = specs()[name]
    lb = cluster.spec.load_balancer
    assert isinstance(lb, HAProxyKeepalived)
    lb_nodes = cluster.spec.with_role(Role.LB)
    configs = {f.node: f.text for f in rendered()[name] if f.path == "/etc/keepalived/keepalived.conf"}
    assert set(configs) == {n.name for n in lb_nodes}
    priorities = [int(re.search(r"priority (\d+)", configs[n.name]).group(1)) for n in lb_nodes]  # type: ignore[union-attr]
    assert priorities == sorted(priorities, reverse=True) and len(set(priorities)) == len(priorities)
    for index, node in enumerate(lb_nodes):
        text = configs[node.name]
        assert f"state {'MASTER' if index == 0 else 'BACKUP'}" in text
        assert f"virtual_router_id {lb.virtual_router_id}\n" in text
        assert f"{lb.vip}/{vip_network(lb).prefixlen} dev {lb.interface}" in text
        assert "track_script {\n        chk_haproxy\n    }" in text
        peers = re.search(r"unicast_peer \{\n(.*?)    \}", text, re.S)
        others = {str(n.address) for n in lb_nodes if n.name != node.name}
        assert (set(peers.group(1).split()) if peers else set()) == others


def test_check_script_tracks_haproxy_pid(tmp_path: Path) -> None:
    text = SCRIPTS[0][1].text
    assert text.startswith("#!/bin/sh\n")
    pid_file = tmp_path / "haproxy.pid"
    script = write(tmp_path / "check.sh", text.replace("/run/haproxy.pid", str(pid_file)), 0o755)
    assert run(["sh", "-n", str(script)]).returncode == 0
    assert run([str(script)]).returncode != 0, "no pid file: haproxy is not running"
    with subprocess.Popen(["sleep", "30"]) as alive:
        pid_file.write_text(f"{alive.pid}\n")
        assert run([str(script)]).returncode == 0, "haproxy alive"
        alive.kill()
        alive.wait()
    assert run([str(script)]).returncode != 0, "haproxy died"
