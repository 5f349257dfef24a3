"""Where khatui keeps its own state on the operator's machine (PKI stores, journals, logs).

`KHATUI_DATA_DIR` overrides everything (tests and CI point it at a temporary folder); otherwise the
XDG data directory is used, as `~/.local/share/khatui` by default. Folders khatui creates here are
0700 (`data_folder`, and the PKI store through `khatui.localfs`); existing ones are never chmodded.
"""

from __future__ import annotations

import os
from pathlib import Path

from khatui.localfs import PRIVATE_DIR, Folder


def data_dir() -> Path:
    """khatui's data directory (not created here)."""
    explicit = os.environ.get("KHATUI_DATA_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "khatui"


def cluster_dir(cluster_name: str) -> Path:
    """Per-cluster state: `<data dir>/clusters/<name>`."""
    return data_dir() / "clusters" / cluster_name


def pki_dir(cluster_name: str, directory: str | None = None) -> Path:
    """A cluster's PKI store: `directory` when given (`--dir`), else `<data dir>/clusters/<name>/pki`."""
    return Path(directory).expanduser() if directory else cluster_dir(cluster_name) / "pki"


def data_folder(*parts: str) -> Folder:
    """`<data dir>/<parts>` opened for writing, created 0700 (with any missing parent) if needed."""
    return Folder.open(data_dir().joinpath(*parts), create=True, mode=PRIVATE_DIR)
