"""OpenSSH client config files read into ordered, conditional runs of options.

OpenSSH gives each option the *first* value it meets among the blocks that match the host, so the
file is kept as a list of `Segment`s in file order, each with the Host pattern lists that must all
match for its options to apply (an `Include` inside a `Host` block adds that block's patterns to
everything it includes). `Include` is followed the way ssh follows it: relative paths from ~/.ssh
(from /etc/ssh for a file there), globs expanded in sorted order, at most 16 levels deep; a file
that includes itself (directly or not) is reported instead of followed, and at most
`MAX_INCLUDED_FILES` files are read in all. An included file can be anything, so a notice about a
line never repeats the line: it names the file, the line number and at most a known keyword.
`Match` blocks cannot be evaluated without the network and a shell, so their options never apply
and the block is reported; `Match all` is understood (it closes a Match block).

Finding the options of one host must not scan every block of a config with thousands of hosts:
blocks under a `Host` line of concrete names are indexed by those names, so `options_for` only
tests the blocks with wildcards.
"""

from __future__ import annotations

import fnmatch
import glob
import heapq
import os
import re
from dataclasses import dataclass, field

from khatui.errors import InputError
from khatui.inventory.reading import read_text
from khatui.inventory.result import ImportResult

MAX_INCLUDE_DEPTH = 16
"""OpenSSH's own limit on nested Include."""
MAX_INCLUDED_FILES = 256
"""Files read through Include in all (a file included twice counts twice): bounds a fan-out of
Includes 16 levels deep, which would otherwise read a file 2**16 times."""
WHAT = "SSH config"
_KEYWORD = re.compile(r"\s*([A-Za-z][A-Za-z0-9]*)(?:\s*=\s*|\s+|\Z)(.*)", re.DOTALL)
_WILDCARDS = frozenset("*?!")


@dataclass(frozen=True)
class Option:
    """One `Keyword arguments` line."""

    keyword: str
    """Lowercase keyword (OpenSSH keywords are case-insensitive)."""
    name: str
    """The keyword as written, for messages."""
    args: tuple[str, ...]
    file: str
    line: int


@dataclass
class Segment:
    """Options that apply to a host when every pattern list in `conditions` matches it."""

    conditions: tuple[tuple[str, ...], ...]
    options: list[Option] = field(default_factory=list)
    never: bool = False
    """True inside a Match block: khatui cannot tell when those options apply."""

    def applies_to(self, alias: str) -> bool:
        """True if the options of this segment apply when connecting to `alias`."""
        return not self.never and all(matches(alias, patterns) for patterns in self.conditions)


@dataclass(frozen=True)
class HostLine:
    """A `Host` line: its patterns, where it is, and the conditions it sits under (from Include)."""

    patterns: tuple[str, ...]
    file: str
    line: int
    outer: Segment


@dataclass
class SSHConfig:
    """A config file with everything it includes (complete once `parse_config` returns)."""

    segments: list[Segment] = field(default_factory=list)
    host_lines: list[HostLine] = field(default_factory=list)
    _by_name: dict[str, list[int]] = field(default_factory=dict, repr=False)
    """Lowercase concrete host name -> indexes of the segments that can only apply to it (and others)."""
    _unindexed: list[int] = field(default_factory=list, repr=False)
    """Indexes of the segments that may apply to any host (wildcards, negations, no Host line)."""
    _indexed: int = field(default=0, repr=False)
    """How many segments the index covers."""
    _first_line: dict[str, HostLine] = field(default_factory=dict, repr=False)

    def aliases(self) -> list[str]:
        """Concrete host names (no wildcard) of the Host lines, in file order, each once."""
        found: dict[str, None] = {}
        for host_line in self.host_lines:
            for pattern in host_line.patterns:
                if not is_wildcard(pattern) and host_line.outer.applies_to(pattern):
                    found.setdefault(pattern, None)
        return list(found)

    def options_for(self, alias: str) -> list[Option]:
        """Every option that applies to `alias`, in the order ssh reads them (the first value wins)."""
        self._index()
        candidates = heapq.merge(self._by_name.get(alias.lower(), []), self._unindexed)
        found: list[Option] = []
        for index in dict.fromkeys(candidates):
            segment = self.segments[index]
            if segment.options and segment.applies_to(alias):
                found += segment.options
        return found

    def host_line(self, alias: str) -> HostLine:
        """The first Host line naming `alias` literally (`alias` must be one of `aliases()`)."""
        if not self._first_line:
            for host_line in self.host_lines:
                for pattern in host_line.patterns:
                    self._first_line.setdefault(pattern, host_line)
        return self._first_line[alias]

    def _index(self) -> None:
        for index in range(self._indexed, len(self.segments)):
            names = _only_names(self.segments[index].conditions)
            if names is None:
                self._unindexed.append(index)
            for name in names or ():
                self._by_name.setdefault(name, []).append(index)
        self._indexed = len(self.segments)


