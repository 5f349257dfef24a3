"""The checks of kubeadm's own preflight that khatui can judge from the facts before kubeadm runs,
so an operator meets them in `plan` rather than halfway through `apply`.

Each check cites the upstream code it mirrors; the version tables it reads are in
`khatui.preflight.upstream`. The evidence names kubeadm's check (as `--ignore-preflight-errors`
knows it) and says what to do.
"""

from __future__ import annotations

from collections.abc import Iterator

from khatui.facts.distro import Family, packages_for
from khatui.facts.model import NodeFacts
from khatui.preflight import upstream
from khatui.preflight.results import Check, Status, kubelet_node, runs_kubelet
from khatui.render import kubelet
from khatui.spec.cluster import Cluster
from khatui.spec.components import EtcdRunAs
from khatui.spec.nodes import Node, Role

PACKAGES = {
    "crictl": "cri-tools (from the Kubernetes package repository, pkgs.k8s.io)",
    "ip": "iproute2",
    "tc": "iproute2",
    "mount": "util-linux",
    "nsenter": "util-linux",
    "touch": "coreutils",
}
"""Debian/Ubuntu packages of the executables whose package is not named after them (cri-tools is in
neither distribution: the Kubernetes project publishes it beside kubeadm)."""


def _text(version: tuple[int, int, int]) -> str:
    return ".".join(map(str, version))


def _etcd_version(cluster: Cluster, node: Node, facts: NodeFacts) -> Iterator[tuple[Status, str]]:
    """kubeadm's ExternalEtcdVersion (cmd/kubeadm/app/preflight/checks.go ExternalEtcdVersionCheck):
    khatui always hands kubeadm its etcd as `external` (khatui/render/kubeadm.py), so kubeadm init and
    a control plane's join ask every member's /version and refuse one below MinExternalEtcdVersion."""
    if not node.has(Role.ETCD):
        yield Status.PASS, "not an etcd member"
        return
    spec = cluster.spec
    k8s = spec.control_plane.kubernetes_version
    if spec.etcd.run_as is EtcdRunAs.STATIC_POD or spec.install.enabled:
        how = "static pod image" if spec.etcd.run_as is EtcdRunAs.STATIC_POD else "the rollout installs it"
        seen, where = upstream.parse_version(spec.etcd.version), f"etcd.version {spec.etcd.version} ({how})"
        fix = "set etcd.version"
    else:
        line = facts.binaries.get("etcd", "")
        seen, where = upstream.parse_version(line), f"installed etcd ({line or 'not installed'})"
        fix = "install an etcd of at least that version here (or use etcd.runAs: static-pod with etcd.version"
    floor = upstream.etcd_floor(k8s)
    if seen is None:
        yield Status.WARN, f"{where}: no version to compare with kubeadm {k8s}'s ExternalEtcdVersion check"
    elif floor is None:
        yield (
            Status.WARN,
            f"etcd {_text(seen)}: khatui has no record of kubeadm {k8s}'s MinExternalEtcdVersion; compare it "
            f"with cmd/kubeadm/app/constants/constants.go at {k8s}",
        )
    elif seen < (upstream.parse_version(floor.floor) or (0, 0, 0)):
        close = ")" if fix.startswith("install") else ""
        yield (
            Status.FAIL,
            f"{where} is older than {floor.floor}, the oldest external etcd kubeadm {k8s} accepts: its "
            f'ExternalEtcdVersion check fails with "this version of kubeadm only supports external etcd version '
            f'>= {floor.floor}. Current version: {_text(seen)}". {fix} >= {floor.floor.removesuffix("-0")}{close}',
        )
    else:
        yield Status.PASS, f"etcd {_text(seen)} >= {floor.floor} (kubeadm {k8s}'s MinExternalEtcdVersion)"


def _cri_socket(cluster: Cluster, node: Node, facts: NodeFacts) -> Iterator[tuple[Status, str]]:
    """kubeadm's CRI check (checks.go ContainerRuntimeCheck) and the kubelet need the runtime at the
    criSocket khatui configures (nodeRegistration.criSocket, containerRuntimeEndpoint)."""
    if not runs_kubelet(cluster, node):
        yield Status.PASS, "no kubelet on this node"
        return
    path = kubelet.CRI_SOCKET.removeprefix("unix://")
    if path in facts.sockets:
        yield Status.PASS, f"container runtime socket {path}"
        return
    others = sorted(facts.sockets)
    if cluster.spec.install.enabled:
        beside = f" (beside {', '.join(others)})" if others else ""
        yield Status.PASS, f"no socket at {path} yet: the rollout installs containerd and starts it there{beside}"
        return
    found = f" (found {', '.join(others)}, but khatui configures containerd)" if others else ""
    yield (
        Status.FAIL,
        f"no container runtime socket at {path}{found}: kubeadm's CRI check and the kubelet need containerd "
        "there; install containerd and start it (systemctl enable --now containerd)",
    )


