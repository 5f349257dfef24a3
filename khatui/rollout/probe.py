"""The wizard's per-node connection probe: SSH, root (directly or through sudo), OS, host key.

It lives beside the rollout because it opens SSH the same way a rollout does (the spec's targets,
the same host key files and pins), and the TUI opens no SSH itself. The engine loads on the first
probe, not with the wizard's first frame (which needs only `ProbeResult`).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING

from khatui.errors import KhatuiError

if TYPE_CHECKING:
    from khatui.engine.hostkeys import AcceptUnknown
    from khatui.spec.cluster import Cluster

PROBE_SCRIPT = (
    '. /etc/os-release 2>/dev/null; echo "os=${PRETTY_NAME:-${ID:-unknown}}"; echo "uid=$(id -u)"; '
    'echo "host=$(hostname)"'
)


@dataclass(frozen=True)
class ProbeResult:
    """What one connection probe found on a node."""

    node: str
    ok: bool
    detail: str
    """The OS name when `ok`, else why it failed."""
    sudo: bool = False
    """Commands run as root there (directly or through sudo)."""
    host_key: str = ""
    """`TYPE SHA256:...` of the node's host key, when the connection got that far."""


def probe(cluster: Cluster, base_dir: str, node: str, accept: AcceptUnknown | None) -> ProbeResult:
    """Connect to `node` of `cluster` (relative paths from `base_dir`) and say what it found."""
    from khatui.engine.connect import targets
    from khatui.engine.hostkeys import fingerprint
    from khatui.engine.ssh import Session
    from khatui.rollout.nodes import host_keys_for

    try:
        target = targets(cluster, base_dir)[node]
    except KhatuiError as exc:
        return ProbeResult(node, False, exc.message)
    session = Session(target, host_keys_for(cluster, base_dir, accept))
    try:
        connection = session.connect()
        transport = connection.client.get_transport()
        key = transport.get_remote_server_key() if transport is not None else None
        host_key = f"{key.get_name()} {fingerprint(key)}" if key is not None else ""
        result = session.run(PROBE_SCRIPT, timeout=20)
    except KhatuiError as exc:
        return ProbeResult(node, False, exc.message)
    finally:
        session.close()
    values = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    if result.exit_code != 0:
        reason = result.stderr.strip().splitlines()[-1:] or [f"exit code {result.exit_code}"]
        sudo = "sudo" in reason[0]
        return ProbeResult(
            node, False, f"{'sudo refused' if sudo else 'probe failed'}: {shlex.quote(reason[0])}", False, host_key
        )
    return ProbeResult(node, True, values.get("os", "unknown OS"), values.get("uid") == "0", host_key)
