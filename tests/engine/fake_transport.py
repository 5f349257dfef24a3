"""A scripted stand-in for SSH: per node, what each command answers; every call recorded in order.

Why this shape: the executor decides ordering, barriers, holds, retries and resume against the
`Transport` protocol only, so those decisions are tested here in-process in milliseconds, and the
sshd tests stay the integration tier (what SSH, sudo and the persistent shell really do). A node
answers an unscripted command with exit 0 and no output, so a test scripts only what matters to it.
Calls are numbered from one counter shared by all nodes, at start and at end: "this ended before
that started" is then a comparison of numbers, never of clocks.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from khatui.engine.rollout_lock import LOCK_DIR
from khatui.engine.transport import CommandResult, ConnectionLost, LineCallback
from khatui.errors import KhatuiError

Match = str | Callable[[str], bool]
"""A command (or an upload's path) answered by a script: the exact text, or a test on it."""


def takes_lock(command: str) -> bool:
    """The rollout lock's take script."""
    return command.startswith("mkdir -p ") and f"mkdir {LOCK_DIR}" in command


def releases_lock(command: str) -> bool:
    """The rollout lock's release."""
    return command == f"rm -rf {LOCK_DIR}"


@dataclass(frozen=True)
class Reply:
    """How a node answers one call."""

    exit_code: int = 0
    stdout: str = ""
    stderr: str = ""
    delay: float = 0.0
    """Seconds to take before answering."""
    lost: bool = False
    """Raise ConnectionLost instead of answering: the connection dropped."""
    hang: threading.Event | None = None
    """Answer only once this is set; a command whose timeout passes first gets exit 124, as over SSH."""


LOST = Reply(lost=True)


@dataclass
class Call:
    """One run or upload as the node saw it."""

    node: str
    kind: str
    """"run" or "upload"."""
    what: str
    """The command, or the upload's path."""
    started: int
    ended: int | None = None
    """Sequence number at the end; None while the call is running (or when it hangs for good)."""
    at: float = field(default_factory=time.monotonic)


class _Script:
    """Replies for one match, taken in turn; the last one answers every later call."""

    def __init__(self, match: Match, replies: Iterable[Reply]) -> None:
        self.match = match
        self.replies = list(replies)

    def matches(self, what: str) -> bool:
        return self.match(what) if callable(self.match) else self.match == what

    def next(self) -> Reply:
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]


class FakeNodes:
    """Fake transports for a set of nodes, sharing one ordered record of calls; call it with a node's
    name for that node's transport (what the executor takes)."""

    def __init__(self, names: Iterable[str]) -> None:
        self._lock = threading.Condition()
        self._counter = itertools.count(1)
        self.calls: list[Call] = []
        self.files: dict[tuple[str, str], tuple[bytes, int, str]] = {}
        """(node, path) -> (content, mode, owner) of every upload that succeeded."""
        self._scripts: dict[str, list[_Script]] = {}
        self._transports = {name: FakeTransport(self, name) for name in names}

    def __call__(self, node: str) -> FakeTransport:
        return self._transports[node]

    def script(self, node: str, match: Match, *replies: Reply) -> None:
        """Answer `node`'s calls that `match` with `replies` in turn (the first script that matches wins)."""
        self._scripts.setdefault(node, []).append(_Script(match, replies or (Reply(),)))

    def reply(self, node: str, what: str) -> Reply:
        with self._lock:
            for script in self._scripts.get(node, []):
                if script.matches(what):
                    return script.next()
        return Reply()

    def begin(self, node: str, kind: str, what: str) -> Call:
        with self._lock:
            call = Call(node, kind, what, next(self._counter))
            self.calls.append(call)
            self._lock.notify_all()
        return call

    def end(self, call: Call) -> None:
        with self._lock:
            call.ended = next(self._counter)

    def runs(self, node: str | None = None) -> list[str]:
        """Commands run (on `node`, or anywhere), in the order they started, the lock's left out."""
        return [
            c.what
            for c in self.calls
            if c.kind == "run" and node in (None, c.node) and not takes_lock(c.what) and not releases_lock(c.what)
        ]

    def of(self, what: str) -> list[Call]:
        """The calls that ran `what` (a command or a path)."""
        return [c for c in self.calls if c.what == what]

    def wait_started(self, what: str, count: int = 1, within: float = 10.0) -> bool:
        """Whether `count` calls of `what` have started, waiting up to `within` seconds (a safety net
        against a hang, not a measurement)."""
        with self._lock:
            return self._lock.wait_for(lambda: len(self.of(what)) >= count, within)


class FakeTransport:
    """One node's `Transport`: answers as scripted on its `FakeNodes`."""

    def __init__(self, nodes: FakeNodes, name: str) -> None:
        self.nodes = nodes
        self.name = name
        self.closed = False

    def _answer(self, kind: str, what: str, timeout: float | None) -> tuple[Reply, bool]:
        """Record the call and wait as its reply says; returns the reply and whether it timed out."""
        reply = self.nodes.reply(self.name, what)
        call = self.nodes.begin(self.name, kind, what)
        try:
            if reply.delay:
                time.sleep(reply.delay)
            if reply.hang is not None and not reply.hang.wait(timeout):
                return reply, True
            if reply.lost:
                raise ConnectionLost(f"{self.name}: connection lost")
            return reply, False
        finally:
            self.nodes.end(call)

    def run(self, command: str, on_line: LineCallback | None = None, timeout: float | None = None) -> CommandResult:
        reply, timed_out = self._answer("run", command, timeout)
        for stream, text in (("stdout", reply.stdout), ("stderr", reply.stderr)):
            for line in text.splitlines():
                if on_line is not None:
                    on_line(stream, line)
        if timed_out:
            return CommandResult(124, reply.stdout, reply.stderr + f"\ntimed out after {timeout} s")
        return CommandResult(reply.exit_code, reply.stdout, reply.stderr)

    def upload(self, path: str, content: bytes, mode: int, owner: str) -> None:
        reply, timed_out = self._answer("upload", path, None)
        if timed_out or reply.exit_code != 0:
            raise KhatuiError(f"{self.name}: cannot install {path}: {reply.stderr}")
        self.nodes.files[(self.name, path)] = (content, mode, owner)

    def close(self) -> None:
        self.closed = True
