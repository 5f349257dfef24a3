"""kubectl stand-in: `kubectl get lease -n kube-system NAME...`, answered from this node.

There is no API to hold leases, so the stand-in says what a real cluster would show about this
node: the kube-controller-manager (or kube-scheduler) lease is held here when the static-pod manifest
of that name enables leader election (kubeadm writes --leader-elect=true; absent means the
component's default, true) and the kubelet stand-in runs that very manifest's container now (its
record of pods, with the manifest's digest, and a live process). Otherwise the lease is "not found"
and kubectl exits 1, as for a missing object.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path
from typing import Any

import yaml

from .kubelet import DEFAULT_MANIFESTS, STATE, Container, scan

RESOURCES = ("lease", "leases", "lease.coordination.k8s.io", "leases.coordination.k8s.io")
COMPONENTS = ("kube-controller-manager", "kube-scheduler")
KUBELET_CONFIG = Path("/var/lib/kubelet/config.yaml")


def manifest_folder() -> Path:
    """The kubelet's staticPodPath (its config file), else kubeadm's folder."""
    try:
        data = yaml.safe_load(KUBELET_CONFIG.read_text()) or {}
    except (OSError, yaml.YAMLError):
        data = {}
    return (
        Path(str(data.get("staticPodPath") or DEFAULT_MANIFESTS)) if isinstance(data, dict) else Path(DEFAULT_MANIFESTS)
    )


def _leader_elect(manifest: Path) -> bool:
    try:
        pod = yaml.safe_load(manifest.read_text())
        container = pod["spec"]["containers"][0]
        argv = [str(a) for a in [*(container.get("command") or []), *(container.get("args") or [])]]
    except (OSError, yaml.YAMLError, KeyError, IndexError, TypeError):
        return False
    values = [a.split("=", 1)[1] for a in argv if a.startswith("--leader-elect=")]
    return not values or values[-1] == "true"


def holder(name: str) -> tuple[str, int] | None:
    """(holder identity, pid) when this node holds lease `name` (see the module docstring)."""
    if name not in COMPONENTS:
        return None
    folder = manifest_folder()
    manifest = folder / f"{name}.yaml"
    digest = scan(folder).get(str(manifest))
    if digest is None or not _leader_elect(manifest):
        return None
    try:
        pods: dict[str, Any] = json.loads(STATE.read_text())
    except (OSError, ValueError):
        return None
    entry = pods.get(str(manifest)) or {}
    if entry.get("digest") != digest:
        return None
    for container_name, info in (entry.get("containers") or {}).items():
        pid = info.get("pid")
        probe = Container(container_name, [], {}, None, Path("/dev/null"), pid=pid)
        if pid and probe.alive():
            return f"{socket.gethostname()}_khatui-lab-{pid}", int(pid)
    return None


def _age(pid: int) -> str:
    """How long process `pid` has run, as kubectl prints ages (`42s`, `5m`, `3h`)."""
    try:
        start = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, IndexError, ValueError):
        return "<unknown>"
    seconds = max(0, int(uptime - start / os.sysconf("SC_CLK_TCK")))
    for limit, unit, size in ((120, "s", 1), (10800, "m", 60), (172800, "h", 3600)):
        if seconds < limit:
            return f"{seconds // size}{unit}"
    return f"{seconds // 86400}d"


def get_leases(args: list[str], namespace: str) -> int:
    """`kubectl get lease [NAME...]` (`args[0]` is the type) in `namespace`; 1 when a named lease is not found."""
    names = args[1:] or list(COMPONENTS)
    rows, code = [], 0
    for name in names:
        found = holder(name) if namespace == "kube-system" else None
        if found is None:
            if args[1:]:
                print(f'Error from server (NotFound): leases.coordination.k8s.io "{name}" not found', file=sys.stderr)
                code = 1
            continue
        rows.append((name, found[0], _age(found[1])))
    if rows:
        table = [("NAME", "HOLDER", "AGE"), *rows]
        widths = [max(len(row[i]) for row in table) for i in range(3)]
        for row in table:
            print("   ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    elif not args[1:]:
        print(f"No resources found in {namespace} namespace.", file=sys.stderr)
    return code
