"""The network mesh check: who probes what, the probe script run for real, and the verdicts."""

from __future__ import annotations

import socket
import subprocess
from dataclasses import replace

from khatui.facts.model import NodeFacts
from khatui.preflight import mesh
from khatui.preflight.checks import Status
from tests.preflight.test_checks import STACKED


def test_probes_follow_the_roles() -> None:
    nodes = {n.name: n for n in STACKED.spec.nodes}
    cp1 = mesh.probes(STACKED, nodes["cp1"])
    assert {(p.host, p.port) for p in cp1} == {(h, port) for h in ("10.20.0.12", "10.20.0.13") for port in (2379, 2380)}
    lb1 = mesh.probes(STACKED, nodes["lb1"])
    assert {(p.label, p.port) for p in lb1} == {
        ("apiserver cp1", 6443),
        ("apiserver cp2", 6443),
        ("apiserver cp3", 6443),
        ("vip", 22),
    }
    assert [p.label for p in mesh.probes(STACKED, nodes["lb2"])] == ["apiserver cp1", "apiserver cp2", "apiserver cp3"]
    assert mesh.probes(STACKED, nodes["worker1"]) == []


def test_script_tells_open_from_refused() -> None:
    """Run for real on loopback only (no traffic leaves this machine); timeouts are parsed below."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    open_port = listener.getsockname()[1]
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    probes = [mesh.Probe("a", "127.0.0.1", open_port), mesh.Probe("b", "127.0.0.1", closed_port)]
    try:
        output = subprocess.run(["sh", "-c", mesh.script(probes)], capture_output=True, text=True, timeout=30).stdout
    finally:
        listener.close()
    assert mesh.parse(output) == {("127.0.0.1", open_port): "open", ("127.0.0.1", closed_port): "refused"}
    assert mesh.parse("@@tcp 10.0.0.9 2380 unreachable\nnoise\n") == {("10.0.0.9", 2380): "unreachable"}


def _outputs(results: dict[tuple[str, int], str], node: str) -> dict[str, str]:
    return {node: "".join(f"@@tcp {h} {p} {r}\n" for (h, p), r in results.items())}


def test_verdicts() -> None:
    peers = {
        ("10.20.0.12", 2379): "refused",
        ("10.20.0.12", 2380): "refused",
        ("10.20.0.13", 2379): "open",
        ("10.20.0.13", 2380): "unreachable",
    }
    (cell,) = mesh.mesh_checks(STACKED, _outputs(peers, "cp1"), {})
    assert (
        cell.status is Status.FAIL
        and cell.evidence == "etcd cp3 10.20.0.13:2380 unreachable (timeout or no route: a firewall?)"
    )
    masters = {(f"10.20.0.1{i}", 6443): "refused" for i in (1, 2, 3)}
    (free,) = mesh.mesh_checks(STACKED, _outputs({**masters, ("10.20.0.100", 22): "unreachable"}, "lb1"), {})
    assert free.status is Status.PASS and "VIP 10.20.0.100 free" in free.evidence
    taken = _outputs({**masters, ("10.20.0.100", 22): "open"}, "lb1")
    (stolen,) = mesh.mesh_checks(STACKED, taken, {})
    assert stolen.status is Status.FAIL and "already answers (open) and no lb node holds it" in stolen.evidence
    held = {"lb2": replace(NodeFacts("lb2"), addresses=frozenset({"10.20.0.22", "10.20.0.100"}))}
    (ours,) = mesh.mesh_checks(STACKED, taken, held)
    assert ours.status is Status.PASS and "VIP 10.20.0.100 held by this cluster" in ours.evidence
    (nobash,) = mesh.mesh_checks(STACKED, {"cp2": "@@nobash\n"}, {})
    assert nobash.status is Status.WARN


def test_a_vip_taken_by_our_own_keepalived_meanwhile_is_ours() -> None:
    masters = {(f"10.20.0.1{i}", 6443): "refused" for i in (1, 2, 3)}
    answered = _outputs({**masters, ("10.20.0.100", 22): "open"}, "lb1")
    facts = {"lb2": NodeFacts("lb2", services={"keepalived": "active"})}
    (cell,) = mesh.mesh_checks(STACKED, answered, facts)
    assert cell.status is Status.PASS and "VIP 10.20.0.100 held by this cluster" in cell.evidence


def test_the_mesh_rides_in_the_facts_probe() -> None:
    """One round trip per node: the mesh snippet inside the facts script, both parsed from one output."""
    import time

    from khatui.facts.probe import parse as parse_facts
    from khatui.facts.probe import script as facts_script

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    try:
        text = facts_script([], [], mesh.script([mesh.Probe("a", "127.0.0.1", port)]))
        sent = time.time()
        output = subprocess.run(["sh", "-c", text], capture_output=True, text=True, timeout=30).stdout
    finally:
        listener.close()
    assert output.rstrip().endswith("@@end")
    assert mesh.parse(output) == {("127.0.0.1", port): "open"}
    assert parse_facts("local", output, sent, time.time()).cpus >= 1
