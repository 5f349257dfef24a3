"""One lab shared by the lab tests (booting is the slow part), always torn down; total time printed.

The tests that ask for the `lab` fixture are the `lab` tier (tests/tiers.py): deselected, with the
reason, where this machine cannot boot a lab (no root, not Linux, a tool missing); CI runs them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest

from khatui_lab.lab import Lab, remove_lab
from khatui_lab.standins.apiserver_registry import Registry
from khatui_lab.standins.apiserver_store import Etcd
from tests.lab.local_etcd import SCHEMAS, fresh_registry, local_etcd

SUBNET = "10.91.0.0/24"
NAME = "kt"
_TIMES: dict[str, float] = {"tests": 0.0, "lab": 0.0}


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """A 3-node lab for the whole session (cp1-cp3, lb role shared)."""
    started = time.monotonic()
    lab = Lab(NAME, SUBNET, 3, base_dir=tmp_path_factory.mktemp("labs"))
    try:
        remove_lab(NAME, lab.lab_dir)  # what a killed earlier run may have left
        lab.up()
        yield lab
    finally:
        lab.down()
        _TIMES["lab"] += time.monotonic() - started


@pytest.fixture(scope="module")
def etcd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Etcd]:
    """A loopback etcd for one module of host-side stand-in tests (not the `lab` tier)."""
    with local_etcd(tmp_path_factory.mktemp("etcd")) as running:
        yield running


@pytest.fixture
def registry(etcd: Etcd) -> Registry:
    """The apiserver stand-in's registry over `etcd`, emptied."""
    return fresh_registry(etcd, SCHEMAS)


def ssh(lab: Lab, node: str, known_hosts: Path | None = None) -> paramiko.SSHClient:
    """An SSH client logged in as root on `node`, host key checked against known_hosts (RejectPolicy)."""
    client = paramiko.SSHClient()
    client.load_host_keys(str(known_hosts or lab.known_hosts))
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    client.connect(
        lab.address(node),
        username="root",
        key_filename=str(lab.identity_file),
        look_for_keys=False,
        allow_agent=False,
        timeout=10,
    )
    return client


def ssh_run(client: paramiko.SSHClient, command: str) -> tuple[int, str]:
    """(exit code, stdout) of `command` over `client`."""
    _stdin, stdout, _stderr = client.exec_command(command, timeout=30)
    output = stdout.read().decode().strip()
    return stdout.channel.recv_exit_status(), output


def wait_for(predicate: object, timeout: float = 30, what: str = "condition") -> None:
    """Poll `predicate()` until true; fail naming `what` after `timeout` seconds."""
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.2)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Add up the time of the lab tests."""
    if report.nodeid.startswith("tests/lab/"):
        _TIMES["tests"] += report.duration


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the total lab test time."""
    if _TIMES["lab"]:  # the lab was booted
        terminalreporter.write_line(
            f"khatui lab tests: {_TIMES['tests']:.1f} s in total (the shared 3-node lab lived {_TIMES['lab']:.1f} s, up and down included)"
        )
