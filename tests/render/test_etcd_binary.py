"""The rendered etcd command lines run the real etcd (Debian trixie's etcd-server 3.5.16;
bookworm's 3.4 accepts them too): a three-member
cluster with client and peer TLS comes up healthy on loopback, then a fourth member rendered with
`--initial-cluster-state=existing` joins it after `etcdctl member add`.

The spec gives the members loopback addresses (127.0.0.11-14) and free ports, so the flags are
exactly what khatui renders; the test only moves the certificate folder (to throwaway certificates)
and the data dir (one per member: they share this machine). Health is judged with the rendered
etcdctl.env — the healthcheck client certificate — as the engine will.
"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from khatui import nodepaths
from khatui.render import render_node
from khatui.render.etcd import ETCD_BINARY, MANIFEST_PATH, UNIT_PATH
from khatui.spec.cluster import Cluster
from tests.render.throwaway_pki import EtcdCA
from tests.render.tools import require, run

ADDRESSES = ["127.0.0.11", "127.0.0.12", "127.0.0.13", "127.0.0.14"]


def _free_ports() -> tuple[int, int]:
    """A client and a peer port free on every member address."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind((ADDRESSES[0], 0))
            base = probe.getsockname()[1]
        ports = (base, base + 1)
        if all(_bindable(address, port) for address in ADDRESSES for port in ports):
            return ports
    pytest.fail("no free ports on loopback")


def _bindable(address: str, port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((address, port))
        except OSError:
            return False
    return True


def _cluster(members: int, ports: tuple[int, int], run_as: str = "systemd") -> Cluster:
    nodes = [
        {"name": f"etcd{i + 1}", "address": ADDRESSES[i], "roles": ["control-plane", "etcd"]} for i in range(members)
    ]
    return Cluster.model_validate(
        {
            "metadata": {"name": "etcd-test"},
            "spec": {
                "nodes": nodes,
                "etcd": {"runAs": run_as, "clientPort": ports[0], "peerPort": ports[1]},
                "loadBalancer": {"mode": "local-proxy"},
            },
        }
    )


def unit_argv(unit: str) -> list[str]:
    """ExecStart of a unit, continuation lines joined, split like systemd (no shell)."""
    joined = unit.replace("\\\n", " ")
    line = next(line for line in joined.splitlines() if line.startswith("ExecStart="))
    return shlex.split(line.removeprefix("ExecStart="))


def _file(cluster: Cluster, node: str, path: object, existing: frozenset[str] = frozenset()) -> str:
    return next(f.text for f in render_node(cluster, node, etcd_existing=existing) if f.path == str(path))


def _env(cluster: Cluster, node: str, pki: Path) -> dict[str, str]:
    env = dict(os.environ)
    for line in _file(cluster, node, nodepaths.ETCDCTL_ENV).splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            env[key] = value.replace(str(nodepaths.ETCD_PKI_DIR), str(pki))
    return env


class Members:
    """Running etcd processes, stopped at the end."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.ca = EtcdCA()
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def pki(self, name: str) -> Path:
        return self.root / name / "pki"

    def start(self, cluster: Cluster, name: str, address: str, existing: frozenset[str] = frozenset()) -> None:
        argv = unit_argv(_file(cluster, name, UNIT_PATH, existing))
        assert argv[0] == ETCD_BINARY and Path(ETCD_BINARY).exists(), "etcd-server is not installed"
        pki = self.ca.member_folder(self.pki(name), name, address)
        data = self.root / name / "data"
        argv = [a.replace(str(nodepaths.ETCD_PKI_DIR), str(pki)) for a in argv]
        argv = [f"--data-dir={data}" if a.startswith("--data-dir=") else a for a in argv]
        log = open(self.root / name / "etcd.log", "wb")  # noqa: SIM115 - closed with the process
        self.processes[name] = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)

    def log(self, name: str) -> str:
        return (self.root / name / "etcd.log").read_text(errors="replace")

    def wait_healthy(self, cluster: Cluster, names: list[str], timeout: float = 40) -> None:
        deadline = time.monotonic() + timeout
        pending = list(names)
        while pending:
            for name in list(pending):
                process = self.processes[name]
                if process.poll() is not None:
                    pytest.fail(f"etcd {name} exited with {process.returncode}:\n{self.log(name)[-3000:]}")
                health = run([require("etcdctl"), "endpoint", "health"], env=_env(cluster, name, self.pki(name)))
                if health.returncode == 0:
                    pending.remove(name)
            if pending and time.monotonic() > deadline:
                logs = "\n".join(f"--- {n}:\n{self.log(n)[-2000:]}" for n in pending)
                pytest.fail(f"etcd members {pending} not healthy after {timeout}s\n{logs}")
            time.sleep(0.3)

    def stop(self) -> None:
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def members(tmp_path: Path) -> Iterator[Members]:
    running = Members(tmp_path)
    try:
        yield running
    finally:
        running.stop()


def test_rendered_members_form_a_cluster_and_a_member_joins(members: Members) -> None:
    ports = _free_ports()
    founding = _cluster(3, ports)
    names = ["etcd1", "etcd2", "etcd3"]
    for name, address in zip(names, ADDRESSES, strict=False):
        members.start(founding, name, address)
    members.wait_healthy(founding, names)
    for name in names:
        assert "flag provided but not defined" not in members.log(name)

    grown = _cluster(4, ports)
    env = _env(founding, "etcd1", members.pki("etcd1"))
    add = [require("etcdctl"), "member", "add", "etcd4", f"--peer-urls=https://{ADDRESSES[3]}:{ports[1]}"]
    for _ in range(40):  # etcd refuses reconfiguration until its members have been up a few seconds
        added = run(add, env=env)
        if added.returncode == 0 or "unhealthy cluster" not in added.stderr:
            break
        time.sleep(0.5)
    assert added.returncode == 0, added.stderr
    members.start(grown, "etcd4", ADDRESSES[3], existing=frozenset({"etcd4"}))
    members.wait_healthy(grown, ["etcd4"])
    listed = run([require("etcdctl"), "member", "list", "--write-out=simple"], env=env)
    assert listed.returncode == 0, listed.stderr
    rows = [row for row in listed.stdout.splitlines() if row.strip()]
    assert len(rows) == 4 and all(", started, " in row for row in rows), listed.stdout


def test_static_pod_runs_the_same_flags() -> None:
    """The static pod and the unit of one member differ only in how etcd is started."""
    ports = (2379, 2380)
    unit = unit_argv(_file(_cluster(3, ports), "etcd2", UNIT_PATH))
    pod = yaml.safe_load(_file(_cluster(3, ports, "static-pod"), "etcd2", MANIFEST_PATH))
    command = pod["spec"]["containers"][0]["command"]
    assert command[0] == "etcd" and command[1:] == unit[1:]
