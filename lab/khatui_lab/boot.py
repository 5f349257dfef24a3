"""Booting, probing and stopping a node's systemd, found from the host through the node's cgroup.

A node is started detached (`setsid -f`) so it outlives the command that started it; its console
(systemd's own output) goes to `nodes/<node>/console.log`. Readiness is "sshd listens on :22",
probed with `ss` inside the node's network namespace rather than by connecting, which would make
sshd log key-exchange errors.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from khatui.errors import KhatuiError
from khatui_lab import cgroups
from khatui_lab.host import node_env, run
from khatui_lab.layout import LabLayout, NodePlan
from khatui_lab.network import NETNS_DIR

SSH_TIMEOUT = 90.0
"""Seconds a node gets from boot to sshd listening (measured: 1-7 s)."""
START_TIMEOUT = 10.0
"""Seconds between launching a node and its PID 1 existing."""


@dataclass(frozen=True)
class NodeState:
    """What the host sees of one node right now."""

    name: str
    """Node name."""
    address: str
    """Node address."""
    pid1: int | None
    """Host pid of the node's PID 1 (its systemd), None when powered off."""
    system_state: str
    """`systemctl is-system-running` inside the node ('offline' when PID 1 is gone)."""
    sshd_listening: bool
    """True when something listens on the node's TCP port 22."""

    @property
    def up(self) -> bool:
        """True when PID 1 runs and sshd listens."""
        return self.pid1 is not None and self.sshd_listening


def node_init_script() -> Path:
    """The shell script that becomes each node's PID 1 before exec'ing systemd."""
    return Path(str(resources.files("khatui_lab") / "node-init.sh"))


def node_cgroup(layout: LabLayout, node: NodePlan) -> Path:
    """The node's cgroup on the host."""
    return cgroups.lab_cgroup(layout.cgroup_name) / node.name


def pid1(layout: LabLayout, node: NodePlan) -> int | None:
    """Host pid of the node's PID 1, None when the node is powered off."""
    return cgroups.namespace_init(node_cgroup(layout, node))


def start(layout: LabLayout, node: NodePlan, node_dir: Path, lower: Path = Path("/")) -> None:
    """Boot the node over `lower` (its namespaces and network must exist); returns without waiting."""
    cgroup = cgroups.fresh_node_cgroup(layout.cgroup_name, node.name)
    argv = [
        "setsid",
        "-f",
        "nsenter",
        f"--net={NETNS_DIR}/{node.netns}",
        "/bin/sh",
        str(node_init_script()),
        "enter",
        str(cgroup),
        node.name,
        str(node_dir),
        str(lower),
    ]
    console_path = node_dir / "console.log"
    with open(console_path, "ab") as console:
        subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=console, stderr=console, cwd="/", check=True)
    # `setsid -f` returns at once: wait for the node's PID 1 to exist before anyone looks for it.
    deadline = time.monotonic() + START_TIMEOUT
    while pid1(layout, node) is None:
        if time.monotonic() > deadline:
            raise KhatuiError(f"node {node.name}: no PID 1 after {START_TIMEOUT:.0f} s; see {console_path}")
        time.sleep(0.02)


def sshd_listening(node: NodePlan) -> bool:
    """True when a socket listens on port 22 in the node's network namespace."""
    result = run(["nsenter", f"--net={NETNS_DIR}/{node.netns}", "ss", "-Hltn", "sport = :22"], check=False)
    return result.returncode == 0 and bool(result.stdout.strip())


def system_state(pid: int | None) -> str:
    """`systemctl is-system-running` inside the node whose PID 1 is `pid`."""
    if pid is None:
        return "offline"
    argv = ["nsenter", "-t", str(pid), "-a", "systemctl", "is-system-running"]
    result = run(argv, check=False, env=node_env(), timeout=30)
    return result.stdout.decode().strip() or "unknown"


def state(layout: LabLayout, node: NodePlan) -> NodeState:
    """The node's current state."""
    pid = pid1(layout, node)
    listening = pid is not None and sshd_listening(node)
    return NodeState(node.name, str(node.address), pid, system_state(pid), listening)


def wait_for_sshd(layout: LabLayout, node: NodePlan, console: Path, deadline: float) -> None:
    """Wait until sshd listens in the node; `KhatuiError` if PID 1 dies or the deadline passes."""
    while True:
        if pid1(layout, node) is None:
            raise KhatuiError(f"node {node.name}: its systemd exited while booting; see {console}")
        if sshd_listening(node):
            return
        if time.monotonic() > deadline:
            raise KhatuiError(
                f"node {node.name}: sshd is not listening on {node.address}:22 after {SSH_TIMEOUT:.0f} s; "
                f"see {console} and `khatui lab status --name {layout.name}`"
            )
        time.sleep(0.2)


def power_off(layout: LabLayout, node: NodePlan) -> bool:
    """SIGKILL the node's PID 1 (the kernel kills its whole pid namespace); False if it was off."""
    path = node_cgroup(layout, node)
    if pid1(layout, node) is None:
        return False
    cgroups.kill_all(path)
    return True
