"""kubelet stand-in: the node's conditions, computed from the node's files as the real kubelet does.

Pure functions over a root folder (the node's `/`, a temporary folder in tests) so each rule is
tested by writing the state it reads. The wording is upstream's (kubernetes/kubernetes
pkg/kubelet/runtime.go, kubelet.go `updateRuntimeUp`, nodestatus/setters.go `ReadyCondition`;
containerd's CRI `Status` and go-cni `Status`), so `kubectl get nodes` shows what a real node shows.
Rules and their sources: lab/khatui_lab/rules/kubelet.yaml.
"""

from __future__ import annotations

import json
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_RUNTIME_ENDPOINT = "unix:///run/containerd/containerd.sock"
CNI_CONF_DIR = "etc/cni/net.d"
CNI_BIN_DIR = "opt/cni/bin"
CNI_EXTENSIONS = (".conf", ".conflist", ".json")
CONTAINERD_CONFIG = "etc/containerd/config.toml"
RUNTIME_SYNC_THRESHOLD = 30.0
"""kubelet.go maxWaitForContainerRuntime: the runtime is down when it has not answered for this long."""
NETWORK_UNKNOWN = "network state unknown"
CNI_NOT_INITIALIZED = "cni plugin not initialized"
NETWORK_NOT_READY = "network is not ready"
SWAP_REFUSED = "running with swap on is not supported, please disable swap or set --fail-swap-on flag to false"


@dataclass(frozen=True)
class Condition:
    """One entry of a Node's status.conditions (times are added by the caller)."""

    type: str
    status: str
    reason: str
    message: str


def aggregate(errors: list[str]) -> str | None:
    """apimachinery's errors.NewAggregate(...).Error(): None, the one message, or "[a, b]" (deduplicated)."""
    seen: list[str] = []
    for message in errors:
        if message and message not in seen:
            seen.append(message)
    if not seen:
        return None
    return seen[0] if len(seen) == 1 else "[" + ", ".join(seen) + "]"


def runtime_errors(last_sync: float | None, now: float) -> list[str]:
    """runtimeState.runtimeErrors: never answered, or silent for longer than the threshold."""
    if last_sync is None:
        return ["container runtime status check may not have completed yet"]
    if last_sync + RUNTIME_SYNC_THRESHOLD <= now:
        return ["container runtime is down"]
    return []


def ready_condition(runtime: list[str], network: list[str]) -> Condition:
    """nodestatus.ReadyCondition: KubeletReady unless the runtime or the network reports an error."""
    message = aggregate([m for m in (aggregate(runtime), aggregate(network)) if m])
    if message is None:
        return Condition("Ready", "True", "KubeletReady", "kubelet is posting ready status")
    return Condition("Ready", "False", "KubeletNotReady", message)


def pressure_conditions() -> list[Condition]:
    """MemoryPressure, DiskPressure, PIDPressure: the stand-in runs no eviction manager, it reports none."""
    return [
        Condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
        Condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        Condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    ]


def cni_networks(root: Path) -> list[str] | None:
    """Plugin types of the default CNI network (go-cni loadFromConfDir: the first file, sorted); None when unusable."""
    folder = root / CNI_CONF_DIR
    try:
        files = sorted(p for p in folder.iterdir() if p.suffix in CNI_EXTENSIONS and not p.is_dir())
    except OSError:
        return None
    if not files:
        return None
    try:
        data = json.loads(files[0].read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    plugins: Any = data.get("plugins") if files[0].suffix == ".conflist" else [data]
    if not isinstance(plugins, list) or not plugins:
        return None
    types = [str(p.get("type")) for p in plugins if isinstance(p, dict) and p.get("type")]
    return types if len(types) == len(plugins) else None


def network_errors(root: Path) -> list[str]:
    """What containerd's CRI Status reports as NetworkReady=false, in the kubelet's words."""
    if cni_networks(root) is not None:
        return []
    return [
        "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
        f"message:Network plugin returns error: {CNI_NOT_INITIALIZED}"
    ]


def sandbox_error(root: Path, host_network: bool, network: list[str]) -> str | None:
    """Why a pod's sandbox cannot start: the node network (kubelet SyncPod) or a missing CNI plugin binary."""
    if host_network:
        return None
    if network:
        return f"{NETWORK_NOT_READY}: {aggregate(network)}"
    for plugin in cni_networks(root) or []:
        if not (root / CNI_BIN_DIR / plugin).is_file():
            return f'plugin type="{plugin}" failed (add): failed to find plugin "{plugin}" in path [/{CNI_BIN_DIR}]'
    return None


def swap_on(root: Path) -> bool:
    """swap.IsSwapOn: /proc/swaps lists more than its header line."""
    try:
        lines = (root / "proc/swaps").read_text().strip().splitlines()
    except OSError:
        return False
    return len(lines) > 1


def runtime_socket(endpoint: str, root: Path) -> Path:
    """The unix socket of a `unix://` CRI endpoint, under `root`."""
    return root / endpoint.removeprefix("unix://").lstrip("/")


def runtime_answers(endpoint: str, root: Path) -> bool:
    """True when the CRI socket accepts a connection (the stand-in cannot speak CRI's gRPC)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(2)
        try:
            sock.connect(str(runtime_socket(endpoint, root)))
        except OSError:
            return False
    return True


def runtime_refusal(endpoint: str, root: Path) -> str | None:
    """Why the kubelet exits at start when its CRI endpoint does not answer (cri-client's
    NewRemoteRuntimeService validates the runtime before the kubelet runs); None when it answers."""
    if runtime_answers(endpoint, root):
        return None
    path = "/" + str(runtime_socket(endpoint, root).relative_to(root))
    reason = "connection refused" if runtime_socket(endpoint, root).exists() else "no such file or directory"
    return (
        f'failed to run Kubelet: validate service connection: validate CRI v1 runtime API for endpoint "{endpoint}": '
        f'rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: '
        f'dial unix {path}: connect: {reason}"'
    )


def runtime_cgroup_driver(root: Path) -> str | None:
    """containerd's runc cgroup driver (SystemdCgroup in config.toml, default false); None without containerd."""
    config = root / CONTAINERD_CONFIG
    try:
        text = config.read_text()
    except OSError:
        installed = any((root / d / "containerd").is_file() for d in ("usr/bin", "usr/local/bin"))
        return "cgroupfs" if installed else None
    return "systemd" if re.search(r"^\s*SystemdCgroup\s*=\s*true\s*$", text, re.MULTILINE) else "cgroupfs"


def cgroup_mismatch(kubelet_driver: str, root: Path) -> str | None:
    """The refusal when the kubelet's cgroupDriver and the runtime's differ; None when they agree."""
    runtime = runtime_cgroup_driver(root)
    if runtime is None or runtime == kubelet_driver:
        return None
    return (
        f'kubelet cgroup driver "{kubelet_driver}" is different from the container runtime\'s "{runtime}" '
        f"(SystemdCgroup in /{CONTAINERD_CONFIG}): the kubelet and the container runtime must use the same cgroup driver"
    )