def _only_names(conditions: tuple[tuple[str, ...], ...]) -> set[str] | None:
    """The lowercase names of a condition made only of concrete names (the segment applies to no other
    host), or None when every condition has a wildcard or a negation."""
    for patterns in conditions:
        if not any(is_wildcard(pattern) for pattern in patterns):
            return {pattern.lower() for pattern in patterns}
    return None


def is_wildcard(pattern: str) -> bool:
    """True for a Host pattern that is not one concrete name (`*`, `web-?`, `!bastion`)."""
    return any(char in _WILDCARDS for char in pattern)


def matches(alias: str, patterns: tuple[str, ...]) -> bool:
    """OpenSSH pattern-list matching: a matching negated pattern vetoes, else any match wins."""
    found = False
    name = alias.lower()
    for pattern in patterns:
        negated = pattern.startswith("!")
        body = (pattern[1:] if negated else pattern).lower()
        # Only * and ? are wildcards in ssh; brackets are literal, so escape them for fnmatch.
        # A plain name is compared as is: fnmatch would compile (and cache) a regex per host.
        hit = fnmatch.fnmatchcase(name, body.replace("[", "[[]")) if "*" in body or "?" in body else name == body
        if hit:
            if negated:
                return False
            found = True
    return found


def split_line(raw: str) -> tuple[str, list[str]] | None:
    """`Keyword args`, `Keyword=args` or `Keyword = args` -> (keyword, args); None for blanks and comments.

    Raises ValueError for a line that is neither, or has unbalanced quotes.
    """
    stripped = raw.strip()
    if not stripped or stripped.startswith("#"):
        return None
    match = _KEYWORD.fullmatch(stripped)
    if match is None:
        raise ValueError("not 'Keyword value'")
    return match.group(1), _arguments(match.group(2))


def _arguments(text: str) -> list[str]:
    """Split arguments like ssh: whitespace-separated, quotes group, '#' at a word start ends the line."""
    if not any(char in text for char in "\"'\\#"):
        return text.split()
    args: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char in " \t":
            index += 1
            continue
        if char == "#":
            break
        word: list[str] = []
        while index < len(text) and text[index] not in " \t":
            char = text[index]
            if char in "\"'":
                end = text.find(char, index + 1)
                if end < 0:
                    raise ValueError("unbalanced quote")
                word.append(text[index + 1 : end])
                index = end + 1
                continue
            if char == "\\" and index + 1 < len(text) and text[index + 1] in "\\\"' ":
                index += 1
                char = text[index]
            word.append(char)
            index += 1
        args.append("".join(word))
    return args


def parse_config(path: str, result: ImportResult) -> SSHConfig:
    """Read the config at `path` and what it includes; an unreadable `path` is an `InputError`."""
    config = SSHConfig()
    text = read_text(path, WHAT)
    system = os.path.abspath(path).startswith("/etc/ssh/")
    base = "/etc/ssh" if system else os.path.join(os.path.expanduser("~"), ".ssh")
    _Reader(config, result, base).read(path, text, Segment(()), 0)
    return config


