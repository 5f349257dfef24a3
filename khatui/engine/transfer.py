"""Executing a `Transfer`: a release file from the operator's cache onto a node, verified there.

Its own module so the executor stays a scheduler: the node is asked first whether it already holds
the file (sha256sum -c on the final path, so a rerun sends nothing), then the bytes (from the cache,
or from an air-gapped bundle's file, hashed again here) go over the SSH
session to a temp name beside the path, sha256sum checks them on the node, and only then are they
renamed into place. Nothing here decides what to install; the plan did.
"""

from __future__ import annotations

import functools
import hashlib
import shlex
import uuid
from pathlib import Path

from khatui.engine.artifact_cache import ARTIFACT_LIMIT, ArtifactCache
from khatui.engine.transport import LineCallback, Transport
from khatui.errors import KhatuiError
from khatui.localfs import Folder
from khatui.plan.model import Transfer
from khatui.userdirs import data_dir


def _verify(sha256: str, path: str) -> str:
    return f"printf '%s  %s\\n' {shlex.quote(sha256)} {shlex.quote(path)} | sha256sum -c --quiet --status"


@functools.cache
def shared_cache(folder: Path) -> ArtifactCache:
    """One cache object per folder, so concurrent nodes wanting one file fetch it once."""
    return ArtifactCache(str(folder))


def bundled(local: str, sha256: str) -> bytes:
    """The bundle file `local` (verified by `plan`), hashed again: it may have changed since."""
    path = Path(local)
    with Folder.open(path.parent) as folder:
        content = folder.read(path.name, ARTIFACT_LIMIT)
    if content is None:
        raise KhatuiError(f"{local}: missing from the bundle (it was there when the plan was made)")
    digest = hashlib.sha256(content).hexdigest()
    if digest != sha256:
        raise KhatuiError(f"{local}: corrupt: sha256 {digest}, the bundle's manifest says {sha256}")
    return content


def transfer(
    transport: Transport, action: Transfer, node: str, say: LineCallback, cache: ArtifactCache | None = None
) -> None:
    """Make `action.path` on the node the file `action.sha256` names (uploaded unless already there);
    `cache`: default, the one under khatui's data directory."""
    cache = cache or shared_cache(data_dir() / "cache" / "artifacts")
    if transport.run(_verify(action.sha256, action.path), timeout=120).exit_code == 0:
        say("stdout", f"khatui: {action.path} already holds sha256 {action.sha256[:12]}")
        return
    content = bundled(action.local, action.sha256) if action.local else cache.content(action.sha256, action.url)
    staging = f"{action.path}.khatui-{uuid.uuid4().hex[:8]}"
    transport.upload(staging, content, action.mode, "root:root")
    q = shlex.quote
    placed = transport.run(f"{_verify(action.sha256, staging)} && mv -f {q(staging)} {q(action.path)}", timeout=120)
    if placed.exit_code != 0:
        transport.run(f"rm -f {q(staging)}", timeout=60)
        raise KhatuiError(
            f"{node}: {action.path}: the uploaded file does not hash to {action.sha256} on the node "
            f"(sha256sum: {placed.stderr.strip() or placed.stdout.strip() or 'mismatch'})"
        )
    say("stdout", f"khatui: wrote {action.path} ({len(content)} bytes, sha256 verified on the node)")
