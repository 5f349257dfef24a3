"""What the executor needs of a connection to a node: run a command, upload a file, close.

Why a module of its own: the executor's ordering, barriers, holds, retries and resume are decided
against this protocol only, so a scripted fake (tests/engine/fake_transport.py) can stand in for SSH
and those decisions are tested in-process; the SSH `Session` implements it. It imports nothing but
the error hierarchy, so both sides depend on it and neither on the other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from khatui.errors import KhatuiError

LineCallback = Callable[[str, str], None]
"""Called with (stream, line) for every line of a command's output, as it arrives."""


class ConnectionLost(KhatuiError):
    """The connection failed or dropped; the step may be retried on a new connection."""

    title = "Connection lost"


@dataclass
class CommandResult:
    """Exit code and output of one command."""

    exit_code: int
    stdout: str
    stderr: str


class Transport(Protocol):
    """A reusable connection to one node that acts as root there.

    `run` and `upload` raise `ConnectionLost` when the connection fails (the next call reconnects),
    another `KhatuiError` when the node refuses (a host key, a login, a file it cannot install).
    """

    def run(self, command: str, on_line: LineCallback | None = None, timeout: float | None = None) -> CommandResult:
        """Run `command`, streaming its lines to `on_line`; never raises on exit codes (124: timed out)."""
        ...

    def upload(self, path: str, content: bytes, mode: int, owner: str) -> None:
        """Replace `path` atomically with `content`, owned by `owner`, with `mode`."""
        ...

    def close(self) -> None:
        """Close the connection, ignoring errors (it may already be dead)."""
        ...
