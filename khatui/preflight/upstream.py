"""What the real kubeadm and kubelet require, by version: the one place these tables live.

Each table cites the upstream source it was read from (kubernetes/kubernetes at a tag, or the
kubernetes.io page), so a reviewer can check a row against the real code. The checks in
`khatui.preflight.kubeadm_checks` judge a node's facts against them before kubeadm runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class EtcdFloor:
    """kubeadm's MinExternalEtcdVersion as of one kubeadm release."""

    minor: int
    patch: int
    floor: str
    source: str


ETCD_FLOORS: tuple[EtcdFloor, ...] = (
    # kubernetes/kubernetes@v1.31.0 cmd/kubeadm/app/constants/constants.go MinExternalEtcdVersion;
    # kubeadm v1.31 reports "this version of kubeadm only supports external etcd version >= 3.5.11-0"
    # (quoted in flatcar/scripts#2311). 1.31 needs etcd's /livez and /readyz, backported to 3.5.11.
    EtcdFloor(31, 0, "3.5.11-0", "kubernetes/kubernetes@v1.31.0 cmd/kubeadm/app/constants/constants.go"),
    # From here MinExternalEtcdVersion follows the lowest entry of SupportedEtcdVersion
    # (kubernetes/kubernetes#134779, cherry-picked to release-1.31..1.33 as #135018..#135020).
    EtcdFloor(31, 14, "3.5.24-0", "kubernetes/kubernetes@v1.31.14 cmd/kubeadm/app/constants/constants.go"),
    EtcdFloor(32, 0, "3.5.16-0", "kubernetes/kubernetes@v1.32.0 cmd/kubeadm/app/constants/constants.go"),
    # release-1.32 at 00886ac01fec1c8432967e8bb597828f46a9ba8b: MinExternalEtcdVersion = "3.5.24-0",
    # SupportedEtcdVersion {29..32: "3.5.24-0"}.
    EtcdFloor(32, 10, "3.5.24-0", "kubernetes/kubernetes@v1.32.10 cmd/kubeadm/app/constants/constants.go"),
    EtcdFloor(33, 0, "3.5.21-0", "kubernetes/kubernetes@v1.33.0 cmd/kubeadm/app/constants/constants.go"),
    EtcdFloor(33, 6, "3.5.24-0", "kubernetes/kubernetes@v1.33.6 cmd/kubeadm/app/constants/constants.go"),
)
"""Recorded floors; a patch between two rows of a minor takes the earlier row (only these tags were
read). A minor with no row here (v1.29, v1.30) is not judged: the check warns instead of guessing."""

KUBELET_MAX_MINORS_OLDER = 3
"""https://kubernetes.io/releases/version-skew-policy/#kubelet: the kubelet must not be newer than
kube-apiserver and may be up to three minor versions older; kubeadm's KubeletVersionCheck
(cmd/kubeadm/app/preflight/checks.go, MinimumKubeletVersion = getSkewedKubernetesVersion(-3) in
constants.go) refuses both."""


@dataclass(frozen=True)
class Executable:
    """One of kubeadm's InPathCheck executables (check name `FileExisting-NAME`)."""

    name: str
    mandatory: bool
    """An error for kubeadm when missing; else a warning."""


def kubeadm_executables(minor: int) -> tuple[Executable, ...]:
    """What kubeadm init/join looks up in PATH for Kubernetes 1.`minor`.

    kubernetes/kubernetes@v1.32.0 cmd/kubeadm/app/preflight/checks_linux.go addExecChecks: conntrack
    only below 1.32 (kubernetes/kubernetes#126952); crictl mandatory below 1.31, a warning in 1.31,
    gone from 1.32 (kubernetes/kubeadm#3064, kubernetes/kubernetes#124685 and #126596).
    """
    found: list[Executable] = []
    if minor < 32:
        found.append(Executable("crictl", minor < 31))
        found.append(Executable("conntrack", True))
    found += [Executable(name, True) for name in ("ip", "iptables", "mount", "nsenter")]
    found += [Executable(name, False) for name in ("ebtables", "ethtool", "socat", "tc", "touch")]
    return tuple(found)


def parse_version(text: str) -> tuple[int, int, int] | None:
    """(major, minor, patch) of the first `X.Y.Z` in `text` ("etcd Version: 3.4.23",
    "Kubernetes v1.31.4", "3.5.11-0"); None when there is none."""
    match = re.search(r"(\d+)\.(\d+)\.(\d+)", text)
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def etcd_floor(kubernetes_version: str) -> EtcdFloor | None:
    """The recorded MinExternalEtcdVersion of the kubeadm for `kubernetes_version`, or None."""
    version = parse_version(kubernetes_version)
    if version is None:
        return None
    rows = [row for row in ETCD_FLOORS if row.minor == version[1] and row.patch <= version[2]]
    return max(rows, key=lambda row: row.patch) if rows else None
