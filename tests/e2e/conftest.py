"""End-to-end fixtures: a real lab, khatui run as the operator runs it (subprocesses), a shared data dir.

Each test module gets its own lab (name and subnet) and its own khatui data dir (journal, PKI
store, pinned host keys), kept for the whole module so tests can build on a rolled-out cluster.
"""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from khatui.journal import Journal
from khatui_lab.lab import Lab

STARTED = time.monotonic()


@dataclass
class Env:
    """A lab plus the environment khatui runs with against it."""

    lab: Lab
    data: Path
    spec: Path

    def env(self) -> dict[str, str]:
        return {**os.environ, "KHATUI_DATA_DIR": str(self.data), "HOME": str(self.data / "home")}

    def khatui(self, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "khatui", *args],
            capture_output=True,
            text=True,
            env=self.env(),
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"khatui {' '.join(args)} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
            )
        return result

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "khatui", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=self.env(),
            stdin=subprocess.DEVNULL,
        )

    def journal(self) -> Journal:
        return Journal(self.data / "journal.db")

    def pki(self, name: str) -> Path:
        return self.data / "clusters" / self.lab.name / "pki" / name

    def sh(self, node: str, command: str) -> subprocess.CompletedProcess[str]:
        """Run a shell command inside a node (not over SSH); never raises on its exit code."""
        done = self.lab.run_in(node, ["sh", "-c", command], check=False)
        return subprocess.CompletedProcess(
            done.args,
            done.returncode,
            done.stdout.decode(errors="replace"),
            (done.stderr or b"").decode(errors="replace"),
        )

    def https_get(self, host: str, port: int, path: str, ca: Path, timeout: float = 5) -> str:
        """GET over TLS verified against `ca` for `host` (an address: it must be a SAN)."""
        context = ssl.create_default_context(cafile=str(ca))
        import http.client

        conn = http.client.HTTPSConnection(host, port, context=context, timeout=timeout)
        try:
            conn.request("GET", path)
            return conn.getresponse().read().decode()
        finally:
            conn.close()


def make_env(
    tmp_path_factory: pytest.TempPathFactory, name: str, subnet: str, nodes: int, bare: bool = False
) -> Iterator[Env]:
    """A booted lab (`bare`: nodes on the minimal image, served the lab's repository and files mirror,
    built in `$KHATUI_LAB_CACHE` when set) and its data dir, torn down after the module."""
    base = tmp_path_factory.mktemp(f"e2e-{name}")
    lab = Lab(name, subnet, nodes, base_dir=base / "labs", bare=bare)
    data = base / "data"
    (data / "home").mkdir(parents=True)
    try:
        lab.up()
        yield Env(lab, data, lab.spec_path)
    finally:
        lab.down()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if any(
        report.nodeid.startswith("tests/e2e/")
        for reports in terminalreporter.stats.values()
        for report in reports
        if hasattr(report, "nodeid")
    ):
        terminalreporter.write_line(
            f"khatui end-to-end lab tests: {time.monotonic() - STARTED:.1f} s since the e2e suite was loaded"
        )
