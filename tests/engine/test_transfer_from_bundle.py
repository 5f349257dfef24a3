"""A `Transfer` whose source is an air-gapped bundle's file: sent from it, never fetched, and hashed
again first (the file may have changed since `plan` verified it)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from khatui.engine.artifact_cache import ArtifactCache
from khatui.engine.transfer import transfer
from khatui.errors import KhatuiError
from khatui.plan.model import Transfer
from tests.engine.fake_transport import FakeNodes, Reply

BODY = b"a bundled kubelet\n"
SUM = hashlib.sha256(BODY).hexdigest()


def _send(tmp_path: Path, body: bytes) -> FakeNodes:
    local = tmp_path / "bundle/binaries/kubelet"
    local.parent.mkdir(parents=True)
    local.write_bytes(body)
    nodes = FakeNodes(["n1"])
    nodes.script("n1", lambda c: c.startswith("printf") and "khatui-" not in c, Reply(exit_code=1))  # not there yet
    action = Transfer(
        SUM, "https://dl.k8s.io/unreachable/kubelet", f"/var/lib/khatui/artifacts/{SUM}", local=str(local)
    )
    transfer(nodes("n1"), action, "n1", lambda _s, _l: None, ArtifactCache(str(tmp_path / "cache")))
    return nodes


def test_the_bundle_file_is_uploaded_and_nothing_is_fetched(tmp_path: Path) -> None:
    nodes = _send(tmp_path, BODY)
    [(path, (content, _mode, _owner))] = nodes.files.items()
    assert content == BODY and path[1].startswith(f"/var/lib/khatui/artifacts/{SUM}.khatui-")
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())


def test_a_bundle_file_changed_since_the_plan_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KhatuiError, match=r"bundle/binaries/kubelet: corrupt: sha256 [0-9a-f]{64}, the bundle's"):
        _send(tmp_path, b"changed after plan\n")