def _cgroup_driver(cluster: Cluster, node: Node, facts: NodeFacts) -> Iterator[tuple[Status, str]]:
    """The kubelet's cgroupDriver must be the runtime's: containerd's runc uses systemd only with
    SystemdCgroup = true (https://kubernetes.io/docs/setup/production-environment/container-runtimes/
    "Configuring the systemd cgroup driver")."""
    if not runs_kubelet(cluster, node):
        yield Status.PASS, "no kubelet on this node"
        return
    driver = facts.containerd_cgroup
    if driver != kubelet.CGROUP_DRIVER and cluster.spec.install.enabled:
        seen = {"no-config": "no /etc/containerd/config.toml yet", "": "not reported"}.get(driver, f"{driver} now")
        yield (
            Status.PASS,
            f"the rollout configures containerd's runc with SystemdCgroup = true, as the kubelet's {kubelet.CGROUP_DRIVER} ({seen})",
        )
        return
    fix = (
        "set SystemdCgroup = true in the runc options of /etc/containerd/config.toml (start from "
        "`containerd config default`) and restart containerd"
    )
    if driver == kubelet.CGROUP_DRIVER:
        yield Status.PASS, f"containerd and the kubelet both use the {driver} cgroup driver"
    elif driver == "no-config":
        yield (
            Status.FAIL,
            f"no /etc/containerd/config.toml: containerd's runc defaults to cgroupfs, the kubelet uses "
            f"{kubelet.CGROUP_DRIVER}; {fix}",
        )
    elif driver:
        yield Status.FAIL, f"containerd's runc uses {driver}, the kubelet {kubelet.CGROUP_DRIVER}; {fix}"
    else:
        yield Status.WARN, "containerd's cgroup driver was not reported"


def rollout_installs(cluster: Cluster, node: Node) -> frozenset[str]:
    """Executables of kubeadm's InPathCheck that the rollout itself installs on `node` (with
    `spec.install.enabled`): crictl with the runtime, the others as distribution packages of the same
    name (conntrack, iptables, ebtables, socat: `facts.distro.NEEDS`)."""
    if not cluster.spec.install.enabled or not kubelet_node(node):
        return frozenset()
    return frozenset({"crictl", *packages_for(cluster, node, Family.DEBIAN)})


def _executables(cluster: Cluster, node: Node, facts: NodeFacts) -> Iterator[tuple[Status, str]]:
    """kubeadm's InPathCheck list for the spec's version (`upstream.kubeadm_executables`)."""
    if not kubelet_node(node):
        yield Status.PASS, "no kubeadm on this node"
        return
    k8s = cluster.spec.control_plane.kubernetes_version
    version = upstream.parse_version(k8s) or (1, 0, 0)
    wanted = upstream.kubeadm_executables(version[1])
    coming = rollout_installs(cluster, node)
    missing = [e for e in wanted if e.name not in facts.in_path and e.name not in coming]
    later = [e.name for e in wanted if e.name not in facts.in_path and e.name in coming]
    note = f"; the rollout installs {', '.join(later)}" if later else ""
    hard = [e.name for e in missing if e.mandatory]
    soft = [e.name for e in missing if not e.mandatory]
    packages = " ".join(dict.fromkeys(PACKAGES.get(name, name) for name in hard + soft))
    checks = ", ".join(f"FileExisting-{name}" for name in hard + soft)
    if hard:
        yield (
            Status.FAIL,
            f"not in PATH: {', '.join(hard)}"
            + (f" (and, optional: {', '.join(soft)})" if soft else "")
            + f"; kubeadm {k8s} refuses to run without them ({checks}): install {packages}{note}",
        )
    elif soft:
        yield Status.WARN, f"not in PATH: {', '.join(soft)}; kubeadm {k8s} warns ({checks}): install {packages}{note}"
    else:
        present = [e.name for e in wanted if e.name in facts.in_path]
        yield Status.PASS, "in PATH: " + (", ".join(present) or "none") + note


def _kubelet_version(cluster: Cluster, node: Node, facts: NodeFacts) -> Iterator[tuple[Status, str]]:
    """kubeadm's KubeletVersion (checks.go KubeletVersionCheck) and the version skew policy
    (`upstream.KUBELET_MAX_MINORS_OLDER`): not newer than the control plane, at most 3 minors older."""
    if not kubelet_node(node):
        yield Status.PASS, "no kubelet on this node"
        return
    k8s = cluster.spec.control_plane.kubernetes_version
    line = facts.binaries.get("kubelet", "")
    seen, wanted = upstream.parse_version(line), upstream.parse_version(k8s)
    if cluster.spec.install.enabled and (seen is None or seen != wanted):
        yield Status.PASS, f"the rollout installs kubelet {k8s} (found {line or 'none'})"
        return
    if seen is None or wanted is None:
        yield Status.WARN, f"kubelet version not known ({line or 'not installed'})"
        return
    oldest = wanted[1] - upstream.KUBELET_MAX_MINORS_OLDER
    fix = f"install kubelet {k8s} (the spec's kubernetesVersion)"
    if seen[:2] > wanted[:2]:
        yield (
            Status.FAIL,
            f"kubelet {_text(seen)} is newer than the control plane {k8s}: kubeadm's KubeletVersion check refuses "
            f'("the kubelet version is higher than the control plane version"); {fix}',
        )
    elif seen[0] != wanted[0] or seen[1] < oldest:
        yield (
            Status.FAIL,
            f"kubelet {_text(seen)} is more than {upstream.KUBELET_MAX_MINORS_OLDER} minor versions older than "
            f"the control plane {k8s} (the version skew policy; kubeadm's KubeletVersion check); {fix}",
        )
    else:
        yield Status.PASS, f"kubelet {_text(seen)} with control plane {k8s}"


CHECKS: dict[str, Check] = {
    "etcd-version": _etcd_version,
    "cri-socket": _cri_socket,
    "cgroup-driver": _cgroup_driver,
    "kubeadm-executables": _executables,
    "kubelet-version": _kubelet_version,
}
"""kubeadm's preflight, as far as facts tell it; `checks.CHECKS` runs these after its own."""
