"""The network mesh preflight: can each node reach the peers it will talk to, and is the VIP free?

Each node tries a TCP connection to each peer port with bash's /dev/tcp. Before the rollout nothing
listens there yet, so "refused" is a pass: the peer's kernel answered, nothing filters the path.
Only a timeout or "no route" fails. The VIP must not answer at all, unless one of the cluster's
own lb nodes holds it already (a re-run). Pure: the script is text, its output is parsed here.
"""

from __future__ import annotations

from dataclasses import dataclass

from khatui.facts.model import NodeFacts
from khatui.preflight.checks import CheckResult, Status
from khatui.preflight.results import is_waived
from khatui.quoting import shell as sh
from khatui.spec.cluster import Cluster
from khatui.spec.loadbalancer import HAProxyKeepalived, KubeVip
from khatui.spec.nodes import Node, Role

CHECK = "network"


@dataclass(frozen=True)
class Probe:
    """One TCP connection attempt from a node."""

    label: str
    host: str
    port: int


def probes(cluster: Cluster, node: Node) -> list[Probe]:
    """What `node` must reach: etcd peers on 2379/2380, masters' API port from lb nodes, and the VIP."""
    spec, found = cluster.spec, []
    if node.has(Role.ETCD):
        for peer in spec.with_role(Role.ETCD):
            if peer.name != node.name:
                found += [Probe(f"etcd {peer.name}", str(peer.address), spec.etcd.client_port)]
                found += [Probe(f"etcd {peer.name}", str(peer.address), spec.etcd.peer_port)]
    if node.has(Role.LB) and isinstance(spec.load_balancer, HAProxyKeepalived):
        for master in spec.with_role(Role.CONTROL_PLANE):
            if master.name != node.name:
                found.append(Probe(f"apiserver {master.name}", str(master.address), spec.control_plane.api_port))
    lb = spec.load_balancer
    holders = spec.with_role(Role.LB) if isinstance(lb, HAProxyKeepalived) else spec.with_role(Role.CONTROL_PLANE)
    if isinstance(lb, HAProxyKeepalived | KubeVip) and holders and holders[0].name == node.name:
        found.append(Probe("vip", str(lb.vip), 22))
    return found


_TCP = """\
khatui_tcp() {
  r=$(timeout 3 bash -c 'exec 3<>/dev/tcp/"$1"/"$2"' _ "$1" "$2" 2>&1); c=$?
  case "$c:$r" in 0:*) s=open;; 124:*) s=unreachable;; *refused*) s=refused;; *) s=unreachable;; esac
  printf '@@tcp %s %s %s\\n' "$1" "$2" "$s"
}
"""
"""Probes one host and port; both reach bash as arguments, never as script text."""


def script(found: list[Probe]) -> str:
    """A read-only shell snippet printing `@@tcp host port result` per probe (open, refused, unreachable);
    it never exits, so it runs inside the facts probe, in the same round trip."""
    lines = ["if ! command -v bash >/dev/null; then echo @@nobash; else :", _TCP.rstrip("\n")]
    lines += [sh.cmd("khatui_tcp", probe.host, probe.port) for probe in found]
    lines.append("fi")
    return "\n".join(lines) + "\n"


def parse(output: str) -> dict[tuple[str, int], str] | None:
    """(host, port) -> result; None when the node has no bash to probe with."""
    if "@@nobash" in output:
        return None
    results = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[0] == "@@tcp" and parts[2].isdigit():
            results[(parts[1], int(parts[2]))] = parts[3]
    return results


def mesh_checks(
    cluster: Cluster,
    outputs: dict[str, str],
    facts: dict[str, NodeFacts],
    waivers: frozenset[str] = frozenset(),
) -> list[CheckResult]:
    """One `network` cell per node that ran its probes."""
    addresses = {a for f in facts.values() for a in f.addresses}
    # keepalived may take the VIP between the facts probe and this one (a resumed rollout): a VIP
    # that answers while this cluster's own keepalived or kube-vip runs is this cluster's.
    ours = any(f.services.get("keepalived") == "active" for f in facts.values()) or any(
        "kube-vip" in process for f in facts.values() for process in f.listening.values()
    )
    results = []
    for node in cluster.spec.nodes:
        if node.name not in outputs:
            continue
        waived = is_waived(CHECK, node.name, waivers)
        found = parse(outputs[node.name])
        if found is None:
            results.append(
                CheckResult(node.name, CHECK, Status.WARN, "no bash on the node: reachability not checked", waived)
            )
            continue
        problems, seen = [], []
        for probe in probes(cluster, node):
            result = found.get((probe.host, probe.port), "unreachable")
            if probe.label == "vip":
                held = probe.host in addresses or ours
                if result != "unreachable" and not held:
                    problems.append(
                        f"the VIP {probe.host} already answers ({result}) and no lb node holds it: another machine uses it"
                    )
                else:
                    seen.append(
                        f"VIP {probe.host} {'held by this cluster' if held and result != 'unreachable' else 'free'}"
                    )
            elif result == "unreachable":
                problems.append(
                    f"{probe.label} {probe.host}:{probe.port} unreachable (timeout or no route: a firewall?)"
                )
            else:
                seen.append(f"{probe.label}:{probe.port} {result}")
        status = Status.FAIL if problems else Status.PASS
        evidence = "; ".join(problems) if problems else (", ".join(seen) or "no peers to reach")
        results.append(CheckResult(node.name, CHECK, status, evidence, waived))
    return results
