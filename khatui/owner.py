"""Who runs a rollout: a process on this machine, named by host, pid and start time.

A rollout killed with -9 (or its machine rebooted) leaves its journal record `running` and its
node locks in place; whether its owner is still there is the question `rollouts`, `attach` and the
node lock all ask. A pid alone would lie once the system reuses it, so the owner is the pid plus
when its process started (Linux's /proc; elsewhere only whether the pid exists). The lock keeps
that start exactly (clock ticks since boot, and the boot), so no clock change misjudges it; the
journal keeps only its last update time, and a process started after the owner's last sign of
life is someone else. Apart from the journal and the engine, which both ask, and free of either.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

SLACK = 2.0
"""Seconds a process's start time may seem later than its own record: /proc/stat's boot time is
whole seconds."""


def _boot_time() -> float | None:
    try:
        for line in Path("/proc/stat").read_text().splitlines():
            if line.startswith("btime "):
                return float(line.split()[1])
    except OSError:
        return None
    return None


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after "pid (comm)" (comm may hold spaces); None when gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return None if fields[0] in ("Z", "X") else fields


def process_started(pid: int) -> float | None:
    """When process `pid` started (seconds since the epoch), None when it is gone or a zombie, or
    when this system does not say (no /proc)."""
    fields, boot = _stat(pid), _boot_time()
    if fields is None or boot is None:
        return None
    return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")


def start_token(pid: int) -> str | None:
    """Process `pid`'s start as 'TICKS@BOOT': clock ticks since boot and the boot's id, which no clock
    change moves; None when gone, a zombie, or without /proc."""
    fields = _stat(pid)
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None
    return None if fields is None else f"{fields[19]}@{boot}"


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def alive(pid: int | None, seen: float) -> bool:
    """True while process `pid`, last known alive at `seen` (seconds since the epoch), still runs:
    it exists and started before then (without /proc: it exists)."""
    if not pid or not _exists(pid):
        return False
    if not Path("/proc/self/stat").exists():
        return True
    started = process_started(pid)
    return started is not None and started <= seen + SLACK


def identity() -> str:
    """This process as a lock names its owner: 'HOST PID TICKS@BOOT' (see `start_token`; '-' without /proc)."""
    pid = os.getpid()
    return f"{socket.gethostname()} {pid} {start_token(pid) or '-'}"


def holder_alive(identity_text: str) -> bool | None:
    """Whether the owner an `identity` names still runs; None when it is on another host (or unreadable)."""
    parts = identity_text.split()
    if len(parts) < 2 or parts[0] != socket.gethostname() or not parts[1].isdigit():
        return None
    pid = int(parts[1])
    token = parts[2] if len(parts) > 2 and parts[2] != "-" else None
    if token is None or not Path("/proc/self/stat").exists():
        return _exists(pid)
    return start_token(pid) == token
