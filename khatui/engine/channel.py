"""A command on an SSH channel of its own: its output decoded as it arrives and handed on line by line.

Why a module of its own: this is the fallback path of `ssh.Session` (a node that keeps no persistent
shell, and the kill of a timed-out one), apart from the session's connection handling so each stays
small; the persistent shell (`shell`) frames its output differently and does not use it.
"""

from __future__ import annotations

import codecs
import time

import paramiko

from khatui.engine.shell import Wakeup
from khatui.engine.transport import LineCallback


class Stream:
    """One output stream of a command: decoded as it arrives, kept whole, handed on line by line."""

    def __init__(self, name: str, callback: LineCallback) -> None:
        self.name = name
        self.callback = callback
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.parts: list[str] = []
        self.partial = ""

    def feed(self, data: bytes, final: bool = False) -> None:
        text = self.decoder.decode(data, final)
        if not text:
            return
        self.parts.append(text)
        *lines, self.partial = (self.partial + text).split("\n")
        for line in lines:
            self.callback(self.name, line.rstrip("\r"))

    def finish(self) -> str:
        """Flush the last, unterminated line; returns the whole stream."""
        self.feed(b"", final=True)
        if self.partial:
            self.callback(self.name, self.partial)
            self.partial = ""
        return "".join(self.parts)


def ignore(stream: str, line: str) -> None:
    """A `LineCallback` that drops every line."""


def pump(channel: paramiko.Channel, wake: Wakeup, out: Stream, err: Stream, deadline: float | None) -> bool:
    """Hand output on until the command ends (exit status and EOF); False when `deadline` passed first."""
    while True:
        wake.reset()
        ended = bool(channel.eof_received) or channel.closed  # all output is buffered once either holds
        while channel.recv_ready():
            out.feed(channel.recv(65536))
        while channel.recv_stderr_ready():
            err.feed(channel.recv_stderr(65536))
        if ended:
            break
        if deadline is not None and time.monotonic() >= deadline:
            return False
        wake.wait(None if deadline is None else deadline - time.monotonic())
    return channel.status_event.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))
