"""`khatui lab up/status/down` through the CLI on a second, 1-node lab beside the shared one:
up twice is a no-op, down leaves nothing (namespaces, links, mounts, cgroups, processes)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from khatui.cli.main import main
from khatui_lab import cgroups
from khatui_lab.lab import Lab, remove_lab
from khatui_lab.layout import lab_cgroup_name
from khatui_lab.network import link_names, netns_names

NAME, SUBNET = "kt-life", "10.92.0.0/24"


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            cgroup = (entry / "cgroup").read_text()
        except OSError:
            continue
        if text in cmdline or lab_cgroup_name(NAME) in cgroup:
            found.append(f"{entry.name}: {cmdline}")
    return found


def test_up_twice_then_down_twice_leaves_nothing(capsys: pytest.CaptureFixture[str], lab: Lab) -> None:
    args = ["--name", NAME]
    remove_lab(NAME, Path(os.environ["KHATUI_DATA_DIR"]) / "lab" / NAME)  # leftovers of a killed earlier run
    assert main(["lab", "up", "--nodes", "1", "--subnet", SUBNET, *args]) == 0
    out = capsys.readouterr().out
    assert "cp1 10.92.0.11: booting" in out and "up, sshd listening" in out

    assert main(["lab", "up", "--nodes", "1", "--subnet", SUBNET, *args]) == 0
    out = capsys.readouterr().out
    assert "cp1 10.92.0.11: already up" in out and "was already up: nothing to do" in out

    assert main(["lab", "up", "--nodes", "2", "--subnet", SUBNET, *args]) == 2
    assert "already exists with 1 bare node(s)" in capsys.readouterr().err

    assert main(["lab", "status", "--output", "json", *args]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["up"] and status["nodes"][0]["system_state"] == "running"
    existing = Lab.existing(NAME)
    assert existing is not None
    lab_dir = existing.lab_dir
    pids = cgroups.pids_in(cgroups.lab_cgroup(lab_cgroup_name(NAME)))
    assert pids

    assert main(["lab", "down", *args]) == 0
    assert "is down" in capsys.readouterr().out
    assert not any(ns.startswith(f"khatui-lab-{NAME}-") for ns in netns_names())
    assert not any(link.startswith(f"kth{existing.layout.tag}-") for link in link_names())
    assert str(lab_dir) not in Path("/proc/self/mounts").read_text()
    assert not cgroups.lab_cgroup(lab_cgroup_name(NAME)).exists()
    assert [pid for pid in pids if os.path.exists(f"/proc/{pid}")] == []
    assert _processes_mentioning(str(lab_dir)) == []
    assert not lab_dir.exists()

    assert main(["lab", "down", *args]) == 0
    assert "nothing to remove" in capsys.readouterr().out
    assert main(["lab", "status", *args]) == 0
    assert "no lab named" in capsys.readouterr().out
    # The shared lab lived through all of this.
    assert lab.status().up
