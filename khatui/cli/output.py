"""Small helpers the commands share: reading a valid spec, writing results to stdout or to a file,
never clobbering.

A file goes through `khatui.localfs`, so it is written atomically and never through a symlink: a
symlink at FILE (dangling or not) is refused, and --force replaces only a regular file.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from khatui.errors import InputError
from khatui.localfs import Folder

if TYPE_CHECKING:
    from khatui.spec.cluster import Cluster


def valid_cluster(spec: str, check_local_files: bool) -> Cluster:
    """The cluster of the spec file `spec`; `InputError` with the first error when it is invalid."""
    from khatui.spec.problems import Severity
    from khatui.spec.validate import validate_file

    report = validate_file(spec, check_local_files=check_local_files)
    errors = [p for p in report.problems if p.severity is Severity.ERROR]
    if report.cluster is None or errors:
        count = f"{len(errors)} error{'s' * (len(errors) != 1)}"
        first = f": {errors[0]}" if errors else ""
        raise InputError(f"{spec}: invalid spec ({count}){first}; see `khatui validate {spec}`")
    return report.cluster


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
