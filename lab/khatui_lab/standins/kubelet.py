"""Stand-in for the kubelet: runs the static pods of its manifest folder as plain processes.

Every second it reads the manifest folder (`staticPodPath` of `--config`, else
`--pod-manifest-path`, else /etc/kubernetes/manifests): a new manifest's containers are started
(`command` + `args` resolved on the node's PATH, `env`, `workingDir`; the image is ignored), a changed
one is restarted, a removed one is stopped, and a container that exits is restarted with a back-off
(static pods always restart). hostPath volumes of type DirectoryOrCreate/FileOrCreate are created.

As the real kubelet's containers outlive a kubelet restart (they live in the container runtime),
the stand-in records its processes in /var/lib/kubelet/standin-pods.json and adopts them when it
starts again; its systemd unit uses KillMode=process for the same reason. Container output goes to
/var/log/pods/<namespace>_<pod>/<container>.log.

It refuses what the real kubelet refuses (rules with their upstream sources in
lab/khatui_lab/rules/kubelet.yaml): it does not start with swap on (failSwapOn) or while its
container runtime does not answer, a pod without
hostNetwork waits for the node's network (a CNI configuration and its plugin binaries), no
container starts while the kubelet's cgroup driver and containerd's differ, and the Node it
registers with the API server (`kubelet_node`) is Ready only when the runtime answers and the
network is ready (`kubelet_status`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import kubelet_status as ks
from .common import default_address, fail, log, parse_flags, version
from .kubelet_node import NodeReporter, NodeSettings

PROGRAM = "kubelet"
DEFAULT_MANIFESTS = "/etc/kubernetes/manifests"
STATE = Path("/var/lib/kubelet/standin-pods.json")
LOGS = Path("/var/log/pods")
POLL = 1.0
MAX_BACKOFF = 10.0
STOP_GRACE = 5.0
BOOLEANS = frozenset({"version", "help"})


@dataclass
class Container:
    """One container of a static pod, run as a process."""

    name: str
    argv: list[str]
    env: dict[str, str]
    cwd: str | None
    log: Path
    pid: int | None = None
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    next_start: float = 0.0

    def alive(self) -> bool:
        """True while the process runs (a zombie or a vanished pid is dead)."""
        if self.process is not None:
            return self.process.poll() is None
        if self.pid is None:
            return False
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return False
        return fields[0] != "Z"


@dataclass
class Pod:
    """A static pod from one manifest file."""

    file: str
    digest: str
    name: str
    host_network: bool = False
    containers: list[Container] = field(default_factory=list)
    refused: str = ""


def load_pod(path: Path) -> tuple[str, str, list[dict[str, Any]], list[dict[str, Any]], bool]:
    """(namespace, name, containers, volumes, hostNetwork) of a manifest; ValueError with the reason when unusable."""
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"cannot read: {exc}") from None
    if not isinstance(data, dict) or data.get("kind") != "Pod" or data.get("apiVersion") != "v1":
        raise ValueError("not a v1 Pod")
    metadata, spec = data.get("metadata") or {}, data.get("spec") or {}
    name = metadata.get("name")
    containers = spec.get("containers")
    if not name or not isinstance(containers, list) or not containers:
        raise ValueError("metadata.name and spec.containers are required")
    for container in containers:
        if not isinstance(container, dict) or not container.get("name"):
            raise ValueError("every container needs a name")
        if not container.get("command"):
            raise ValueError(
                f"container {container['name']!r} has no command: the stand-in runs commands, it cannot know an image's entrypoint"
            )
    volumes = list(spec.get("volumes") or [])
    return str(metadata.get("namespace", "default")), str(name), containers, volumes, spec.get("hostNetwork") is True


def make_pod(path: Path, digest: str) -> Pod:
    """The pod of manifest `path` (volumes created); ValueError when unusable."""
    namespace, name, containers, volumes, host_network = load_pod(path)
    for volume in volumes:
        host = volume.get("hostPath") if isinstance(volume, dict) else None
        if not isinstance(host, dict) or not host.get("path"):
            continue
        if host.get("type") == "DirectoryOrCreate":
            Path(host["path"]).mkdir(parents=True, exist_ok=True)
        elif host.get("type") == "FileOrCreate":
            Path(host["path"]).parent.mkdir(parents=True, exist_ok=True)
            Path(host["path"]).touch(exist_ok=True)
    pod = Pod(file=str(path), digest=digest, name=f"{namespace}/{name}", host_network=host_network)
    for spec in containers:
        argv = [str(part) for part in [*spec["command"], *(spec.get("args") or [])]]
        env = {str(item["name"]): str(item.get("value", "")) for item in spec.get("env") or [] if "name" in item}
        log_path = LOGS / f"{namespace}_{name}" / f"{spec['name']}.log"
        pod.containers.append(Container(spec["name"], argv, env, spec.get("workingDir"), log_path))
    return pod


def start(pod: Pod, container: Container) -> None:
    """Start (or restart) a container's process; a missing program is retried later."""
    program = container.argv[0] if "/" in container.argv[0] else shutil.which(container.argv[0])
    if program is None:
        log(PROGRAM, f"pod {pod.name} container {container.name}: {container.argv[0]!r} not found on PATH")
        container.next_start = time.monotonic() + MAX_BACKOFF
        return
    container.log.parent.mkdir(parents=True, exist_ok=True)
    env = {"PATH": os.environ.get("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")}
    env.update(container.env)
    with open(container.log, "ab") as output:
        try:
            container.process = subprocess.Popen(
                container.argv,
                executable=program,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                env=env,
                cwd=container.cwd,
                start_new_session=True,
            )
        except OSError as exc:
            log(PROGRAM, f"pod {pod.name} container {container.name}: cannot start: {exc}")
            container.next_start = time.monotonic() + MAX_BACKOFF
            return
    container.pid = container.process.pid
    log(PROGRAM, f"pod {pod.name} container {container.name}: started pid {container.pid}: {' '.join(container.argv)}")


