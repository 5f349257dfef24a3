"""Ansible host ranges: `node[01:03]`, `db-[a:c]`, `web[1:9:2]` expand to the hosts they name.

Ansible's rules are followed: a numeric start with a leading zero fixes the width (and the end must
then be written with the same width), letters count through a-z then A-Z, an optional third part is
the step, and several ranges in one pattern multiply. Anything else in brackets is left for the
caller to report, never guessed at.
"""

from __future__ import annotations

import re
import string

from khatui.inventory.result import ImportResult

MAX_HOSTS = 10_000
"""A pattern naming more hosts than this is a typo, not a cluster."""

_RANGE = re.compile(r"\[([0-9]+|[A-Za-z]):([0-9]+|[A-Za-z])(?::([0-9]+))?\]")
_BRACKETED_IPV6 = re.compile(r"\[([0-9A-Fa-f:.]+)\](?::([0-9]+))?")
_WITH_PORT = re.compile(r"(.*):([0-9]+)", re.DOTALL)
_BRACKETS = re.compile(r"\[[^\]]*\]")


class RangeError(ValueError):
    """A bracketed part of a host pattern that is not a range khatui (and Ansible) accepts."""


def has_range(pattern: str) -> bool:
    """True if `pattern` contains a bracketed part (a range, or something that looks like one)."""
    return "[" in pattern and "]" in pattern.split("[", 1)[1]


def expand(pattern: str) -> list[str]:
    """The host names `pattern` stands for; raises `RangeError` for brackets that are not a range."""
    match = _RANGE.search(pattern)
    if match is None:
        if has_range(pattern):
            raise RangeError(f"{pattern!r} has brackets that are not a range like [01:03] or [a:c]")
        return [pattern]
    head, tail = pattern[: match.start()], pattern[match.end() :]
    names: list[str] = []
    for item in _items(*match.groups()):
        names += expand(head + item + tail)
        if len(names) > MAX_HOSTS:
            raise RangeError(f"{pattern!r} names more than {MAX_HOSTS} hosts")
    return names


def _items(begin: str, end: str, step_text: str | None) -> list[str]:
    step = int(step_text) if step_text else 1
    if step < 1:
        raise RangeError(f"range step {step} must be 1 or more")
    if begin.isalpha() != end.isalpha():
        raise RangeError(f"range [{begin}:{end}] mixes a letter and a number")
    if begin.isalpha():
        first, last = string.ascii_letters.index(begin), string.ascii_letters.index(end)
        if first > last:
            raise RangeError(f"range [{begin}:{end}] runs backwards")
        return list(string.ascii_letters[first : last + 1 : step])
    width = len(begin) if begin.startswith("0") and len(begin) > 1 else 0
    if width and len(end) != width:
        raise RangeError(f"range [{begin}:{end}]: a zero-padded start needs an end of the same width")
    first_number, last_number = int(begin), int(end)
    if first_number > last_number:
        raise RangeError(f"range [{begin}:{end}] runs backwards")
    if (last_number - first_number) // step >= MAX_HOSTS:
        raise RangeError(f"range [{begin}:{end}] names more than {MAX_HOSTS} hosts")
    return [str(number).zfill(width) for number in range(first_number, last_number + 1, step)]


def split_port(pattern: str) -> tuple[str, int | None]:
    """`host:2222` -> (`host`, 2222); `[fe80::1]:22` -> (`fe80::1`, 22); bare IPv6 and ranges keep their colons."""
    ipv6 = _BRACKETED_IPV6.fullmatch(pattern)
    if ipv6:
        return ipv6.group(1), int(ipv6.group(2)) if ipv6.group(2) else None
    with_port = _WITH_PORT.fullmatch(pattern)
    if with_port and ":" not in _BRACKETS.sub("", with_port.group(1)):
        return with_port.group(1), int(with_port.group(2))
    return pattern, None


def host_names(pattern: str, line: int | None, result: ImportResult) -> list[str]:
    """The hosts `pattern` names; an expanded or unsupported range is reported in `result`."""
    if not has_range(pattern):
        return [pattern]
    try:
        names = expand(pattern)
    except RangeError as exc:
        result.notice(line, f"host range not supported: {exc}; no host imported from it")
        return []
    shown = ", ".join(names) if len(names) <= 6 else f"{', '.join(names[:3])}, ..., {names[-1]}"
    result.notice(line, f"host range {pattern!r} expanded to {len(names)} hosts: {shown}")
    return names
