"""`Transfer` through real sshd on loopback: the release file is uploaded beside its path, checked with
sha256sum on the node and only then moved in; a node that already holds it gets nothing; bytes that
do not hash to the plan's sum are refused and leave nothing behind."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from khatui.engine.artifact_cache import ArtifactCache
from khatui.engine.ssh import HostKeys, Session, Target
from khatui.engine.transfer import transfer
from khatui.engine.transport import CommandResult, LineCallback
from khatui.errors import KhatuiError
from khatui.plan.model import Transfer
from tests.engine.sshd import SSHDFarm

CONTENT = b"#!/bin/sh\necho a release binary\n"
SHA256 = hashlib.sha256(CONTENT).hexdigest()
NOWHERE = "http://127.0.0.1:9/never-fetched"
"""A URL nothing answers: a test whose cache would have to download fails loudly."""


class CountingSession:
    """A real session that counts the uploads going through it."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.uploads: list[str] = []

    def run(self, command: str, on_line: LineCallback | None = None, timeout: float | None = None) -> CommandResult:
        return self.session.run(command, on_line, timeout)

    def upload(self, path: str, content: bytes, mode: int, owner: str) -> None:
        self.uploads.append(path)
        self.session.upload(path, content, mode, owner)

    def close(self) -> None:
        self.session.close()


class CorruptingCache(ArtifactCache):
    """A cache whose bytes are damaged on the way out (a disk or transfer error after the check)."""

    def content(self, sha256: str, url: str) -> bytes:
        return super().content(sha256, url) + b"\0"


@pytest.fixture
def node(farm: SSHDFarm, tmp_path: Path) -> Iterator[CountingSession]:
    first = farm.nodes[0]
    target = Target(first.name, first.host, first.port, identity_file=str(farm.client_key))
    session = Session(target, HostKeys((farm.known_hosts,), tmp_path / "pins"))
    counting = CountingSession(session)
    yield counting
    counting.close()


def _cache(tmp_path: Path, kind: type[ArtifactCache] = ArtifactCache) -> ArtifactCache:
    """A cache holding CONTENT already (it never downloads in these tests)."""
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o700)
    (folder / SHA256).write_bytes(CONTENT)
    return kind(str(folder))


def _said() -> tuple[list[str], LineCallback]:
    lines: list[str] = []
    return lines, lambda stream, line: lines.append(line)


def test_a_file_is_uploaded_checked_and_moved_into_place(node: CountingSession, farm: SSHDFarm, tmp_path: Path) -> None:
    target = farm.nodes[0].root / "artifacts" / SHA256
    target.parent.mkdir()
    lines, say = _said()
    transfer(node, Transfer(SHA256, NOWHERE, str(target)), "n0", say, _cache(tmp_path))
    assert target.read_bytes() == CONTENT and target.stat().st_mode & 0o777 == 0o600
    (staged,) = node.uploads
    assert staged.startswith(f"{target}.khatui-") and staged != str(target)
    assert sorted(p.name for p in target.parent.iterdir()) == [SHA256]  # the staging name is gone
    assert lines == [f"khatui: wrote {target} ({len(CONTENT)} bytes, sha256 verified on the node)"]


def test_a_node_already_holding_the_file_gets_nothing(node: CountingSession, farm: SSHDFarm, tmp_path: Path) -> None:
    target = farm.nodes[0].root / "held" / SHA256
    target.parent.mkdir()
    target.write_bytes(CONTENT)
    empty = ArtifactCache(str(tmp_path / "empty"))  # asked for the file, it would try NOWHERE and fail
    lines, say = _said()
    transfer(node, Transfer(SHA256, NOWHERE, str(target)), "n0", say, empty)
    assert node.uploads == [] and target.read_bytes() == CONTENT
    assert lines == [f"khatui: {target} already holds sha256 {SHA256[:12]}"]


def test_a_file_with_other_content_at_the_path_is_replaced(
    node: CountingSession, farm: SSHDFarm, tmp_path: Path
) -> None:
    target = farm.nodes[0].root / "stale" / SHA256
    target.parent.mkdir()
    target.write_bytes(b"an older download, cut off")
    transfer(node, Transfer(SHA256, NOWHERE, str(target)), "n0", _said()[1], _cache(tmp_path))
    assert target.read_bytes() == CONTENT and len(node.uploads) == 1


def test_a_corrupt_upload_is_refused_and_leaves_nothing(node: CountingSession, farm: SSHDFarm, tmp_path: Path) -> None:
    target = farm.nodes[0].root / "corrupt" / SHA256
    target.parent.mkdir()
    cache = _cache(tmp_path, CorruptingCache)
    with pytest.raises(KhatuiError, match=rf"n0: {target}: the uploaded file does not hash to {SHA256} on the node"):
        transfer(node, Transfer(SHA256, NOWHERE, str(target)), "n0", _said()[1], cache)
    assert len(node.uploads) == 1
    assert list(target.parent.iterdir()) == []  # neither the file nor its staging copy
