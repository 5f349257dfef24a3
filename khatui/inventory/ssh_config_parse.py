"""OpenSSH client config files read into ordered, conditional runs of options.

OpenSSH gives each option the *first* value it meets among the blocks that match the host, so the
file is kept as a list of `Segment`s in file order, each with the Host pattern lists that must all
match for its options to apply (an `Include` inside a `Host` block adds that block's patterns to
everything it includes). `Include` is followed the way ssh follows it: relative paths from ~/.ssh
(from /etc/ssh for a file there), globs expanded in sorted order, at most 16 levels deep. `Match`
blocks cannot be evaluated without the network and a shell, so their options never apply and the
block is reported; `Match all` is understood (it closes a Match block).
"""

from __future__ import annotations

import fnmatch
import glob
import os
import re
from dataclasses import dataclass, field

from khatui.errors import InputError
from khatui.inventory.reading import read_text
from khatui.inventory.result import ImportResult

MAX_INCLUDE_DEPTH = 16
"""OpenSSH's own limit on nested Include."""
WHAT = "SSH config"
_KEYWORD = re.compile(r"^\s*([A-Za-z][A-Za-z0-9]*)(?:\s*=\s*|\s+|$)(.*)$")
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
    """A config file with everything it includes."""

    segments: list[Segment] = field(default_factory=list)
    host_lines: list[HostLine] = field(default_factory=list)

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
        return [option for segment in self.segments if segment.applies_to(alias) for option in segment.options]


def is_wildcard(pattern: str) -> bool:
    """True for a Host pattern that is not one concrete name (`*`, `web-?`, `!bastion`)."""
    return any(char in _WILDCARDS for char in pattern)


def matches(alias: str, patterns: tuple[str, ...]) -> bool:
    """OpenSSH pattern-list matching: a matching negated pattern vetoes, else any match wins."""
    found = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        # Only * and ? are wildcards in ssh; brackets are literal, so escape them for fnmatch.
        body = (pattern[1:] if negated else pattern).lower().replace("[", "[[]")
        if fnmatch.fnmatchcase(alias.lower(), body):
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
    match = _KEYWORD.match(stripped)
    if match is None:
        raise ValueError(f"{stripped!r} is not 'Keyword value'")
    return match.group(1), _arguments(match.group(2))


def _arguments(text: str) -> list[str]:
    """Split arguments like ssh: whitespace-separated, quotes group, '#' at a word start ends the line."""
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


class _Reader:
    def __init__(self, config: SSHConfig, result: ImportResult, include_base: str) -> None:
        self.config = config
        self.result = result
        self.include_base = include_base

    def read(self, path: str, text: str, outer: Segment, depth: int) -> None:
        current = self._start(outer.conditions, outer.never)
        for number, raw in enumerate(text.splitlines(), start=1):
            try:
                parsed = split_line(raw)
            except ValueError as exc:
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
                        f"'{raw.strip()}' is not supported: the options up to the next Host or Match "
                        "line are not imported",
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
                try:
                    text = read_text(included, WHAT)
                except InputError as exc:
                    self.result.notice(number, f"Include {arg}: {exc.message}; not followed", file=path)
                    continue
                self.result.notice(number, f"Include {arg}: read {included}", file=path)
                self.read(included, text, current, depth + 1)
