"""The per-node rollout lock: a directory on the node, so two rollouts never work on one node at once.

Why a module of its own: the lock's remote script and its three outcomes (taken, taken over by the
same rollout on resume, refused with the owner named) are one protocol with the node, apart from
the executor, which only takes the locks before the first phase and releases them after the last.
"""

from __future__ import annotations

import contextlib
import os
import shlex

from khatui import owner
from khatui.engine.retry import reconnecting
from khatui.engine.transport import Transport
from khatui.errors import KhatuiError
from khatui.events import NodeFailed

LOCK_PARENT = "/var/lib/khatui"
LOCK_DIR = f"{LOCK_PARENT}/rollout.lock"
REFUSED = 75
"""The take script's exit code when another rollout holds the lock (EX_TEMPFAIL)."""


def take_command(owner: str) -> str:
    """The script that creates the lock atomically (mkdir) naming `owner`, or prints the holder and exits 75.

    The owner file appears whole (renamed into the lock), so a loser reads it complete; it waits a
    moment for it, as the winner may be between its mkdir and its rename.
    """
    staged = f"{LOCK_PARENT}/.owner.$$"
    return (
        f"mkdir -p {LOCK_PARENT} && echo {shlex.quote(owner)} > {staged} && "
        f"if mkdir {LOCK_DIR} 2>/dev/null; then mv {staged} {LOCK_DIR}/owner; "
        f"else rm -f {staged}; for i in 1 2 3 4 5 6 7 8 9 10; do [ -f {LOCK_DIR}/owner ] && break; sleep 0.1; done; "
        f"cat {LOCK_DIR}/owner 2>/dev/null || echo unknown; exit {REFUSED}; fi"
    )


def take(transport: Transport, node: str, rollout_id: str, retries: int, backoff: float) -> NodeFailed | None:
    """Take `node`'s lock for `rollout_id` (reconnecting like an action); None when held, else the failure.

    The lock names its rollout and owner (id, host, pid, process start): the same rollout takes it
    over (a resume after a crash) unless its owner still runs on this machine (another process of
    the same rollout); another rollout is refused with the owner named, and said to be gone if it is.
    """
    command = take_command(f"{rollout_id} {owner.identity()}")
    try:
        result = reconnecting(lambda: transport.run(command, timeout=60), retries, backoff)
    except KhatuiError as exc:
        return _failed(node, exc.message)
    holder = result.stdout.strip()
    holder_id, _, holder_owner = holder.partition(" ")
    if result.exit_code == 0:
        return None
    if result.exit_code != REFUSED:
        reason = f"cannot take the rollout lock: {result.stderr.strip()}"
        return NodeFailed(node, "lock", command, result.exit_code, reason, ())
    alive = owner.holder_alive(holder_owner)
    mine = holder_owner.split(" ")[1:2] in ([str(os.getpid())], [str(os.getppid())])
    if holder_id == rollout_id:
        if not alive or mine:
            return None
        return _failed(
            node, f"rollout {rollout_id} still runs on this machine ({holder_owner}): khatui attach {rollout_id}"
        )
    if alive is False:
        return _failed(
            node,
            f"locked by rollout {holder_id}, whose process is gone ({holder_owner}): `khatui resume {holder_id}` "
            f"continues it, or remove {LOCK_DIR} on {node} to give it up",
        )
    return _failed(
        node,
        f"locked by rollout {holder} (rollout id, host, pid, start); if that rollout is gone, remove {LOCK_DIR} on {node}",
    )


def _failed(node: str, reason: str) -> NodeFailed:
    return NodeFailed(node, "lock", "take the rollout lock", None, reason, ())


def release(transport: Transport) -> None:
    """Remove the lock; a node that cannot be reached keeps it (the next rollout names the owner)."""
    with contextlib.suppress(KhatuiError):
        transport.run(f"rm -rf {LOCK_DIR}", timeout=30)
