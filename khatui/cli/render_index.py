"""`khatui-files.tsv`, the index `khatui render` leaves in its folder, written and read back strictly.

The index is how `render --force` knows what a previous render wrote, and so what it may remove. The
folder may hold an old or a planted index, so reading it is input handling like a spec: bounded in
size, every line checked (seven fields, a member name that stays inside the folder, a sha256), and
one bad line refuses the whole index before anything is removed.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from khatui.errors import InputError
from khatui.localfs import Folder, UnsafePathError, member_parts
from khatui.render.files import RenderedFile

INDEX = "khatui-files.tsv"
INDEX_HEADER = "node\tpath\tmode\towner\tkind\tstage\tsha256\n"
INDEX_MAX = 64 << 20
"""Largest index read back: about 300,000 files, far beyond any render."""
_FIELDS = INDEX_HEADER.count("\t") + 1


@dataclass(frozen=True)
class IndexEntry:
    """One file a previous render wrote: where below the folder, and the sha256 of what it wrote."""

    member: str
    sha256: str


def member(node: str, path: str) -> str:
    """The name below the render folder of a node's file: `<node>/<path on the node, without the />`."""
    return f"{node}/{path.removeprefix('/')}"


def index_text(files: list[RenderedFile]) -> str:
    """The index listing `files`: node, path, mode, owner, kind, install stage and sha256 of each."""
    rows = [INDEX_HEADER]
    for file in files:
        digest = hashlib.sha256(file.data).hexdigest()
        rows.append(f"{file.node}\t{file.path}\t{file.mode:04o}\t{file.owner}\t{file.kind}\t{file.stage}\t{digest}\n")
    return "".join(rows)


def read_index(folder: Folder) -> tuple[list[IndexEntry], str]:
    """The entries of the index in `folder`, and the index's own sha256.

    `InputError` naming the line on anything but an index khatui could have written.
    """
    where = folder.child(INDEX)
    data = folder.read(INDEX, INDEX_MAX) or b""
    try:
        lines = data.decode("utf-8").split("\n")
    except UnicodeDecodeError:
        raise _bad(f"{where}", "not UTF-8") from None
    if lines[-1] != "":
        raise _bad(f"{where}", "does not end with a newline (truncated?)")
    if lines[0] + "\n" != INDEX_HEADER:
        raise _bad(f"{where} line 1", "not the header khatui writes")
    entries = []
    for number, line in enumerate(lines[1:-1], start=2):
        fields = line.split("\t")
        if len(fields) != _FIELDS:
            raise _bad(f"{where} line {number}", f"{len(fields)} tab-separated fields, expected {_FIELDS}")
        node, path, mode, *_, digest = fields
        if not path.startswith("/"):
            raise _bad(f"{where} line {number}", f"path {path!r} is not absolute")
        try:
            member_parts(member(node, path))
        except UnsafePathError as exc:
            raise _bad(f"{where} line {number}", exc.message) from None
        if not re.fullmatch(r"[0-7]{4}", mode):
            raise _bad(f"{where} line {number}", f"mode {mode!r} is not four octal digits")
        if not re.fullmatch(r"[0-9a-f]{64}", digest):
            raise _bad(f"{where} line {number}", "the sha256 is not 64 hex digits")
        entries.append(IndexEntry(member(node, path), digest))
    return entries, hashlib.sha256(data).hexdigest()


def _bad(where: str, reason: str) -> InputError:
    return InputError(f"{where}: {reason}; not a khatui index, nothing removed (empty the folder by hand)")
