"""Small helpers the commands share for writing results: to stdout or to a file, never clobbering.

A file goes through `khatui.localfs`, so it is written atomically and never through a symlink: a
symlink at FILE (dangling or not) is refused, and --force replaces only a regular file.
"""

from __future__ import annotations

import sys
from pathlib import Path

from khatui.localfs import Folder


def check_destination(path: str, force: bool) -> None:
    """Refuse `path` unless it is missing, or (with `force`) a regular file: never a symlink."""
    target = Path(path)
    with Folder.open(target.parent) as folder:
        folder.check_writable(target.name, replace=force)


def write_text(text: str, path: str | None, force: bool = False) -> None:
    """Write `text` to `path` (refusing to overwrite unless `force`), or to stdout when no path."""
    if path is None or path == "-":
        sys.stdout.write(text)
        return
    check_destination(path, force)
    target = Path(path)
    with Folder.open(target.parent) as folder:
        folder.write({target.name: (text.encode("utf-8"), None)}, replace=force)
    print(f"wrote {path}", file=sys.stderr)
