"""Each node's cgroup2 subtree: where its PID 1 starts, what its systemd manages, how it is found.

A node's systemd needs a cgroup2 hierarchy of its own: the node's first process is moved into
`<cgroup2 mount>/khatui-lab-<lab>/<node>` and then unshares its cgroup namespace, so the cgroup2
it mounts on its /sys/fs/cgroup has that subtree as root. On hybrid hosts (v1 controllers plus a
controller-less cgroup2 at /sys/fs/cgroup/unified) this is the unified mount; systemd only needs it
to track processes. The subtree is also how the lab finds a node's processes and PID 1 from the
host, without pid files that could go stale.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

from khatui.errors import KhatuiError

MOUNTS = Path("/proc/self/mounts")


def cgroup2_root() -> Path:
    """Where the cgroup2 hierarchy is mounted on the host."""
    for line in MOUNTS.read_text().splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[2] == "cgroup2":
            return Path(fields[1])
    raise KhatuiError("no cgroup2 hierarchy is mounted on this host; the lab's systemd nodes need one")


def lab_cgroup(cgroup_name: str) -> Path:
    """The lab's cgroup folder (may not exist)."""
    return cgroup2_root() / cgroup_name


def fresh_node_cgroup(cgroup_name: str, node: str) -> Path:
    """An empty cgroup for a node about to boot (leftovers of a previous boot are removed)."""
    path = lab_cgroup(cgroup_name) / node
    if path.exists():
        if pids_in(path):
            raise KhatuiError(f"node {node}: processes of a previous boot are still running in {path}")
        remove_tree(path)
    path.mkdir(parents=True)
    return path


def pids_in(path: Path) -> list[int]:
    """Every process in the cgroup `path` and below (empty when it does not exist)."""
    pids: list[int] = []
    for folder, _dirs, files in os.walk(path):
        if "cgroup.procs" in files:
            try:
                text = (Path(folder) / "cgroup.procs").read_text()
            except OSError:
                continue
            pids += [int(pid) for pid in text.split()]
    return pids


def namespace_init(path: Path) -> int | None:
    """Host pid of the process in `path` that is PID 1 of its own pid namespace (the node's init)."""
    for pid in pids_in(path):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("NSpid:"):
                ids = line.split()[1:]
                if len(ids) > 1 and ids[-1] == "1":
                    return pid
    return None


def kill_all(path: Path, timeout: float = 20) -> None:
    """SIGKILL every process in `path` (a node's PID 1 first: the kernel then kills its namespace)."""
    deadline = time.monotonic() + timeout
    init = namespace_init(path)
    if init is not None:
        _kill(init)
    while True:
        pids = pids_in(path)
        if not pids:
            return
        for pid in pids:
            _kill(pid)
        if time.monotonic() > deadline:
            raise KhatuiError(f"processes {pids} in {path} survive SIGKILL after {timeout} s")
        time.sleep(0.05)


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def remove_tree(path: Path) -> None:
    """Remove an empty cgroup subtree, deepest folders first (cgroups can only be rmdir'ed)."""
    if not path.exists():
        return
    for folder, _dirs, _files in sorted(os.walk(path), key=lambda entry: -len(Path(entry[0]).parts)):
        for attempt in range(50):
            try:
                os.rmdir(folder)
                break
            except FileNotFoundError:
                break
            except OSError as exc:
                # A cgroup whose last process just died stays busy for a moment.
                if attempt == 49:
                    raise KhatuiError(f"cannot remove cgroup {folder}: {exc.strerror}") from None
                time.sleep(0.05)


def wait_gone(pids: list[int], timeout: float = 10) -> list[int]:
    """Wait until the processes `pids` are gone, zombies included; returns those still there."""
    deadline = time.monotonic() + timeout
    while True:
        left = [pid for pid in pids if Path(f"/proc/{pid}").exists()]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)
