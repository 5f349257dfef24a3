"""In a terminal, an unset sudo password variable is asked for (no echo) instead of failing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from khatui.cli import rollout_cmds
from khatui.engine.connect import targets
from khatui.errors import InputError
from khatui.rollout.desired import Desired
from khatui.spec.cluster import Cluster
from khatui.spec.yamlio import load_file
from tests.conftest import ROOT


def _desired() -> Desired:
    cluster = Cluster.model_validate(load_file(str(ROOT / "assets/examples/external-etcd-cloudlb-ceph.yaml")).data)
    return Desired(cluster, "spec.yaml", "", "h", str(ROOT), [], {})


def test_unset_variable_is_asked_for_in_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KHATUI_SUDO_PASSWORD", raising=False)
    asked: list[str] = []
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)

    def getpass(prompt: str) -> str:
        asked.append(prompt)
        return "typed-pw"

    monkeypatch.setattr("getpass.getpass", getpass)
    desired = _desired()
    rollout_cmds._ask_sudo_passwords(desired)
    assert asked == ["sudo password for ops on node1 ($KHATUI_SUDO_PASSWORD): "]
    assert targets(desired.cluster, desired.base_dir)["node1"].sudo_password == "typed-pw"
    monkeypatch.delenv("KHATUI_SUDO_PASSWORD")


def test_headless_unset_variable_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("KHATUI_SUDO_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    desired = _desired()
    rollout_cmds._ask_sudo_passwords(desired)
    assert "KHATUI_SUDO_PASSWORD" not in os.environ
    with pytest.raises(InputError, match="node node1: environment variable KHATUI_SUDO_PASSWORD"):
        targets(desired.cluster, desired.base_dir)
