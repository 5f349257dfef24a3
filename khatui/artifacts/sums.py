"""sha256sum files: khatui's table of published sums and the operator's own (`binaries.checksums`).

One parser for both, because they are one format: GNU sha256sum's `<64 hex>  <path>` (or ` *<path>`,
its binary-mode marker), paths relative to the files mirror (upstream host + path). A path reaches
a URL, a cache lookup and the plan's text, so it must be plain: the characters a URL path allows
without escaping, no `..`, no leading `/`. Bad input names the file, the line and what is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from khatui.artifacts.published import PUBLISHED
from khatui.boundedread import read_regular
from khatui.errors import InputError

_LINE = re.compile(r"(?P<sum>[0-9a-fA-F]{64}) [ *](?P<path>.+)")
_PATH = re.compile(r"[A-Za-z0-9._~+:@=,-]+(/[A-Za-z0-9._~+:@=,-]+)*")
CHECKSUMS_LIMIT = 4 << 20
"""Bytes read of an operator's checksums file at most."""


def parse(text: str, source: str) -> dict[str, str]:
    """Path -> sha256 (lowercase) of every line of `text`; `InputError` naming `source` and the line."""
    found: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = _LINE.fullmatch(line)
        if match is None:
            raise InputError(f"{source}:{number}: not a sha256sum line ('<64 hex digits>  <path>'): {line[:80]!r}")
        path, digest = match["path"], match["sum"].lower()
        if not _PATH.fullmatch(path) or ".." in path.split("/"):
            raise InputError(
                f"{source}:{number}: {path[:80]!r} is not a path under the mirror "
                "(relative, no '..', letters, digits and . _ ~ + : @ = , - only)"
            )
        if found.get(path, digest) != digest:
            raise InputError(f"{source}:{number}: {path} has two different sums")
        found[path] = digest
    return found


def published() -> dict[str, str]:
    """khatui's own table: upstream path -> the sum upstream published for it."""
    return parse(PUBLISHED, "khatui/artifacts/published.py")


def table(checksums_file: str | None) -> Mapping[str, str]:
    """The published sums, extended by the operator's sha256sum file (its sums win for its paths)."""
    sums = published()
    if checksums_file is not None:
        data = read_regular(checksums_file, CHECKSUMS_LIMIT, "checksums file")
        if len(data) > CHECKSUMS_LIMIT:
            raise InputError(f"{checksums_file}: larger than {CHECKSUMS_LIMIT} bytes; not a checksums file")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(f"{checksums_file}: not UTF-8 text; not a checksums file") from None
        sums |= parse(text, checksums_file)
    return sums
