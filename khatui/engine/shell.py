"""A persistent `sh` on a node that runs commands one at a time: a command costs one round trip, not a session.

sshd starts a whole session for every channel (a process, the login shell, then `sh -c`), ~4-6 ms a
command on a busy node. A `RemoteShell` is one channel whose `sh` first reads a small driver from its
stdin, then one line per command: `khatui_run NONCE 'command'`. The driver prints a start marker on
stdout and on stderr, runs `sh -c 'command' </dev/null` and waits for it, then prints an end marker
on both streams, with the exit code in the stdout one. So every command is its own process with
stdin at EOF (`exit`, `cd`, `set -e` or `export` never reach the next one), as over a channel of
its own.

A marker is a line holding the command's random nonce, which only the driver knows, and it comes
after a newline so that it starts a line even when the command's output does not end with one; that
newline is dropped again. Output before the start marker (from a background process an earlier
command left behind) is discarded.

The driver reports its process group when it starts: on a timeout, the caller kills that group (the
driver, the command, and whatever this shell's commands started and left running without leaving
the group) from a channel of its own, and the next command gets a new shell. Through sudo, the driver itself runs under sudo,
started once; a password is written to the channel only after sudo shows its prompt (a random
string), never into an argument or a log.
"""

from __future__ import annotations

import contextlib
import secrets
import shlex
import threading
import time
from collections.abc import Callable

import paramiko

from khatui.engine.transport import LineCallback

DRIVER = r"""export LC_ALL=C
khatui_run() {
	printf '\n%s\n' "$1"; printf '\n%s\n' "$1" >&2
	sh -c "$2" </dev/null
	printf '\n%s %d\n' "$1" "$?"; printf '\n%s end\n' "$1" >&2
}
"""
"""Read by the shell from its stdin at start; `khatui_run NONCE COMMAND` then runs one command."""


class Wakeup(threading.Event):
    """Set by a channel's stdout and stderr buffers when data or EOF arrives; cleared only by the reader.

    paramiko's buffers clear their event when they are drained; shared by two buffers, that could
    swallow the other buffer's wake-up, so the reading loop resets it itself before it drains both.
    """

    def clear(self) -> None:
        pass

    def reset(self) -> None:
        super().clear()


def watch(channel: paramiko.Channel) -> Wakeup:
    """A `Wakeup` set whenever `channel` receives output or EOF."""
    wake = Wakeup()
    channel.in_buffer.set_event(wake)
    channel.in_stderr_buffer.set_event(wake)
    return wake


class ShellClosed(Exception):
    """The shell's channel closed before the command's end markers came."""

    def __init__(self, started: bool) -> None:
        super().__init__("the remote shell closed")
        self.started = started
        """Whether the driver had started the command, which may then have run in part."""


class _Framed:
    """One output stream of the running command: the lines between its start and end markers, handed on
    as they arrive.

    The line before the end marker is the command's last piece of output (the marker's own newline
    ends it); an empty line is handed on only once another line follows, as it may be that piece.
    """

    def __init__(self, name: str, callback: LineCallback, nonce: str) -> None:
        self.name = name
        self.callback = callback
        self.start, self.end = nonce.encode(), f"{nonce} ".encode()
        self.started = self.ended = False
        self.tail = b""
        """What follows the nonce in the end marker: the exit code on stdout."""
        self.lines: list[str] = []
        self.partial = b""
        self.blank = False

    def feed(self, data: bytes) -> None:
        if self.ended or not data:
            return
        *lines, self.partial = (self.partial + data).split(b"\n")
        for line in lines:
            if not self.started:
                self.started = line == self.start
            elif line.startswith(self.end):
                self.ended, self.tail = True, line[len(self.end) :]
                return
            else:
                self._line(line.decode("utf-8", "replace"))

    def _line(self, text: str) -> None:
        if self.blank:
            self.callback(self.name, "")
        self.lines.append(text)
        self.blank = not text
        if text:
            self.callback(self.name, text.rstrip("\r"))

    def finish(self) -> str:
        """The whole stream; when the end marker never came, every line received and the unterminated rest."""
        if self.ended:
            return "\n".join(self.lines)
        rest = self.partial.decode("utf-8", "replace") if self.started else ""
        if self.blank:
            self.callback(self.name, "")
        if rest:
            self.callback(self.name, rest.rstrip("\r"))
        return "".join(line + "\n" for line in self.lines) + rest


