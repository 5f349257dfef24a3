"""kubelet stand-in: registers its Node with the API server and posts its status, as the real kubelet.

Once the kubelet's kubeconfig is usable (kubeadm init writes /etc/kubernetes/kubelet.conf; a joining
kubelet makes it by TLS bootstrap from bootstrap-kubelet.conf, `kubelet_bootstrap`) it creates the
Node (`POST /api/v1/nodes`; 409 AlreadyExists means registered, as `tryRegisterWithAPIServer`),
then every few seconds patches `/api/v1/nodes/<name>/status` with its conditions, addresses,
capacity and nodeInfo. An API server that does not answer yet is retried forever, as the real
kubelet does. The kubelet adds only the well-known labels: kubeadm's mark-control-plane phase, not
the kubelet, adds the control-plane label and taint. The conditions come from `kubelet_status`,
which the static-pod loop reads too (a pod without hostNetwork does not start on a node whose
network is not ready).
"""

from __future__ import annotations

import os
import platform
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import kubelet_status as ks
from .common import log, version
from .kubeclient import ClientError, load_kubeconfig, request
from .kubelet_bootstrap import BootstrapError, load_client_cert

PROGRAM = "kubelet"
PERIOD = 4.0
"""Seconds between status updates (the real kubelet's nodeStatusUpdateFrequency is 10 s)."""
REQUEST_WAIT = 5.0
STRATEGIC_MERGE = "application/strategic-merge-patch+json"
ARCHITECTURES = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le", "s390x": "s390x"}


@dataclass(frozen=True)
class NodeSettings:
    """What the kubelet's flags and configuration say about its node."""

    name: str
    address: str
    kubeconfig: str
    runtime_endpoint: str
    root: Path = Path("/")
    bootstrap_kubeconfig: str = ""
    cert_dir: str = "/var/lib/kubelet/pki"
    rotate_certificates: bool = False

    def path(self, name: str) -> Path:
        """`name` (an absolute path on the node) under the root."""
        return self.root / name.lstrip("/")


