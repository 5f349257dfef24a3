"""Running the real tools that read rendered files. A missing tool fails the test, never skips it:
CI installs them (apt: haproxy keepalived nginx-light libnginx-mod-stream systemd etcd-server containerd
etcd-client openssl; pip: kubernetes-validate)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

APT_HINT = (
    "apt-get install -y haproxy keepalived nginx-light libnginx-mod-stream systemd etcd-server etcd-client containerd"
)


def require(tool: str) -> str:
    """Absolute path of `tool`, or fail the test saying how to install it."""
    path = shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/sbin:/usr/bin:/bin")
    if path is None:
        pytest.fail(f"{tool} is not installed; the render tests need it ({APT_HINT})")
    return path


def run(argv: list[str], timeout: float = 60, **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run `argv`, capturing text output."""
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False, **kwargs)  # type: ignore[call-overload, no-any-return]


def write(path: Path, text: str, mode: int = 0o644) -> Path:
    """Write `text` to `path` (parents created) with `mode`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path
