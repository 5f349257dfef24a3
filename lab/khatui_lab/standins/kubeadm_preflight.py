"""kubeadm stand-in: kubeadm's preflight checks, one function per check type of
kubernetes/kubernetes cmd/kubeadm/app/preflight/checks.go, with kubeadm's names and messages.

Every check reads the node's real state (its /proc, its PATH, its sockets, its ports) through a
`Node`, whose `root` is "/" on a lab node and a temporary directory in tests. A check gives a
`Check`: its name, its errors and its warnings (some checks only ever warn, as in kubeadm).
`run` prints and fails as kubeadm's RunChecks does; `--ignore-preflight-errors` takes the names
(case-insensitive, or `all`) and turns the matching errors into warnings.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path


def say(message: str) -> None:
    """A kubeadm-style progress line."""
    print(message, flush=True)


class PreflightError(Exception):
    """Some checks failed and were not ignored."""


@dataclass(frozen=True)
class Check:
    """The outcome of one preflight check."""

    name: str
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Node:
    """Where the checks look: the node's file system under `root`, its PATH, its CPUs and memory."""

    root: Path = Path("/")
    path: str = field(default_factory=lambda: os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"))

    def file(self, absolute: str | Path) -> Path:
        """`absolute` on this node."""
        return self.root / str(absolute).lstrip("/")

    def which(self, executable: str) -> Path | None:
        """The first `executable` in PATH (kubeadm's exec.LookPath), or None."""
        for folder in self.path.split(":"):
            candidate = self.file(Path(folder or ".") / executable)
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return candidate
        return None


def run(checks: list[Check], ignored: set[str]) -> None:
    """Print warnings, fail with every error not ignored (`all` ignores everything), as RunChecks."""
    errors = []
    for check in checks:
        warnings, failures = list(check.warnings), list(check.errors)
        if "all" in ignored or check.name.lower() in ignored:
            warnings, failures = warnings + failures, []
        for warning in warnings:
            print(f"\t[WARNING {check.name}]: {warning}", file=sys.stderr)
        errors += [f"\t[ERROR {check.name}]: {failure}" for failure in failures]
    if errors:
        raise PreflightError(
            "preflight: [preflight] Some fatal errors occurred:\n" + "\n".join(errors) + "\n"
            "[preflight] If you know what you are doing, you can make a check non-fatal with `--ignore-preflight-errors=...`"
        )


def _dashed(path: str | Path) -> str:
    return str(path).replace("/", "-")


def privileged() -> Check:
    """IsPrivilegedUser: root."""
    return Check("IsPrivilegedUser", () if os.geteuid() == 0 else ("user is not running as root",))


def port_open(port: int) -> Check:
    """Port-<n>: nothing may listen on the port (kubeadm listens on ':n' and closes). Go's listeners set
    SO_REUSEADDR (net/sockopt_linux.go setDefaultListenerSockopts), so connections of a stopped
    apiserver still in TIME_WAIT do not count."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", port))
        except OSError:
            return Check(f"Port-{port}", (f"Port {port} is in use",))
    return Check(f"Port-{port}")


def file_available(node: Node, path: str | Path, label: str = "") -> Check:
    """FileAvailable-<path>: the file must not exist yet."""
    name = label or f"FileAvailable-{_dashed(path)}"
    return Check(name, (f"{path} already exists",) if node.file(path).exists() else ())


def file_existing(node: Node, path: str | Path, label: str = "") -> Check:
    """FileExisting-<path>: the file must exist."""
    name = label or f"FileExisting-{_dashed(path)}"
    return Check(name, () if node.file(path).exists() else (f"{path} doesn't exist",))


def dir_available(node: Node, path: str | Path) -> Check:
    """DirAvailable-<path>: the folder must be absent or empty."""
    folder = node.file(path)
    busy = folder.is_dir() and any(folder.iterdir())
    return Check(f"DirAvailable-{_dashed(path)}", (f"{path} is not empty",) if busy else ())


def file_content(node: Node, path: str, content: str) -> Check:
    """FileContent-<path>: the file must start with `content` (kubeadm reads len(content) bytes)."""
    name = f"FileContent-{_dashed(path)}"
    try:
        with node.file(path).open("rb") as handle:
            head = handle.read(len(content.encode()))
    except OSError:
        return Check(name, (f"{path} does not exist",))
    return Check(name, () if head == content.encode() else (f"{path} contents are not set to {content}",))


def in_path(node: Node, executable: str, mandatory: bool) -> Check:
    """FileExisting-<exe>: the executable in PATH (an error when mandatory, else a warning)."""
    name = f"FileExisting-{_dashed(executable)}"
    if node.which(executable) is not None:
        return Check(name)
    message = f"{executable} not found in system path"
    return Check(name, (message,)) if mandatory else Check(name, warnings=(message,))


def swap(node: Node) -> Check:
    """Swap: a warning when /proc/swaps lists a swap device (swap needs cgroup v2 and kubelet settings)."""
    try:
        lines = node.file("/proc/swaps").read_text().splitlines()
    except OSError:
        return Check("Swap")
    if len(lines) > 1:
        return Check(
            "Swap",
            warnings=(
                "swap is supported for cgroup v2 only. The kubelet must be properly configured to use swap. "
                "Please refer to https://kubernetes.io/docs/concepts/architecture/nodes/#swap-memory, "
                "or disable swap on the node",
            ),
        )
    return Check("Swap")


def cri(node: Node, endpoint: str) -> Check:
    """CRI: the container runtime answers at `endpoint` (the stand-in: the unix socket accepts a connection).

    The real kubeadm makes a CRI Status call over gRPC; the stand-in stops at the connection.
    """
    path = endpoint.removeprefix("unix://")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(3)
        try:
            sock.connect(str(node.file(path)))
        except OSError as exc:
            reason = (exc.strerror or str(exc)).lower()
            return Check(
                "CRI",
                (
                    "container runtime is not running: rpc error: code = Unavailable desc = connection error: "
                    f'desc = "transport: Error while dialing: dial unix {path}: connect: {reason}"',
                ),
            )
    return Check("CRI")


_LABEL = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")


def hostname(name: str) -> Check:
    """Hostname: warnings when the node name is not a qualified name (the stand-in skips the DNS lookup)."""
    if len(name) > 63 or not _LABEL.match(name):
        return Check(
            "Hostname",
            warnings=(
                f"invalid node name format {name!r}: name part must consist of alphanumeric characters, '-', '_' "
                "or '.', and must start and end with an alphanumeric character",
            ),
        )
    return Check("Hostname")


def num_cpu(required: int = 2) -> Check:
    """NumCPU: a control plane needs 2 CPUs (ControlPlaneNumCPU)."""
    count = os.cpu_count() or 1
    if count < required:
        return Check("NumCPU", (f"the number of available CPUs {count} is less than the required {required}",))
    return Check("NumCPU")


def mem(required_mb: int = 1700) -> Check:
    """Mem: a control plane needs 1700 MB of RAM (ControlPlaneMem)."""
    actual = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 1024 // 1024
    if actual < required_mb:
        return Check("Mem", (f"the system RAM ({actual} MB) is less than the minimum {required_mb} MB",))
    return Check("Mem")


def parse_version(text: str) -> tuple[int, int, int] | None:
    """(major, minor, patch) of 'v1.31.4' / '3.5.11-0' / 'Kubernetes v1.31.4', or None."""
    match = re.search(r"v?([0-9]+)\.([0-9]+)\.([0-9]+)", text)
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def kubelet_version(node: Node, kubeadm: str, kubernetes: str) -> Check:
    """KubeletVersion: `kubelet --version` is at least kubeadm's minor - 3 and not above the control plane's."""
    binary = node.which("kubelet")
    if binary is None:
        return Check("KubeletVersion", ("couldn't get kubelet version: executable file not found in $PATH",))
    try:
        output = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Check("KubeletVersion", (f"couldn't get kubelet version: {exc}",))
    found, own = parse_version(output.stdout), parse_version(kubeadm)
    if found is None or own is None:
        return Check("KubeletVersion", (f"couldn't get kubelet version: cannot parse {output.stdout.strip()!r}",))
    shown = "v{}.{}.{}".format(*found)
    if found[:2] < (own[0], own[1] - 3):
        return Check(
            "KubeletVersion", (f'Kubelet version "{shown}" is lower than kubeadm can support. Please upgrade kubelet',)
        )
    control_plane = parse_version(kubernetes) if kubernetes else None
    if control_plane is not None and (found[0] > control_plane[0] or found[1] > control_plane[1]):
        return Check(
            "KubeletVersion",
            (
                "the kubelet version is higher than the control plane version. This is not a supported version skew "
                f'and may lead to a malfunctional cluster. Kubelet version: "{shown}" Control plane version: '
                '"{}.{}.{}"'.format(*control_plane),
            ),
        )
    return Check("KubeletVersion")


def kubernetes_version(kubeadm: str, kubernetes: str) -> Check:
    """KubernetesVersion: a warning when the cluster's version is above kubeadm's minor."""
    own, wanted = parse_version(kubeadm), parse_version(kubernetes)
    if own is None or wanted is None:
        return Check("KubernetesVersion", (f"couldn't parse Kubernetes version {kubernetes!r}",))
    if wanted[:2] >= (own[0], own[1] + 1):
        return Check(
            "KubernetesVersion",
            warnings=(
                "Kubernetes version is greater than kubeadm version. Please consider to upgrade kubeadm. "
                "Kubernetes version: {}.{}.{}. ".format(*wanted)
                + f"Kubeadm version: {own[0]}.{own[1]}.x",
            ),
        )
    return Check("KubernetesVersion")
