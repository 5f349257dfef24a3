"""The bare lab's HTTP server on its bridge address: the package repository and the files mirror.

A host without systemd runs it the way the lab runs its nodes: a background process of the lab's
own, started at `lab up` (Python's http.server over `<lab>/serve`, bound to the bridge's .1 only,
so only the lab's nodes and this host reach it), its pid in `<lab>/serve.pid`, its log in
`<lab>/serve.log`, and it lives in the lab's cgroup (`<lab cgroup>/repository-server`), so `lab
down` stops it with everything else even when the lab's folder is gone.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from khatui.errors import KhatuiError
from khatui_lab import cgroups
from khatui_lab.layout import LabLayout

PORT = 8642
"""The server's TCP port on the bridge address."""
CGROUP = "repository-server"
"""The server's cgroup under the lab's (beside the nodes')."""
PID_FILE = "serve.pid"
MARKER = "khatui-lab.txt"
"""A file at the server's root naming the lab, so `answering` knows it reached this lab's server."""
START_TIMEOUT = 10.0


def base_url(layout: LabLayout) -> str:
    """`http://<bridge address>:<port>`, where the lab's nodes reach the server."""
    return f"http://{layout.bridge_address}:{PORT}"


def repository_url(layout: LabLayout) -> str:
    """The apt repository's URL (the spec's packages.mirror.url)."""
    return f"{base_url(layout)}/debian"


def files_url(layout: LabLayout) -> str:
    """The files mirror's URL (the spec's binaries.mirror)."""
    return f"{base_url(layout)}/files"


def running_pid(layout: LabLayout, lab_dir: Path) -> int | None:
    """The server's pid when it runs (recorded in the pid file and still in the lab's cgroup)."""
    try:
        pid = int((lab_dir / PID_FILE).read_text())
    except (FileNotFoundError, ValueError):
        return None
    return pid if pid in cgroups.pids_in(cgroups.lab_cgroup(layout.cgroup_name) / CGROUP) else None


def answering(layout: LabLayout) -> bool:
    """True when this lab's server answers on the bridge address with its marker file (a bare TCP
    connect would not do: a host's gateway may accept any connection to an address it routes)."""
    try:
        with urllib.request.urlopen(f"{base_url(layout)}/{MARKER}", timeout=2) as answer:
            return bool(answer.read(100) == f"khatui lab {layout.name}\n".encode())
    except (OSError, ValueError):
        return False


def ensure_running(layout: LabLayout, lab_dir: Path) -> int:
    """Start the server over `<lab>/serve` unless it runs; returns its pid once it answers."""
    pid = running_pid(layout, lab_dir)
    if pid is not None:
        return pid
    (lab_dir / "serve" / MARKER).write_text(f"khatui lab {layout.name}\n")
    cgroup = cgroups.fresh_node_cgroup(layout.cgroup_name, CGROUP)
    argv = [
        sys.executable,
        "-m",
        "http.server",
        "--bind",
        str(layout.bridge_address),
        "--directory",
        "serve",
        str(PORT),
    ]
    enter = 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"'
    with open(lab_dir / "serve.log", "ab") as log:
        process = subprocess.Popen(
            ["/bin/sh", "-c", enter, "serve", str(cgroup), *argv],
            cwd=lab_dir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8"},
        )
    (lab_dir / PID_FILE).write_text(f"{process.pid}\n")
    deadline = time.monotonic() + START_TIMEOUT
    while not answering(layout):
        if process.poll() is not None or time.monotonic() > deadline:
            raise KhatuiError(
                f"the lab's repository server did not start on {base_url(layout)}; see {lab_dir / 'serve.log'}"
            )
        time.sleep(0.05)
    return process.pid
