"""The operator's artifact cache against a loopback HTTP server serving a files-mirror tree."""

from __future__ import annotations

import hashlib
import http.server
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from khatui.engine.artifact_cache import ArtifactCache, ArtifactMismatch
from khatui.errors import KhatuiError

PATH = "dl.k8s.io/release/v1.31.4/bin/linux/amd64/kubeadm"
BODY = b"kubeadm stand-in\n" * 1000
SUM = hashlib.sha256(BODY).hexdigest()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    requests: list[str] = []

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
        _Quiet.requests.append(self.path)


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """(base URL, served folder) of a loopback server holding PATH."""
    tree = tmp_path / "tree"
    (tree / PATH).parent.mkdir(parents=True)
    (tree / PATH).write_bytes(BODY)
    _Quiet.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(tree)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", tree
    server.shutdown()
    server.server_close()


def test_fetched_once_then_served_from_the_cache(mirror: tuple[str, Path], tmp_path: Path) -> None:
    base, _ = mirror
    cache = ArtifactCache(str(tmp_path / "cache"))
    assert cache.content(SUM, f"{base}/{PATH}") == BODY
    assert cache.content(SUM, f"{base}/{PATH}") == BODY
    assert len(_Quiet.requests) == 1
    cached = tmp_path / "cache" / SUM
    assert cached.read_bytes() == BODY
    assert cached.stat().st_mode & 0o777 == 0o600


def test_a_corrupt_cached_file_is_fetched_again(mirror: tuple[str, Path], tmp_path: Path) -> None:
    base, _ = mirror
    cache = ArtifactCache(str(tmp_path / "cache"))
    cache.content(SUM, f"{base}/{PATH}")
    (tmp_path / "cache" / SUM).write_bytes(b"bit rot")
    assert cache.content(SUM, f"{base}/{PATH}") == BODY
    assert len(_Quiet.requests) == 2


def test_a_mismatch_names_the_url_and_both_sums_and_caches_nothing(mirror: tuple[str, Path], tmp_path: Path) -> None:
    base, tree = mirror
    (tree / PATH).write_bytes(b"tampered")
    cache = ArtifactCache(str(tmp_path / "cache"))
    with pytest.raises(ArtifactMismatch) as caught:
        cache.content(SUM, f"{base}/{PATH}")
    message = caught.value.message
    assert f"{base}/{PATH}" in message and SUM in message and hashlib.sha256(b"tampered").hexdigest() in message
    assert list((tmp_path / "cache").iterdir()) == []  # no temp file, no cached file


def test_a_missing_file_is_a_clear_error(mirror: tuple[str, Path], tmp_path: Path) -> None:
    base, _ = mirror
    with pytest.raises(KhatuiError, match=r"/missing: download failed: File not found"):
        ArtifactCache(str(tmp_path / "cache")).content(SUM, f"{base}/missing")
    assert list((tmp_path / "cache").iterdir()) == []


@pytest.mark.parametrize("digest", ["../../etc/passwd", "A" * 64, "0" * 63])
def test_only_a_sha256_names_a_cached_file(tmp_path: Path, digest: str) -> None:
    with pytest.raises(KhatuiError, match="is not a sha256 digest"):
        ArtifactCache(str(tmp_path / "cache")).content(digest, "http://127.0.0.1:9/x")


def test_only_http_urls(tmp_path: Path) -> None:
    with pytest.raises(KhatuiError, match="not an http"):
        ArtifactCache(str(tmp_path / "cache")).content(SUM, "file:///etc/passwd")
