"""The shared lab as an operator and the engine meet it: SSH with checked host keys, private
file systems, a valid spec, status, and the faults (link cut, power-off)."""

from __future__ import annotations

import socket
from pathlib import Path

import paramiko
import pytest

from khatui.cli.main import main
from khatui_lab import cgroups
from khatui_lab.boot import node_cgroup
from khatui_lab.lab import Lab
from tests.lab.conftest import ssh, ssh_run, wait_for


def test_ssh_into_every_node_with_checked_host_keys(lab: Lab) -> None:
    for node in lab.node_names:
        client = ssh(lab, node)
        try:
            assert ssh_run(client, "hostname") == (0, node)

            def running(client: paramiko.SSHClient = client) -> bool:
                return ssh_run(client, "systemctl is-system-running")[1] == "running"

            wait_for(running, 30, f"systemd on {node} to be running")
        finally:
            client.close()


def test_an_unknown_host_key_is_refused(lab: Lab, tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    with pytest.raises(paramiko.SSHException, match="not found in known_hosts"):
        ssh(lab, "cp1", known_hosts=empty)


def test_etc_is_private_to_each_node(lab: Lab) -> None:
    lab.run_in("cp1", ["sh", "-c", "echo cp1 > /etc/khatui-lab-probe"])
    assert lab.run_in("cp1", ["cat", "/etc/khatui-lab-probe"]).stdout == b"cp1\n"
    assert lab.run_in("cp2", ["test", "-e", "/etc/khatui-lab-probe"], check=False).returncode == 1
    assert not Path("/etc/khatui-lab-probe").exists()


def test_nodes_have_their_own_pid_1_and_hostname(lab: Lab) -> None:
    assert lab.run_in("cp2", ["cat", "/proc/1/comm"]).stdout.strip() == b"systemd"
    assert lab.run_in("cp2", ["hostname"]).stdout.strip() == b"cp2"
    assert lab.run_in("cp2", ["ls", "-A", "/root"]).stdout.split() == [b".ssh"]


def test_the_lab_spec_passes_strict_validation(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--strict", str(lab.spec_path)]) == 0
    text = lab.spec_path.read_text()
    assert "vip: 10.91.0.100" in text and "identityFile: " + str(lab.identity_file) in text
    assert capsys.readouterr().out.strip().endswith("valid (0 errors, 0 warnings)")


def test_status_shows_every_node_up(lab: Lab) -> None:
    status = lab.status()
    assert status.up
    assert [(n.name, n.address, n.system_state, n.sshd_listening) for n in status.nodes] == [
        ("cp1", "10.91.0.11", "running", True),
        ("cp2", "10.91.0.12", "running", True),
        ("cp3", "10.91.0.13", "running", True),
    ]


def _reachable(address: str) -> bool:
    try:
        with socket.create_connection((address, 22), timeout=1):
            return True
    except OSError:
        return False


def test_cut_link_takes_a_node_off_the_network(lab: Lab) -> None:
    assert _reachable(lab.address("cp3"))
    lab.cut_link("cp3")
    try:
        assert not _reachable(lab.address("cp3"))
        probe = f"import socket; socket.create_connection(({lab.address('cp3')!r}, 22), timeout=1)"
        assert lab.run_in("cp1", ["python3", "-c", probe], check=False).returncode != 0
    finally:
        lab.restore_link("cp3")
    wait_for(lambda: _reachable(lab.address("cp3")), 10, "cp3 to be reachable again")


def test_power_off_kills_the_whole_node_and_power_on_boots_it(lab: Lab) -> None:
    assert lab.power_off("cp3")
    cp3 = lab.layout.node("cp3")
    assert cgroups.pids_in(node_cgroup(lab.layout, cp3)) == []
    state = {n.name: n for n in lab.status().nodes}["cp3"]
    assert (state.pid1, state.system_state, state.sshd_listening) == (None, "offline", False)
    assert not lab.power_off("cp3")
    lab.power_on("cp3")
    client = ssh(lab, "cp3")
    try:
        assert ssh_run(client, "hostname") == (0, "cp3")
    finally:
        client.close()