def stop(pod: Pod) -> None:
    """Stop every container of the pod: SIGTERM to its process group, SIGKILL after a grace period."""
    for container in pod.containers:
        if container.pid is None or not container.alive():
            continue
        _signal_group(container.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        while container.alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        if container.alive():
            _signal_group(container.pid, signal.SIGKILL)
        if container.process is not None:
            container.process.wait()
        log(PROGRAM, f"pod {pod.name} container {container.name}: stopped")


def _signal_group(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


def scan(folder: Path) -> dict[str, str]:
    """Manifest files of `folder` (hidden files skipped, as the kubelet does) -> content digest."""
    found: dict[str, str] = {}
    if not folder.is_dir():
        return found
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.suffix not in (".yaml", ".yml", ".json") or not path.is_file():
            continue
        try:
            found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            continue
    return found


def save(pods: dict[str, Pod]) -> None:
    """Record the running processes for a later kubelet to adopt."""
    data = {
        file: {
            "digest": pod.digest,
            "name": pod.name,
            "containers": {c.name: {"pid": c.pid, "restarts": c.restarts} for c in pod.containers},
        }
        for file, pod in pods.items()
    }
    STATE.parent.mkdir(parents=True, exist_ok=True)
    tmp = STATE.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(STATE)


def adopt(current: dict[str, str]) -> dict[str, Pod]:
    """Pods a previous kubelet started whose manifests are unchanged and whose processes still run."""
    try:
        saved = json.loads(STATE.read_text())
    except (OSError, ValueError):
        return {}
    pods: dict[str, Pod] = {}
    for file, entry in saved.items():
        if current.get(file) != entry.get("digest"):
            continue
        try:
            pod = make_pod(Path(file), entry["digest"])
        except ValueError:
            continue
        for container in pod.containers:
            info = entry.get("containers", {}).get(container.name, {})
            container.pid, container.restarts = info.get("pid"), int(info.get("restarts", 0))
        pods[file] = pod
        log(PROGRAM, f"pod {pod.name}: adopted from the previous kubelet")
    return pods


Refusal = Callable[[Pod], str | None]
"""Why a pod's containers may not start now (None: they may)."""


def sync(folder: Path, pods: dict[str, Pod], broken: dict[str, str], refusal: Refusal = lambda _pod: None) -> bool:
    """One pass: start, restart and stop to match the folder; returns True when something changed."""
    changed = False
    current = scan(folder)
    for file in [f for f in pods if current.get(f) != pods[f].digest]:
        stop(pods.pop(file))
        changed = True
    for file, digest in current.items():
        if file in pods or broken.get(file) == digest:
            continue
        try:
            pods[file] = make_pod(Path(file), digest)
        except (ValueError, OSError) as exc:
            log(PROGRAM, f"manifest {file} ignored: {exc}")
            broken[file] = digest
            continue
        changed = True
    now = time.monotonic()
    for pod in pods.values():
        reason = refusal(pod)
        if reason != (pod.refused or None):
            pod.refused = reason or ""
            if reason:
                log(PROGRAM, f"pod {pod.name}: not started: {reason}")
        for container in pod.containers:
            if reason and not container.alive():
                continue
            if container.alive():
                continue
            if container.pid is not None and container.next_start == 0.0:
                container.restarts += 1
                backoff = min(MAX_BACKOFF, 2.0 ** min(container.restarts - 1, 4))
                container.next_start = now + backoff
                log(PROGRAM, f"pod {pod.name} container {container.name}: exited; restart in {backoff:.0f} s")
                if container.process is not None:
                    container.process.wait()
            if now >= container.next_start:
                container.next_start = 0.0
                start(pod, container)
                changed = True
    return changed


def load_config(flags: dict[str, str]) -> dict[str, Any]:
    """The KubeletConfiguration of --config ({} without one); exits as the kubelet when unreadable."""
    config = flags.get("config")
    if not config:
        return {}
    try:
        data = yaml.safe_load(Path(config).read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SystemExit(fail(f"{PROGRAM}: failed to load kubelet config file, path: {config}: {exc}")) from None
    if not isinstance(data, dict) or data.get("kind") != "KubeletConfiguration":
        raise SystemExit(fail(f"{PROGRAM}: {config} is not a KubeletConfiguration"))
    return data


def manifest_folder(flags: dict[str, str], config: dict[str, Any]) -> Path:
    """Where the static pods are: --config's staticPodPath, --pod-manifest-path, or the default."""
    if config.get("staticPodPath"):
        return Path(str(config["staticPodPath"]))
    return Path(flags.get("pod-manifest-path", DEFAULT_MANIFESTS))


def node_settings(flags: dict[str, str], config: dict[str, Any], root: Path = Path("/")) -> NodeSettings:
    """The node's name (--hostname-override, else the hostname), address (--node-ip), kubeconfigs, CRI
    endpoint and client certificate store (--cert-dir, rotateCertificates)."""
    endpoint = flags.get("container-runtime-endpoint") or config.get("containerRuntimeEndpoint")
    return NodeSettings(
        name=(flags.get("hostname-override") or socket.gethostname()).lower(),
        address=flags.get("node-ip") or default_address(),
        kubeconfig=flags.get("kubeconfig", ""),
        runtime_endpoint=str(endpoint or ks.DEFAULT_RUNTIME_ENDPOINT),
        root=root,
        bootstrap_kubeconfig=flags.get("bootstrap-kubeconfig", ""),
        cert_dir=flags.get("cert-dir", "/var/lib/kubelet/pki"),
        rotate_certificates=flags.get("rotate-certificates", str(config.get("rotateCertificates", False))).lower()
        == "true",
    )


def startup_refusal(flags: dict[str, str], config: dict[str, Any], root: Path = Path("/")) -> str | None:
    """Why the kubelet exits at start (NewContainerManager: swap on while failSwapOn); None when it may run."""
    fail_swap_on = flags.get("fail-swap-on", str(config.get("failSwapOn", True))).lower() != "false"
    if fail_swap_on and ks.swap_on(root):
        return f"failed to run Kubelet: {ks.SWAP_REFUSED}"
    return None


def pod_refusal(reporter: NodeReporter, cgroup_driver: str) -> Refusal:
    """Why a static pod may not start: a cgroup driver mismatch, or its sandbox's network."""
    root = reporter.settings.root

    def refusal(pod: Pod) -> str | None:
        mismatch = ks.cgroup_mismatch(cgroup_driver, root)
        return mismatch or ks.sandbox_error(root, pod.host_network, reporter.network)

    return refusal


def main(argv: list[str]) -> int:
    """Run until SIGTERM, leaving the pods running (as a real kubelet leaves its containers)."""
    flags, _positional = parse_flags(argv, BOOLEANS)
    if "version" in flags:
        print(f"Kubernetes {version()} (khatui lab stand-in)")
        return 0
    config = load_config(flags)
    refused = startup_refusal(flags, config)
    if refused:
        return fail(f"{PROGRAM}: {refused}")
    folder = manifest_folder(flags, config)
    settings = node_settings(flags, config)
    refused = ks.runtime_refusal(settings.runtime_endpoint, settings.root)
    if refused:  # systemd starts it again (Restart=always), as it does the real kubelet
        return fail(f"{PROGRAM}: {refused}")
    reporter = NodeReporter(settings)
    refusal = pod_refusal(reporter, str(flags.get("cgroup-driver") or config.get("cgroupDriver") or "cgroupfs"))
    running = True
    stopped = threading.Event()

    def _stop(_signum: int, _frame: object) -> None:
        nonlocal running
        running = False
        stopped.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    log(PROGRAM, f"running the static pods of {folder} as processes")
    pods = adopt(scan(folder))
    broken: dict[str, str] = {}
    save(pods)
    threading.Thread(target=reporter.run, args=(stopped,), name="node-status", daemon=True).start()
    while running:
        if sync(folder, pods, broken, refusal):
            save(pods)
        time.sleep(POLL)
    save(pods)
    return 0
