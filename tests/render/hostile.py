"""Hostile spec values for the property tests: every free-text field of the test specs, a way to put any
value into one of them without validation (validation is not what these tests are about: escaping
must hold even for a value validation lets through), and payloads made of what shells, systemd and
config parsers treat as syntax.

A field gets `prefix + MARK` in the benign run and `prefix + payload` in the hostile one, so the two
renders differ only where the value lands and a renderer that parses the value's start (the minor
of a version, an address's family) still can. An address becomes an IPv6 address whose zone ID is
the mark or the payload (`fd00::13%$(touch x)`), which Python's `ipaddress` accepts.
"""

from __future__ import annotations

import enum
import ipaddress
import re
import typing
from collections.abc import Iterator
from functools import cache
from typing import Any

from hypothesis import strategies as st
from pydantic import BaseModel

from khatui.render import render_cluster
from khatui.spec.cluster import Cluster
from tests.render.variants import specs

Path = tuple[str | int, ...]
MARK = "qqmark"
PARSED = {("spec", "pki", "validity")}
"""Fields the renderer parses with the spec's own type (a duration) instead of writing them as text."""
SYNTAX = "$(){}`;&|<>*?[]~!#%\\\"' \t\n\r=:,./-@+^\x00\x1b\u2028"
CORPUS = [
    "$(touch${IFS}pwned)",
    "`touch pwned`",
    "'; touch pwned; '",
    '" ; touch pwned #',
    "\nExecStartPre=/bin/touch /tmp/pwned",
    "x\\",
    "%n$HOME${HOME}",
    "a b\tc",
    "; touch pwned",
    "&& touch pwned",
    "\u2028x",
]
"""Known attacks: tried on every kind of field, and drawn as often as generated payloads."""
PAYLOADS = st.sampled_from(CORPUS) | st.text(st.sampled_from(SYNTAX) | st.sampled_from("az09"), min_size=1, max_size=12)


def _walk(value: Any, path: Path) -> Iterator[tuple[Path, Any]]:
    if isinstance(value, BaseModel):
        for name, field in type(value).model_fields.items():
            if typing.get_origin(field.annotation) is not typing.Literal:
                yield from _walk(getattr(value, name), (*path, name))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, (*path, index))
    elif _free_text(value) and path not in PARSED:
        yield path, value


def _free_text(value: Any) -> bool:
    return isinstance(value, str | ipaddress.IPv4Address | ipaddress.IPv6Address) and not isinstance(value, enum.Enum)


@cache
def field_kinds() -> dict[str, list[tuple[str, Path]]]:
    """Every free-text or address field of every test spec, as (spec name, field path), grouped by kind
    (`spec.nodes[].name`: the same field of every node)."""
    kinds: dict[str, list[tuple[str, Path]]] = {}
    for name, cluster in specs().items():
        for path, _ in _walk(cluster, ()):
            kind = ".".join("[]" if isinstance(p, int) else p for p in path).replace(".[]", "[]")
            kinds.setdefault(kind, []).append((name, path))
    return kinds


def _replace(value: Any, path: Path, new: Any) -> Any:
    if not path:
        return new
    head, *rest = path
    if isinstance(value, list):
        return [_replace(item, tuple(rest), new) if i == head else item for i, item in enumerate(value)]
    assert isinstance(head, str)
    return value.model_copy(update={head: _replace(getattr(value, head), tuple(rest), new)})


def _get(value: Any, path: Path) -> Any:
    for part in path:
        value = value[part] if isinstance(part, int) else getattr(value, part)
    return value


def with_value(spec: str, path: Path, text: str) -> Cluster:
    """The spec `spec` with the field at `path` set to its prefix plus `text`, unvalidated."""
    cluster = specs()[spec]
    old = _get(cluster, path)
    if isinstance(old, ipaddress.IPv4Address | ipaddress.IPv6Address):
        new: Any = ipaddress.IPv6Address(f"fd00::13%{text}")
    else:
        new = old + text
    result: Cluster = _replace(cluster, path, new)
    return result


def fit(spec: str, path: Path, payload: str) -> str:
    """`payload` as the field at `path` can hold it: an address's zone ID cannot hold `%` or `/`
    (the only characters `ipaddress` refuses there)."""
    if isinstance(_get(specs()[spec], path), ipaddress.IPv4Address | ipaddress.IPv6Address):
        return payload.replace("%", "").replace("/", "") or "x"
    return payload


@cache
def corpus_cases() -> list[tuple[str, Path, str]]:
    """Every known attack in the most exposed field of each kind: the one reaching most files (for a
    node: a node with every role the spec gives, e.g. an lb node whose name goes into haproxy.cfg)."""
    cases = []
    for fields in field_kinds().values():
        spec, path = max(fields, key=lambda field: _exposure(*field))
        cases += [(spec, path, fit(spec, path, payload)) for payload in CORPUS]
    return cases


def _exposure(spec: str, path: Path) -> int:
    return sum(MARK in f.content for f in render_cluster(with_value(spec, path, MARK)) if isinstance(f.content, str))


def case_id(value: object) -> str:
    if isinstance(value, tuple):
        return ".".join(map(str, value))
    plain = isinstance(value, str) and re.fullmatch(r"[\w.-]+", value)
    return str(value) if plain else repr(value)


def _case(field: tuple[str, Path]) -> st.SearchStrategy[tuple[str, Path, str]]:
    spec, path = field
    return PAYLOADS.map(lambda payload: (spec, path, fit(spec, path, payload)))


CASES = st.sampled_from(sorted(field_kinds())).flatmap(lambda kind: st.sampled_from(field_kinds()[kind])).flatmap(_case)
"""(spec, field path, payload): a kind of field, one of its fields, a payload it can hold."""
