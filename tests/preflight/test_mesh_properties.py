"""Property: a hostile peer address in the mesh probe is data, never code, in a real `sh` and `bash`.

An etcd peer's address gets an IPv6 zone ID built to break out of quoting (issue 11, item 1: the
probe once put a quoted host inside a second layer of quotes, so every other member ran the payload
during `plan`). The script runs for real in a temporary folder; the payload would create `pwned` there.
"""

from __future__ import annotations

import ipaddress
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from khatui.preflight import mesh
from khatui.spec.cluster import Cluster
from tests.preflight.test_checks import STACKED

BREAKOUT = st.text(st.sampled_from("'\"`$(){};&|\\ \t\n#"), max_size=4)
ACTIONS = st.sampled_from(["touch pwned", "$(touch pwned)", "`touch pwned`", "${IFS}touch${IFS}pwned"])
PAYLOADS = st.builds(lambda a, b, c: a + b + c, BREAKOUT, ACTIONS, BREAKOUT)


def with_peer_zone(zone: str) -> Cluster:
    """STACKED with cp2's address carrying `zone` as its IPv6 zone ID, unvalidated."""
    nodes = [
        n.model_copy(update={"address": ipaddress.IPv6Address(f"fd00::12%{zone}")}) if n.name == "cp2" else n
        for n in STACKED.spec.nodes
    ]
    return STACKED.model_copy(update={"spec": STACKED.spec.model_copy(update={"nodes": nodes})})


def run_probe(zone: str, shell: str, folder: Path) -> str:
    cluster = with_peer_zone(zone)
    cp1 = next(n for n in cluster.spec.nodes if n.name == "cp1")
    text = mesh.script(mesh.probes(cluster, cp1))
    return subprocess.run([shell, "-c", text], cwd=folder, capture_output=True, text=True, timeout=60).stdout


@pytest.mark.parametrize("shell", ["sh", "bash"])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(zone=PAYLOADS.filter(lambda z: "%" not in z and "/" not in z))
def test_a_hostile_peer_address_runs_nothing(shell: str, zone: str, tmp_path: Path) -> None:
    output = run_probe(zone, shell, tmp_path)
    assert not (tmp_path / "pwned").exists()
    assert output.count("@@tcp ") == 4  # every probe ran and reported, the hostile one included


def test_the_issue_payload_is_probed_as_an_address(tmp_path: Path) -> None:
    output = run_probe("$(touch${IFS}pwned)", "sh", tmp_path)
    assert not (tmp_path / "pwned").exists()
    parsed = mesh.parse(output)
    assert parsed is not None and parsed[("fd00::12%$(touch${IFS}pwned)", 2379)] == "unreachable"