def _drain(ready: Callable[[], bool], recv: Callable[[int], bytes]) -> bytes:
    parts = []
    while ready():
        parts.append(recv(65536))
    return b"".join(parts)


class RemoteShell:
    """One channel running the driver; runs one command at a time."""

    def __init__(self, transport: paramiko.Transport, channel: paramiko.Channel) -> None:
        self.transport = transport
        self._channel = channel
        self._wake = watch(channel)
        self.group = 0
        """The driver's process group on the node: itself and its commands."""

    @classmethod
    def start(
        cls, transport: paramiko.Transport, sudo: bool, password: str | None, timeout: float
    ) -> RemoteShell | None:
        """A shell running as root (through sudo when `sudo`), or None when the node will not keep one.

        Raises OSError, EOFError or paramiko.SSHException when the connection fails.
        """
        token = secrets.token_hex(16)
        launch = f"sh -c 'read -r _ _ _ _ group _ </proc/$$/stat && echo {token} $group && exec sh -s'"
        if sudo:
            launch = f"sudo -n {launch}" if password is None else f"sudo -S -p {token}: {launch}"
        shell = cls(transport, transport.open_session(timeout=timeout))
        shell._channel.exec_command(f"exec {launch}")
        if shell._handshake(token, password, time.monotonic() + timeout):
            return shell
        shell.close()
        return None

    def _handshake(self, token: str, password: str | None, deadline: float) -> bool:
        """Wait for the launcher's line with the process group (answering sudo's prompt once), send the
        driver, wait for its ready line."""
        prompt = f"{token}:".encode()
        out, err, answered, driver_sent = b"", b"", False, False
        while True:
            data, errors, ended = self._receive(deadline)
            out, err = out + data, err + errors
            *lines, out = out.split(b"\n")
            for line in lines:
                word, _, group = line.decode("utf-8", "replace").partition(" ")
                if word != token:
                    continue
                if driver_sent:
                    return True
                if not group.isdigit():
                    return False
                self.group = int(group)
                self._channel.sendall(f"{DRIVER}echo {token}\n".encode())
                driver_sent = True
            prompts = err.count(prompt)
            if prompts > 1 or ended or time.monotonic() >= deadline:
                return False  # a second prompt: the password was refused
            if prompts and password is not None and not answered:
                self._channel.sendall(f"{password}\n".encode())
                answered = True

    def _receive(self, deadline: float | None) -> tuple[bytes, bytes, bool]:
        """What arrived on stdout and on stderr, waiting until something does, the channel ends or
        `deadline` passes; and whether the channel has ended (all of its output is then returned)."""
        channel = self._channel
        while True:
            self._wake.reset()
            ended = bool(channel.eof_received) or channel.closed
            out = _drain(channel.recv_ready, channel.recv)
            err = _drain(channel.recv_stderr_ready, channel.recv_stderr)
            if out or err or ended or (deadline is not None and time.monotonic() >= deadline):
                return out, err, ended
            self._wake.wait(None if deadline is None else deadline - time.monotonic())

    @property
    def alive(self) -> bool:
        """Whether the driver is still there to take a command."""
        channel = self._channel
        ended = channel.closed or channel.eof_received or channel.exit_status_ready()
        return not ended and self.transport.is_active()

    def run(self, command: str, callback: LineCallback, deadline: float | None) -> tuple[int | None, str, str]:
        """Run `command`; returns its exit code, stdout and stderr. Raises ShellClosed when the channel
        closes first. The exit code is None when `deadline` passed: the command is still running, and
        only killing `group` ends it; this shell is of no further use."""
        nonce = secrets.token_hex(16)
        out, err = _Framed("stdout", callback, nonce), _Framed("stderr", callback, nonce)
        try:
            self._channel.sendall(f"khatui_run {nonce} {shlex.quote(command)}\n".encode())
        except OSError:  # closed under us; a line cut short never runs
            self.close()
            raise ShellClosed(started=False) from None
        while True:
            data, errors, ended = self._receive(deadline)
            out.feed(data)
            err.feed(errors)
            if out.ended and err.ended:
                return int(out.tail), out.finish(), err.finish()
            if ended:
                self.close()
                raise ShellClosed(out.started or err.started)
            if deadline is not None and time.monotonic() >= deadline:
                return None, out.finish(), err.finish()

    def close(self) -> None:
        """Close the channel; the driver ends with it, once its stdin is gone."""
        # Closing a channel on a broken connection may raise anything; it is going away either way.
        with contextlib.suppress(Exception):
            self._channel.close()
