"""The preflight checks: pure functions of (spec, node, facts) -> results with evidence.

A failure blocks `apply` unless the operator waives that check (for a node or everywhere); a warning
is shown and never blocks. Each check names what it saw, so the matrix cell explains itself.
"""

from __future__ import annotations

from collections.abc import Iterator

from khatui.facts.model import NodeFacts
from khatui.preflight import install_checks, kubeadm_checks
from khatui.preflight.results import Check as Check
from khatui.preflight.results import CheckResult as CheckResult
from khatui.preflight.results import Status as Status
from khatui.preflight.results import is_waived, runs_kubelet
from khatui.preflight.results import kubelet_node as _kubelet_node
from khatui.spec.cluster import Cluster
from khatui.spec.components import EtcdRunAs, ProxyMode
from khatui.spec.loadbalancer import HAProxyKeepalived, LocalProxy
from khatui.spec.nodes import Node, Role

SUPPORTED_OS = {"debian", "ubuntu", "rhel", "rocky", "almalinux", "centos", "fedora"}
"""Distributions khatui installs on: apt-get (Debian, Ubuntu) or dnf (the RHEL family). SUSE (zypper)
and Amazon Linux 2 (yum) are left out: khatui has no installer for them (`facts.distro.MANAGER_FAMILY`)."""
KUBELET_PORT = 10250


def _os(cluster: Cluster, node: Node, facts: NodeFacts) -> Iterator[tuple[Status, str]]:
    if facts.os_id in SUPPORTED_OS:
        yield Status.PASS, facts.os_pretty or facts.os_id
    else:
        yield Status.WARN, f"{facts.os_pretty or facts.os_id or 'unknown OS'} is not a tested distribution"


def _swap(cluster: Cluster, node: Node, facts: NodeFacts) -> Iterator[tuple[Status, str]]:
    if not _kubelet_node(node):
        yield Status.PASS, "no kubelet on this node"
    elif facts.swap_devices and cluster.spec.install.enabled:
        yield Status.WARN, f"swap is on ({', '.join(facts.swap_devices)}); the rollout turns it off, now and at boot"
    elif facts.swap_devices:
        yield (
            Status.FAIL,
            f"swap is on ({', '.join(facts.swap_devices)}); the kubelet refuses to start with swap by default: swapoff -a and remove it from /etc/fstab",
        )
    else:
        yield Status.PASS, "swap off"


def _resources(cluster: Cluster, node: Node, facts: NodeFacts) -> Iterator[tuple[Status, str]]:
    seen = f"{facts.cpus} CPUs, {facts.memory_mib} MiB"
    if node.has(Role.CONTROL_PLANE) and (facts.cpus < 2 or facts.memory_mib < 1700):
        yield Status.FAIL, f"{seen}; a control plane needs at least 2 CPUs and 1700 MiB (kubeadm's minimum)"
    elif facts.memory_mib < 1024:
        yield Status.WARN, f"{seen}; less than 1 GiB of memory"
    else:
        yield Status.PASS, seen


def _clock(cluster: Cluster, node: Node, facts: NodeFacts) -> Iterator[tuple[Status, str]]:
    offset = facts.clock_offset_s
    seen = f"clock {offset:+.2f} s from this machine"
    if abs(offset) > 2:
        yield (
            Status.FAIL,
            f"{seen}; certificates and etcd leases need clocks within 2 s: run NTP (chrony, systemd-timesyncd)",
        )
    elif abs(offset) > 0.5:
        yield Status.WARN, f"{seen}; keep clocks synchronised"
    else:
        yield Status.PASS, seen


def expected_listeners(cluster: Cluster, node: Node) -> dict[int, tuple[str, ...]]:
    """Ports this node will listen on once rolled out -> process names allowed to hold them already."""
    spec = cluster.spec
    ports: dict[int, tuple[str, ...]] = {}
    if node.has(Role.ETCD):
        ports[spec.etcd.client_port] = ("etcd",)
        ports[spec.etcd.peer_port] = ("etcd",)
    if node.has(Role.CONTROL_PLANE):
        ports[spec.control_plane.api_port] = ("kube-apiserver",)
    if _kubelet_node(node):
        ports[KUBELET_PORT] = ("kubelet",)
    lb = spec.load_balancer
    if isinstance(lb, HAProxyKeepalived) and node.has(Role.LB):
        ports[lb.port] = ("haproxy",)
    if isinstance(lb, LocalProxy) and _kubelet_node(node):
        ports[lb.port] = (lb.implementation,)
    return ports


def _ports(cluster: Cluster, node: Node, facts: NodeFacts) -> Iterator[tuple[Status, str]]:
    busy = []
    for port, allowed in sorted(expected_listeners(cluster, node).items()):
        holder = facts.listening.get(port)
        if holder is not None and holder not in allowed:
            busy.append(f"{port} (held by {holder or 'another process'})")
    if busy:
        yield Status.FAIL, "ports in use: " + ", ".join(busy)
    else:
        yield (
            Status.PASS,
            "free or held by the expected component: " + ", ".join(map(str, sorted(expected_listeners(cluster, node)))),
        )


