"""Preflight checks, table-driven: an example spec + facts of a node -> status and evidence."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from khatui.facts.model import EtcdMember, NodeFacts
from khatui.facts.probe import PATH_EXECUTABLES
from khatui.preflight.checks import CHECKS, Status, preflight
from khatui.spec.cluster import Cluster
from khatui.spec.install import Install
from khatui.spec.yamlio import load_file
from tests.conftest import ROOT

STACKED = Cluster.model_validate(load_file(str(ROOT / "assets/examples/stacked-haproxy-ipvs-nfs.yaml")).data)
"""The example as it is: khatui installs the nodes (`spec.install.enabled` by default)."""
MANUAL = STACKED.model_copy(update={"spec": STACKED.spec.model_copy(update={"install": Install(enabled=False)})})
"""The same spec with the nodes prepared by the operator: a case's `"install": False` picks it."""


def members(*names: str) -> tuple[EtcdMember, ...]:
    return tuple(EtcdMember(name, f"{i + 1:x}", (f"https://10.20.0.{i}:2380",)) for i, name in enumerate(names))


IPVS = frozenset({"ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_sh", "nf_conntrack"})
ALL_BINARIES = {b: f"{b} 1.0" for b in ("etcd", "kubeadm", "haproxy", "keepalived")} | {"kubelet": "Kubernetes v1.31.4"}
IN_PATH = frozenset(PATH_EXECUTABLES)
SOCKET = "/var/run/containerd/containerd.sock"


def healthy(node: str) -> NodeFacts:
    return NodeFacts(
        node,
        os_id="debian",
        os_pretty="Debian 12",
        kernel="6.1",
        cpus=4,
        memory_mib=8000,
        modules_available=IPVS,
        sysctls={"net.ipv4.ip_forward": "1"},
        binaries=dict(ALL_BINARIES),
        in_path=IN_PATH,
        sockets=frozenset({SOCKET}),
        containerd_cgroup="systemd",
        package_manager="apt-get",
        disk_free_mib={"/usr/local": 30000, "/var/lib/containerd": 30000, "/opt": 30000},
    )


