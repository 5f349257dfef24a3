"""Fixtures for the PKI tests: specs written to a temporary folder, a generated store, openssl.

openssl (Debian package `openssl`) is the independent verifier: khatui issues with `cryptography`,
the tests check with the openssl binary, so a bug shared by khatui and its library cannot hide.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from khatui.cli.main import main
from tests.conftest import CLI as CLI  # the tests here take it from beside their fixtures
from tests.conftest import ROOT

EXAMPLES = ROOT / "assets" / "examples"
STACKED = EXAMPLES / "stacked-haproxy-ipvs-nfs.yaml"
EXTERNAL = EXAMPLES / "external-etcd-cloudlb-ceph.yaml"


def write_spec(folder: Path, source: Path = STACKED, **pki: object) -> Path:
    """A copy of example `source` in `folder` with `spec.pki` keys overridden (ECDSA P-256 by default)."""
    data = yaml.safe_load(source.read_text())
    settings = data["spec"].setdefault("pki", {})
    settings["keyAlgorithm"] = "ecdsa-p256"
    settings.update(pki)
    path = folder / "cluster.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def edit_spec(path: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    """Change a spec file in place."""
    data = yaml.safe_load(path.read_text())
    edit(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def openssl(*args: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the openssl binary."""
    return subprocess.run(["openssl", *map(str, args)], capture_output=True, text=True, check=check)


def snapshot(root: Path) -> dict[str, tuple[bytes, int, int]]:
    """Every file under `root`: (content, mtime_ns, inode), to prove a run changed nothing."""
    return {
        str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_ino)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def stacked_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(spec, store) of the stacked example, generated once per module; tests must not modify it."""
    folder = tmp_path_factory.mktemp("stacked")
    spec = write_spec(folder)
    store = folder / "pki"
    assert main(["certs", "generate", str(spec), "--dir", str(store)]) == 0
    return spec, store