def _ipvs(cluster: Cluster, node: Node, facts: NodeFacts) -> Iterator[tuple[Status, str]]:
    proxy = cluster.spec.kube_proxy
    if proxy.mode is not ProxyMode.IPVS or not _kubelet_node(node):
        yield Status.PASS, f"kube-proxy mode {proxy.mode.value}"
        return
    scheduler = proxy.ipvs_scheduler.value if proxy.ipvs_scheduler else "rr"
    needed = sorted({"ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_sh", f"ip_vs_{scheduler}", "nf_conntrack"})
    missing = [m for m in needed if not facts.has_module(m)]
    if missing:
        yield (
            Status.FAIL,
            f"IPVS kernel modules that cannot be loaded (neither loaded, built in nor in modules.dep): "
            f"{', '.join(missing)} (kernel {facts.kernel or 'unknown'}); use kube-proxy mode iptables or a kernel with IPVS",
        )
    else:
        yield Status.PASS, "IPVS modules: " + ", ".join(needed)


def required_binaries(cluster: Cluster, node: Node) -> list[str]:
    """Binaries the node's roles run: the rollout installs them with `spec.install.enabled`, else
    they must be there already."""
    spec, needed = cluster.spec, []
    if node.has(Role.ETCD) and spec.etcd.run_as is EtcdRunAs.SYSTEMD:
        needed.append("etcd")
    if runs_kubelet(cluster, node):
        needed += ["kubeadm", "kubelet"]
    lb = spec.load_balancer
    if isinstance(lb, HAProxyKeepalived) and node.has(Role.LB):
        needed += ["haproxy", "keepalived"]
    if isinstance(lb, LocalProxy) and _kubelet_node(node):
        needed.append(lb.implementation)
    return list(dict.fromkeys(needed))


def _binaries(cluster: Cluster, node: Node, facts: NodeFacts) -> Iterator[tuple[Status, str]]:
    needed = required_binaries(cluster, node)
    missing = [b for b in needed if b not in facts.binaries]
    found = "; ".join(f"{b}: {facts.binaries[b]}" for b in needed if b in facts.binaries)
    if missing and cluster.spec.install.enabled:
        yield Status.PASS, f"the rollout installs {', '.join(missing)}" + (f"; found {found}" if found else "")
    elif missing:
        yield (
            Status.FAIL,
            f"not installed: {', '.join(missing)} (install them from your distribution or pkgs.k8s.io first)",
        )
    else:
        yield Status.PASS, found or "nothing needed"


def _forwarding(cluster: Cluster, node: Node, facts: NodeFacts) -> Iterator[tuple[Status, str]]:
    value = facts.sysctls.get("net.ipv4.ip_forward")
    if _kubelet_node(node) and value != "1":
        yield Status.WARN, f"net.ipv4.ip_forward={value or 'unknown'}; khatui sets it to 1"
    else:
        yield Status.PASS, f"net.ipv4.ip_forward={value or 'n/a'}"


def _etcd_members(cluster: Cluster, node: Node, facts: NodeFacts) -> Iterator[tuple[Status, str]]:
    """A running etcd cluster must be the spec's: khatui forms new clusters; it does not add members."""
    if not node.has(Role.ETCD):
        yield Status.PASS, "not an etcd member"
        return
    if facts.etcd_members is None:
        if facts.etcd_members_error:
            yield Status.WARN, f"{facts.etcd_members_error}; the rollout (re)starts this member"
        else:
            yield Status.PASS, "no etcd member set up here yet"
        return
    wanted = [n.name for n in cluster.spec.with_role(Role.ETCD)]
    running = [m.name for m in facts.etcd_members if m.name]
    pending = len(facts.etcd_members) - len(running)
    seen = f"running: {', '.join(running) or 'none'}" + (f" (+{pending} added, not started)" if pending else "")
    missing = [name for name in wanted if name not in running]
    extra = [name for name in running if name not in wanted]
    if missing:
        yield (
            Status.FAIL,
            f"{seen}; not members of that cluster: {', '.join(missing)}. khatui forms new etcd clusters only: "
            f"add each with `etcdctl member add NAME --peer-urls=...` first, or remove the running cluster",
        )
    elif extra:
        yield (
            Status.WARN,
            f"{seen}; not in the spec: {', '.join(extra)} (they still count for quorum; "
            "`etcdctl member remove ID` once they are gone)",
        )
    else:
        yield Status.PASS, f"{seen} (as in the spec)"


CHECKS: dict[str, Check] = {
    "os": _os,
    "swap": _swap,
    "resources": _resources,
    "clock": _clock,
    "ports": _ports,
    "ipvs-modules": _ipvs,
    "binaries": _binaries,
    "ip-forward": _forwarding,
    "etcd-members": _etcd_members,
    **kubeadm_checks.CHECKS,
    **install_checks.CHECKS,
}


def preflight(
    cluster: Cluster, facts: dict[str, NodeFacts], waivers: frozenset[str] = frozenset()
) -> list[CheckResult]:
    """The matrix, row by row. A waiver is `CHECK` (everywhere) or `CHECK:NODE`."""
    results = []
    for node in cluster.spec.nodes:
        node_facts = facts.get(node.name)
        for name, check in CHECKS.items():
            waived = is_waived(name, node.name, waivers)
            if node_facts is None:
                results.append(
                    CheckResult(node.name, name, Status.FAIL, "no facts: the node was not reachable", waived)
                )
                continue
            for status, evidence in check(cluster, node, node_facts):
                results.append(CheckResult(node.name, name, status, evidence, waived))
    return results
