"""Problems found in a spec: what is wrong, where (field path, file, line), and how bad.

Validation never stops at the first problem; it returns them all so an operator fixes a spec in
one pass. A field path is written the way the YAML reads: `spec.nodes[1].address`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

Path = tuple[str | int, ...]


class Severity(StrEnum):
    """Errors block using the spec; warnings are shown but do not."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One finding about a spec."""

    severity: Severity
    path: Path
    message: str
    file: str | None = None
    line: int | None = None
    """1-based line in `file`, when the spec came from YAML."""

    @property
    def field(self) -> str:
        """The path as text, e.g. `spec.nodes[1].address` (empty for the document itself)."""
        return format_path(self.path)

    def located(self, file: str | None, line: int | None) -> Problem:
        """The same problem, placed in a file at a line."""
        return replace(self, file=file, line=line)

    def __str__(self) -> str:
        where = self.file or "<spec>"
        if self.line is not None:
            where += f":{self.line}"
        field = f"{self.field}: " if self.path else ""
        return f"{where}: {self.severity}: {field}{self.message}"

    def as_dict(self) -> dict[str, object]:
        """JSON-friendly form, for `--output json`."""
        return {
            "severity": str(self.severity),
            "field": self.field,
            "message": self.message,
            "file": self.file,
            "line": self.line,
        }


def format_path(path: Path) -> str:
    """`('spec', 'nodes', 1, 'address')` -> `spec.nodes[1].address`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def error(path: Path, message: str) -> Problem:
    """An error at `path`."""
    return Problem(Severity.ERROR, path, message)


def warning(path: Path, message: str) -> Problem:
    """A warning at `path`."""
    return Problem(Severity.WARNING, path, message)


def has_errors(problems: Iterable[Problem]) -> bool:
    """True if any problem is an error."""
    return any(p.severity is Severity.ERROR for p in problems)


def sort_problems(problems: Sequence[Problem]) -> list[Problem]:
    """Errors first, then by line, keeping the discovery order otherwise."""
    return sorted(problems, key=lambda p: (p.severity is not Severity.ERROR, p.line or 0))