def now_rfc3339() -> str:
    """The current time as the API's metav1.Time (seconds, UTC)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def architecture() -> str:
    """GOARCH of this machine."""
    machine = platform.machine()
    return ARCHITECTURES.get(machine, machine)


def node_object(settings: NodeSettings) -> dict[str, Any]:
    """The Node the kubelet registers (kubelet_node_status.go initialNode: well-known labels only)."""
    arch = architecture()
    labels = {
        "beta.kubernetes.io/arch": arch,
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": arch,
        "kubernetes.io/hostname": settings.name,
        "kubernetes.io/os": "linux",
    }
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": settings.name,
            "labels": labels,
            "annotations": {"volumes.kubernetes.io/controller-managed-attach-detach": "true"},
        },
        "spec": {},
    }


def _read(path: Path, default: str = "") -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return default


def machine_status(root: Path) -> dict[str, Any]:
    """Capacity and machine fields of the status (what cAdvisor would report)."""
    memory = next(
        (line.split()[1] for line in _read(root / "proc/meminfo").splitlines() if line.startswith("MemTotal:")), "0"
    )
    stat = os.statvfs(root)
    capacity = {
        "cpu": str(os.cpu_count() or 1),
        "memory": f"{memory}Ki",
        "pods": "110",
        "ephemeral-storage": f"{stat.f_blocks * stat.f_frsize // 1024}Ki",
    }
    os_image = next(
        (
            line.split("=", 1)[1].strip('"')
            for line in _read(root / "etc/os-release").splitlines()
            if line.startswith("PRETTY_NAME=")
        ),
        "Linux",
    )
    return {
        "capacity": capacity,
        "allocatable": dict(capacity),
        "nodeInfo": {
            "machineID": _read(root / "etc/machine-id"),
            "systemUUID": "",
            "bootID": _read(root / "proc/sys/kernel/random/boot_id"),
            "kernelVersion": os.uname().release,
            "osImage": os_image,
            "operatingSystem": "linux",
            "architecture": architecture(),
            "kubeletVersion": version(),
        },
    }


@dataclass
class NodeReporter:
    """The kubelet's node status loop: probes the runtime, computes conditions, posts them."""

    settings: NodeSettings
    last_sync: float | None = None
    network: list[str] = field(default_factory=lambda: [ks.NETWORK_UNKNOWN])
    registered: bool = False
    transitions: dict[str, tuple[str, str]] = field(default_factory=dict)
    said: str = ""
    credentialed: bool = False

    def probe(self, now: float) -> list[ks.Condition]:
        """updateRuntimeUp, then the condition setters: the network state is only learnt from a runtime that answers."""
        root = self.settings.root
        if ks.runtime_answers(self.settings.runtime_endpoint, root):
            self.last_sync = now
            self.network = ks.network_errors(root)
        ready = ks.ready_condition(ks.runtime_errors(self.last_sync, now), self.network)
        return [*ks.pressure_conditions(), ready]

    def status(self, conditions: list[ks.Condition]) -> dict[str, Any]:
        """The status body: conditions (Ready last, as upstream), addresses, capacity, nodeInfo."""
        stamp = now_rfc3339()
        entries = []
        for condition in conditions:
            previous = self.transitions.get(condition.type)
            if previous is None or previous[0] != condition.status:
                self.transitions[condition.type] = (condition.status, stamp)
            entries.append(
                {
                    "type": condition.type,
                    "status": condition.status,
                    "reason": condition.reason,
                    "message": condition.message,
                    "lastHeartbeatTime": stamp,
                    "lastTransitionTime": self.transitions[condition.type][1],
                }
            )
        body = machine_status(self.settings.root)
        runtime = Path(self.settings.runtime_endpoint).name.removesuffix(".sock") or "remote"
        body["nodeInfo"]["containerRuntimeVersion"] = f"{runtime}://Unknown"
        body["conditions"] = entries
        body["addresses"] = [
            {"type": "InternalIP", "address": self.settings.address},
            {"type": "Hostname", "address": self.settings.name},
        ]
        return body

    def _say(self, message: str) -> None:
        if message != self.said:
            log(PROGRAM, message)
            self.said = message

    def post(self, status: dict[str, Any]) -> None:
        """Register the node if needed, then patch its status; problems are logged and retried next time."""
        if not self.credentials():
            return
        try:
            config = load_kubeconfig(str(self.settings.path(self.settings.kubeconfig)))
            name = self.settings.name
            if not self.registered:
                reply = request(config, "POST", "/api/v1/nodes", node_object(self.settings), wait=REQUEST_WAIT)
                if reply.status not in (200, 201, 409):
                    self._say(f'Unable to register node "{name}" with API server: {reply.status} {reply.message}')
                    return
                self.registered = True
                log(PROGRAM, f'Successfully registered node "{name}"')
            reply = request(
                config,
                "PATCH",
                f"/api/v1/nodes/{name}/status",
                {"status": status},
                wait=REQUEST_WAIT,
                content_type=STRATEGIC_MERGE,
            )
        except ClientError as exc:
            self._say(f"Unable to update node status: {exc}")
            return
        if reply.status == 404:
            self.registered = False
        if reply.status >= 300:
            self._say(f'Error updating node status: node "{name}": {reply.status} {reply.message}')
            return
        ready = next(c for c in status["conditions"] if c["type"] == "Ready")
        self._say(f"node {name} status posted: Ready={ready['status']} {ready['message']}")

    def credentials(self) -> bool:
        """True once the kubeconfig is usable: as it is, or after the TLS bootstrap (`kubelet_bootstrap`)."""
        settings = self.settings
        kubeconfig, bootstrap = settings.path(settings.kubeconfig), settings.path(settings.bootstrap_kubeconfig)
        if self.credentialed:
            return True
        if not kubeconfig.is_file() and not (settings.bootstrap_kubeconfig and bootstrap.is_file()):
            self._say(f"no kubeconfig at {settings.kubeconfig} yet: the node is not registered")
            return False
        if not settings.bootstrap_kubeconfig:
            return True
        try:
            load_client_cert(kubeconfig, bootstrap, settings.path(settings.cert_dir), settings.name,
                             settings.rotate_certificates, say=lambda message: log(PROGRAM, message))  # fmt: skip
        except BootstrapError as exc:
            self._say(str(exc))
            return False
        self.credentialed = True
        return True

    def run(self, stop: threading.Event) -> None:
        """Probe and post every PERIOD seconds until `stop` is set."""
        while not stop.is_set():
            self.post(self.status(self.probe(time.monotonic())))
            stop.wait(PERIOD)