CASES: dict[str, tuple[str, dict[str, Any], str, Status, str]] = {
    "no etcd yet": ("cp1", {}, "etcd-members", Status.PASS, "no etcd member set up here yet"),
    "etcd on a worker is not looked at": ("worker1", {}, "etcd-members", Status.PASS, "not an etcd member"),
    "running etcd as in the spec": (
        "cp2",
        {"etcd_members": members("cp3", "cp1", "cp2")},
        "etcd-members",
        Status.PASS,
        "running: cp3, cp1, cp2 (as in the spec)",
    ),
    "running etcd lacks a spec member": (
        "cp1",
        {"etcd_members": members("cp1", "cp2")},
        "etcd-members",
        Status.FAIL,
        "running: cp1, cp2; not members of that cluster: cp3. khatui forms new etcd clusters only",
    ),
    "member added but not started": (
        "cp1",
        {"etcd_members": members("cp1", "cp2", "")},
        "etcd-members",
        Status.FAIL,
        "running: cp1, cp2 (+1 added, not started); not members of that cluster: cp3",
    ),
    "running etcd has a member the spec dropped": (
        "cp1",
        {"etcd_members": members("cp1", "cp2", "cp3", "old4")},
        "etcd-members",
        Status.WARN,
        "not in the spec: old4 (they still count for quorum",
    ),
    "etcd set up but not answering": (
        "cp3",
        {"etcd_members_error": "the local etcd member did not list its cluster: no answer"},
        "etcd-members",
        Status.WARN,
        "no answer; the rollout (re)starts this member",
    ),
    "healthy master": ("cp1", {}, "binaries", Status.PASS, "kubeadm: kubeadm 1.0"),
    "unknown os": (
        "cp1",
        {"os_id": "gentoo", "os_pretty": "Gentoo"},
        "os",
        Status.WARN,
        "Gentoo is not a tested distribution",
    ),
    "swap on a master": (
        "cp1",
        {"swap_devices": ("/dev/sda3",)},
        "swap",
        Status.WARN,
        "swap is on (/dev/sda3); the rollout turns it off, now and at boot",
    ),
    "no package manager": (
        "lb1",
        {"package_manager": "none", "os_pretty": "Alpine Linux v3.20"},
        "install",
        Status.FAIL,
        "neither apt-get nor dnf found (Alpine Linux v3.20): khatui cannot install haproxy, keepalived",
    ),
    "dnf node": (
        "worker1",
        {"package_manager": "dnf", "packages": {"curl": "7.76.1"}},
        "install",
        Status.PASS,
        "dnf; to install: conntrack, socat, iptables, ebtables, ipset, ca-certificates, ipvsadm, nfs-utils",
    ),
    "package lock held": (
        "cp2",
        {"package_locks": ("/var/lib/dpkg/lock-frontend held by unattended-upgr (pid 812)",)},
        "install",
        Status.WARN,
        "held by unattended-upgr (pid 812): the install waits up to 300 s for it",
    ),
    "little disk": (
        "cp3",
        {"disk_free_mib": {"/usr/local": 900, "/opt": 9000}},
        "install",
        Status.FAIL,
        "/usr/local 900 MiB free, /opt 9000 MiB free; binaries and images need at least 2048 MiB on /usr/local",
    ),
    "swap on an lb node": ("lb1", {"swap_devices": ("/dev/sda3",)}, "swap", Status.PASS, "no kubelet"),
    "small master": (
        "cp1",
        {"cpus": 1},
        "resources",
        Status.FAIL,
        "1 CPUs, 8000 MiB; a control plane needs at least 2 CPUs",
    ),
    "small worker": ("worker1", {"cpus": 1, "memory_mib": 900}, "resources", Status.WARN, "less than 1 GiB"),
    "clock skew": ("cp2", {"clock_offset_s": -3.25}, "clock", Status.FAIL, "clock -3.25 s from this machine"),
    "slight skew": ("cp2", {"clock_offset_s": 0.8}, "clock", Status.WARN, "+0.80 s"),
    "port taken": (
        "cp1",
        {"listening": {2379: "postgres"}},
        "ports",
        Status.FAIL,
        "ports in use: 2379 (held by postgres)",
    ),
    "port held by etcd already": (
        "cp1",
        {"listening": {2379: "etcd", 2380: "etcd"}},
        "ports",
        Status.PASS,
        "2379, 2380, 6443, 10250",
    ),
    "haproxy port on lb": ("lb1", {"listening": {6443: "nginx"}}, "ports", Status.FAIL, "6443 (held by nginx)"),
    "ipvs modules missing": (
        "worker1",
        {"modules_available": frozenset(), "kernel": "6.1.0-lab"},
        "ipvs-modules",
        Status.FAIL,
        "IPVS kernel modules that cannot be loaded (neither loaded, built in nor in modules.dep): ip_vs, ip_vs_rr, ip_vs_sh, ip_vs_wrr, nf_conntrack (kernel 6.1.0-lab)",
    ),
    "ipvs not needed on lb": ("lb1", {"modules_available": frozenset()}, "ipvs-modules", Status.PASS, "ipvs"),
    "kubeadm missing": (
        "cp3",
        {"install": False, "binaries": {"etcd": "3.5"}},
        "binaries",
        Status.FAIL,
        "not installed: kubeadm, kubelet",
    ),
    "keepalived missing on lb": (
        "lb2",
        {"install": False, "binaries": {"haproxy": "2.6"}},
        "binaries",
        Status.FAIL,
        "not installed: keepalived",
    ),
    "static-pod etcd at the spec's version": (
        "cp1",
        {},
        "etcd-version",
        Status.PASS,
        "etcd 3.5.16 >= 3.5.11-0 (kubeadm v1.31.4's MinExternalEtcdVersion)",
    ),
    "etcd version not looked at off etcd nodes": ("lb1", {}, "etcd-version", Status.PASS, "not an etcd member"),
    "no runtime socket": (
        "worker1",
        {"install": False, "sockets": frozenset()},
        "cri-socket",
        Status.FAIL,
        f"no container runtime socket at {SOCKET}: kubeadm's CRI check and the kubelet need containerd there; "
        "install containerd and start it",
    ),
    "another runtime's socket": (
        "cp2",
        {"install": False, "sockets": frozenset({"/var/run/crio/crio.sock"})},
        "cri-socket",
        Status.FAIL,
        "(found /var/run/crio/crio.sock, but khatui configures containerd)",
    ),
    "static-pod etcd node needs the runtime too": (
        "cp1",
        {"install": False, "sockets": frozenset()},
        "cri-socket",
        Status.FAIL,
        SOCKET,
    ),
    "no runtime needed on an lb": ("lb1", {"sockets": frozenset()}, "cri-socket", Status.PASS, "no kubelet"),
    "containerd on cgroupfs": (
        "worker1",
        {"install": False, "containerd_cgroup": "cgroupfs"},
        "cgroup-driver",
        Status.FAIL,
        "containerd's runc uses cgroupfs, the kubelet systemd; set SystemdCgroup = true",
    ),
    "containerd without a config": (
        "cp1",
        {"install": False, "containerd_cgroup": "no-config"},
        "cgroup-driver",
        Status.FAIL,
        "no /etc/containerd/config.toml: containerd's runc defaults to cgroupfs",
    ),
    "cgroup driver not reported": (
        "cp1",
        {"install": False, "containerd_cgroup": ""},
        "cgroup-driver",
        Status.WARN,
        "not reported",
    ),
    "conntrack and iptables missing for v1.31, and the rollout installs them": (
        "worker1",
        {"in_path": IN_PATH - {"conntrack", "iptables", "socat"}},
        "kubeadm-executables",
        Status.PASS,
        "; the rollout installs conntrack, iptables, socat",
    ),
    "an executable the rollout does not install still fails": (
        "worker1",
        {"in_path": IN_PATH - {"conntrack", "mount"}},
        "kubeadm-executables",
        Status.FAIL,
        "not in PATH: mount; kubeadm v1.31.4 refuses to run without them (FileExisting-mount): install "
        "util-linux; the rollout installs conntrack",
    ),
    "conntrack and iptables missing for v1.31 when the operator installs": (
        "worker1",
        {"install": False, "in_path": IN_PATH - {"conntrack", "iptables", "socat"}},
        "kubeadm-executables",
        Status.FAIL,
        "not in PATH: conntrack, iptables (and, optional: socat); kubeadm v1.31.4 refuses to run without them "
        "(FileExisting-conntrack, FileExisting-iptables, FileExisting-socat): install conntrack iptables socat",
    ),
    "crictl only warns in v1.31": (
        "cp2",
        {"install": False, "in_path": IN_PATH - {"crictl"}},
        "kubeadm-executables",
        Status.WARN,
        "not in PATH: crictl; kubeadm v1.31.4 warns (FileExisting-crictl): install cri-tools",
    ),
    "executables not looked at on an lb": ("lb1", {"in_path": frozenset()}, "kubeadm-executables", Status.PASS, ""),
    "kubelet newer than the control plane": (
        "worker1",
        {"install": False, "binaries": ALL_BINARIES | {"kubelet": "Kubernetes v1.32.0"}},
        "kubelet-version",
        Status.FAIL,
        "kubelet 1.32.0 is newer than the control plane v1.31.4: kubeadm's KubeletVersion check refuses",
    ),
    "kubelet three minors older": (
        "worker1",
        {"install": False, "binaries": ALL_BINARIES | {"kubelet": "Kubernetes v1.28.15"}},
        "kubelet-version",
        Status.PASS,
        "kubelet 1.28.15 with control plane v1.31.4",
    ),
    "kubelet four minors older": (
        "worker1",
        {"install": False, "binaries": ALL_BINARIES | {"kubelet": "Kubernetes v1.27.16"}},
        "kubelet-version",
        Status.FAIL,
        "kubelet 1.27.16 is more than 3 minor versions older than the control plane v1.31.4 (the version skew "
        "policy; kubeadm's KubeletVersion check); install kubelet v1.31.4",
    ),
    "kubelet not installed": (
        "cp3",
        {"install": False, "binaries": {}},
        "kubelet-version",
        Status.WARN,
        "not installed",
    ),
    "kube tools the rollout installs": (
        "cp3",
        {"binaries": {"etcd": "3.5"}},
        "binaries",
        Status.PASS,
        "the rollout installs kubeadm, kubelet",
    ),
    "keepalived the rollout installs": (
        "lb2",
        {"binaries": {}},
        "binaries",
        Status.PASS,
        "installs haproxy, keepalived",
    ),
    "no runtime socket yet, the rollout installs containerd": (
        "worker1",
        {"sockets": frozenset({"/var/run/crio/crio.sock"})},
        "cri-socket",
        Status.PASS,
        f"no socket at {SOCKET} yet: the rollout installs containerd and starts it there (beside /var/run/crio/crio.sock)",
    ),
    "containerd on cgroupfs, the rollout configures systemd": (
        "worker1",
        {"containerd_cgroup": "cgroupfs"},
        "cgroup-driver",
        Status.PASS,
        "the rollout configures containerd's runc with SystemdCgroup = true, as the kubelet's systemd (cgroupfs now)",
    ),
    "no containerd config yet, the rollout writes it": (
        "cp1",
        {"containerd_cgroup": "no-config"},
        "cgroup-driver",
        Status.PASS,
        "(no /etc/containerd/config.toml yet)",
    ),
    "kubelet the rollout replaces": (
        "cp3",
        {"binaries": {"kubelet": "Kubernetes v1.32.0"}},
        "kubelet-version",
        Status.PASS,
        "the rollout installs kubelet v1.31.4 (found Kubernetes v1.32.0)",
    ),
    "forwarding off": (
        "worker1",
        {"sysctls": {"net.ipv4.ip_forward": "0"}},
        "ip-forward",
        Status.WARN,
        "khatui sets it to 1",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_check(name: str) -> None:
    node, changes, check, status, evidence = CASES[name]
    changes = dict(changes)
    cluster = STACKED if changes.pop("install", True) else MANUAL
    facts = {n.name: healthy(n.name) for n in cluster.spec.nodes}
    facts[node] = replace(facts[node], **changes)
    (result,) = [r for r in preflight(cluster, facts) if r.node == node and r.check == check]
    assert result.status is status
    assert evidence in result.evidence


def test_healthy_cluster_passes_everything() -> None:
    results = preflight(STACKED, {n.name: healthy(n.name) for n in STACKED.spec.nodes})
    assert {r.status for r in results} == {Status.PASS}
    assert len(results) == len(STACKED.spec.nodes) * len(CHECKS)


def test_unreachable_node_fails_every_check_and_waivers_unblock() -> None:
    facts = {n.name: healthy(n.name) for n in STACKED.spec.nodes if n.name != "worker2"}
    results = preflight(STACKED, facts)
    worker = [r for r in results if r.node == "worker2"]
    assert worker and all(r.status is Status.FAIL and r.blocks for r in worker)
    small = replace(healthy("cp1"), cpus=1)
    waived = preflight(STACKED, {**facts, "worker2": healthy("worker2"), "cp1": small}, frozenset({"resources:cp1"}))
    (cell,) = [r for r in waived if r.node == "cp1" and r.check == "resources"]
    assert cell.status is Status.FAIL and cell.waived and not cell.blocks
