"""Small helpers the commands share for writing results: to stdout or to a file, never clobbering."""

from __future__ import annotations

import os
import sys

from khatui.errors import InputError


def write_text(text: str, path: str | None, force: bool = False) -> None:
    """Write `text` to `path` (refusing to overwrite unless `force`), or to stdout when no path."""
    if path is None or path == "-":
        sys.stdout.write(text)
        return
    if os.path.exists(path) and not force:
        raise InputError(f"{path} exists; pass --force to overwrite it")
    try:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise InputError(f"{path}: cannot write: {exc.strerror}") from None
    print(f"wrote {path}", file=sys.stderr)
