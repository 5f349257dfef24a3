"""The comment khatui puts at the top of every config file it writes, and the check that reads it.

The header names the spec the file came from (a short sha256 of the spec's canonical JSON) and the
sha256 of the rest of the file. So the engine can tell, from the file alone, three cases apart:
not khatui's file, khatui's file edited by hand (body no longer matches), and khatui's file from an
older spec (intact, other spec digest). Keys and certificates never get a header.

Why two lines and a fixed grammar: the parser must never mistake an operator's own comment for a
header, and every syntax khatui writes (YAML, haproxy, keepalived, nginx, systemd, sysctl.d,
modules-load.d, sh) uses `#` for comments, so one format covers them all. A shebang stays first.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from khatui.quoting.lines import word
from khatui.spec.cluster import Cluster

SPEC_DIGEST_LENGTH = 12
CONTENT_DIGEST_LENGTH = 16
_FIRST = "# Written by khatui from spec {name} sha256:{spec}; content sha256:{content}."
_SECOND = "# khatui detects edits made by hand: change the spec and render again instead."
_PATTERN = re.compile(
    r"^# Written by khatui from spec (?P<name>[a-z0-9-]+) "
    rf"sha256:(?P<spec>[0-9a-f]{{{SPEC_DIGEST_LENGTH}}}); "
    rf"content sha256:(?P<content>[0-9a-f]{{{CONTENT_DIGEST_LENGTH}}})\.$"
)


def spec_digest(cluster: Cluster) -> str:
    """Short sha256 of the spec's canonical JSON (`model_dump_json(by_alias=True)`)."""
    canonical = cluster.model_dump_json(by_alias=True).encode()
    return hashlib.sha256(canonical).hexdigest()[:SPEC_DIGEST_LENGTH]


def _content_digest(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()[:CONTENT_DIGEST_LENGTH]


def stamp(body: str, cluster_name: str, digest: str) -> str:
    """`body` with the khatui header in front (after a `#!` line, which must stay first)."""
    shebang = ""
    if body.startswith("#!"):
        shebang, _, body = body.partition("\n")
        shebang += "\n"
    first = _FIRST.format(name=word(cluster_name, "the khatui header"), spec=digest, content=_content_digest(body))
    return f"{shebang}{first}\n{_SECOND}\n{body}"


@dataclass(frozen=True)
class Header:
    """A parsed khatui header."""

    cluster_name: str
    """`metadata.name` of the spec that produced the file."""
    spec_digest: str
    """Short sha256 of that spec."""
    intact: bool
    """True when the body after the header is exactly what khatui wrote (no hand edit)."""

    def from_spec(self, digest: str) -> bool:
        """True when the file was rendered from the spec with `digest` and is unedited."""
        return self.intact and self.spec_digest == digest


def read_header(content: str | bytes) -> Header | None:
    """The khatui header of a file, or None when the file does not carry one."""
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
    if text.startswith("#!"):
        text = text.partition("\n")[2]
    first, _, rest = text.partition("\n")
    second, _, body = rest.partition("\n")
    match = _PATTERN.match(first)
    if match is None or second != _SECOND:
        return None
    return Header(match["name"], match["spec"], _content_digest(body) == match["content"])


def body_of(content: str | bytes) -> str | None:
    """What follows the khatui header (a `#!` line kept), or None when there is no header.

    Two renders of one file from specs that differ elsewhere differ only in the header's spec digest;
    comparing bodies tells the engine the file itself needs no change.
    """
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
    if read_header(text) is None:
        return None
    shebang = ""
    if text.startswith("#!"):
        shebang, _, text = text.partition("\n")
    body = text.partition("\n")[2].partition("\n")[2]
    return f"{shebang}\n{body}" if shebang else body