def _identity(path: str) -> tuple[int, int] | None:
    """(device, inode) of `path`, the same for every name of one file; None if it cannot be seen."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


class _Reader:
    def __init__(self, config: SSHConfig, result: ImportResult, include_base: str) -> None:
        self.config = config
        self.result = result
        self.include_base = include_base
        self.reading: list[tuple[int, int] | None] = []
        """The files being read, outermost first: including one of them again is a cycle."""
        self.included = 0

    def read(self, path: str, text: str, outer: Segment, depth: int) -> None:
        self.reading.append(_identity(path))
        try:
            self._lines(path, text, outer, depth)
        finally:
            self.reading.pop()

    def _lines(self, path: str, text: str, outer: Segment, depth: int) -> None:
        current = self._start(outer.conditions, outer.never)
        for number, raw in enumerate(text.splitlines(), start=1):
            try:
                parsed = split_line(raw)
            except ValueError as exc:
                # Never the line itself: an Include may have pulled in a file of secrets.
                self.result.notice(number, f"line cannot be read ({exc}); skipped", file=path)
                continue
            if parsed is None:
                continue
            name, args = parsed
            keyword = name.lower()
            if keyword == "host":
                current = self._host(path, number, args, outer)
            elif keyword == "match":
                always = [arg.lower() for arg in args] == ["all"]
                if not always:
                    self.result.notice(
                        number,
                        "Match is not supported: the options up to the next Host or Match line are not imported",
                        file=path,
                    )
                current = self._start(outer.conditions, outer.never or not always)
            elif keyword == "include":
                self._include(path, number, args, current, depth)
                current = self._start(current.conditions, current.never)
            else:
                current.options.append(Option(keyword, name, tuple(args), path, number))

    def _start(self, conditions: tuple[tuple[str, ...], ...], never: bool) -> Segment:
        segment = Segment(conditions, never=never)
        self.config.segments.append(segment)
        return segment

    def _host(self, path: str, number: int, patterns: list[str], outer: Segment) -> Segment:
        if not patterns:
            self.result.notice(number, "Host line without a pattern; its options are not imported", file=path)
            return self._start(outer.conditions, True)
        self.config.host_lines.append(HostLine(tuple(patterns), path, number, outer))
        wildcards = [p for p in patterns if is_wildcard(p) and p != "*"]
        if wildcards:
            self.result.notice(
                number,
                f"Host pattern{'s' * (len(wildcards) > 1)} {', '.join(wildcards)}: a wildcard is not a host, so no "
                "node is imported for it (its options still apply to the hosts it matches)",
                file=path,
            )
        return self._start((*outer.conditions, tuple(patterns)), outer.never)

    def _include(self, path: str, number: int, args: list[str], current: Segment, depth: int) -> None:
        if depth + 1 > MAX_INCLUDE_DEPTH:
            self.result.notice(number, f"Include nested more than {MAX_INCLUDE_DEPTH} deep; not followed", file=path)
            return
        for arg in args:
            pattern = os.path.expanduser(arg)
            if not os.path.isabs(pattern):
                pattern = os.path.join(self.include_base, pattern)
            files = sorted(glob.glob(pattern))
            if not files:
                self.result.notice(number, f"Include {arg}: no file matches {pattern}", file=path)
            for included in files:
                if self.included >= MAX_INCLUDED_FILES:
                    self.result.notice(
                        number, f"Include {arg}: more than {MAX_INCLUDED_FILES} included files; not followed", file=path
                    )
                    return
                identity = _identity(included)
                if identity is not None and identity in self.reading:
                    self.result.notice(
                        number,
                        f"Include {arg}: {included} is already being read (an Include cycle); not followed",
                        file=path,
                    )
                    continue
                self.included += 1
                try:
                    text = read_text(included, WHAT)
                except InputError as exc:
                    self.result.notice(number, f"Include {arg}: {exc.message}; not followed", file=path)
                    continue
                self.result.notice(number, f"Include {arg}: read {included}", file=path)
                self.read(included, text, current, depth + 1)
