"""One SSH connection per node, the engine's `Transport`: fabric to connect, paramiko to do the work.

fabric opens the connection (ssh_config, ProxyJump gateways, key and agent handling), with two
corrections measured to matter: host keys are checked (see `hostkeys`), and the socket gets
TCP_NODELAY (paramiko leaves Nagle on, so every small request waits on a delayed ACK) and
keepalives (a dead peer is noticed in ~15 s). Commands and uploads then go to paramiko directly,
not through invoke's runner, whose reader and timer threads per command cost ~2-3 ms a step.

A command runs on the node's persistent shell (see `shell`): one channel kept open with a small `sh`
driver, as root (started through sudo once when the node needs it), to which each command is one
line and one round trip, read in the calling thread and woken by the channel's buffers. A caller
that finds the shell busy (another thread's command) gets a second one. Where no shell can be
started (sudo refuses it, no usable `sh`), each command gets a channel of its own as before: sshd
starts a session for it, a sudo password is written to that channel for sudo to read, and on a
timeout the command is left running, as sshd does not kill a closed session's processes (its
output is read by `channel`).

An upload is a few requests on the node's one SFTP session (a 0600 temp file, owner and mode set on
its handle, a POSIX rename over the target) instead of three remote commands; a command is used only
where SFTP cannot do the job (a missing folder, an owner other than root, sudo).
"""

from __future__ import annotations

import contextlib
import errno
import shlex
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paramiko
from fabric import Config, Connection

from khatui.engine.channel import Stream, ignore, pump
from khatui.engine.hostkeys import AcceptUnknown, HostKeyError, PinningPolicy, changed_key_message, load_known_hosts
from khatui.engine.shell import RemoteShell, ShellClosed, watch
from khatui.engine.transport import CommandResult, ConnectionLost, LineCallback
from khatui.errors import KhatuiError

ROOT_IDS = {"root": (0, 0), "root:root": (0, 0), "0": (0, 0), "0:0": (0, 0)}
"""Owners an upload sets over SFTP by number; any other owner is set with `chown` on the node."""


@dataclass(frozen=True)
class Target:
    """Everything needed to reach one node and act as root there."""

    name: str
    host: str
    port: int = 22
    user: str = "root"
    identity_file: str | None = None
    jump_host: str | None = None
    sudo: bool = False
    sudo_password: str | None = field(default=None, repr=False)
    connect_timeout: float = 10.0
    jump_identity_file: str | None = None
    """The key offered to the jump hosts; None: they are offered `identity_file`."""


@dataclass(frozen=True)
class HostKeys:
    """Where host keys are checked and pinned, and whether unknown ones may be accepted."""

    known_hosts: tuple[Path, ...]
    pin_file: Path
    accept_unknown: AcceptUnknown | None = None


def _tune(sock: socket.socket) -> None:
    """No Nagle delay on small requests; notice a dead peer in ~15 s instead of TCP's ~15 minutes
    (keepalive probes when idle, TCP_USER_TIMEOUT when sent data stays unacknowledged)."""
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for option, value in (("TCP_KEEPIDLE", 5), ("TCP_KEEPINTVL", 2), ("TCP_KEEPCNT", 3), ("TCP_USER_TIMEOUT", 15000)):
        if hasattr(socket, option):
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, option), value)


def _config() -> Config:
    return Config(overrides={"load_ssh_configs": True})


def _parse_jump(spec: str) -> tuple[str | None, str, int]:
    user, _, hostport = spec.rpartition("@")
    host, port = hostport, 22
    if hostport.startswith("["):
        host, _, rest = hostport[1:].partition("]")
        port = int(rest[1:]) if rest.startswith(":") else 22
    elif hostport.count(":") == 1:
        host, port_text = hostport.split(":")
        port = int(port_text)
    return user or None, host, port


class Session:
    """A reused connection to one node, with host key checking and fast, streamed commands and uploads;
    the engine's `Transport` over SSH."""

    def __init__(self, target: Target, host_keys: HostKeys) -> None:
        self.target = target
        self.host_keys = host_keys
        self._conn: Connection | None = None
        self._lock = threading.Lock()
        self._shells: list[RemoteShell] = []
        """Idle persistent shells on the current connection (one, unless callers overlapped)."""
        self._shells_lock = threading.Lock()
        self._no_shell = False
        """The node would not start a shell on the current connection: commands get channels of their own."""

    def _make(
        self, host: str, port: int, user: str | None, gateway: Connection | None, identity: str | None
    ) -> Connection:
        connect_kwargs: dict[str, Any] = {"banner_timeout": self.target.connect_timeout}
        if identity:
            connect_kwargs["key_filename"] = [identity]
        conn = Connection(
            host,
            user=user,
            port=port,
            config=_config(),
            gateway=gateway,
            connect_timeout=self.target.connect_timeout,
            connect_kwargs=connect_kwargs,
        )
        conn.client.get_host_keys().clear()
        revoked = load_known_hosts(conn.client, [*self.host_keys.known_hosts, self.host_keys.pin_file])
        conn.client.set_missing_host_key_policy(
            PinningPolicy(self.host_keys.pin_file, self.host_keys.accept_unknown, revoked)
        )
        return conn

    def connect(self) -> Connection:
        """The open connection, opening it (and its gateways) when needed."""
        with self._lock:
            if self._conn is not None and self._conn.is_connected:
                return self._conn
            self.close()
            gateway = None
            if self.target.jump_host:
                for hop in self.target.jump_host.split(","):
                    user, host, port = _parse_jump(hop)
                    hop_key = self.target.jump_identity_file or self.target.identity_file
                    gateway = self._make(host, port, user, gateway, hop_key)
            target = self.target
            conn = self._make(target.host, target.port, target.user, gateway, target.identity_file)
            try:
                conn.open()
            except paramiko.BadHostKeyException as exc:
                raise HostKeyError(changed_key_message(f"{self.target.name} ({self.target.host})", exc)) from None
            except HostKeyError as exc:
                raise HostKeyError(f"{self.target.name}: {exc.message}") from None
            except paramiko.AuthenticationException as exc:
                raise KhatuiError(
                    f"{self.target.name}: SSH authentication as {self.target.user!r} failed ({exc}); "
                    f"check the identity file{' ' + self.target.identity_file if self.target.identity_file else ''}"
                ) from None
            except (OSError, EOFError, paramiko.SSHException) as exc:
                raise ConnectionLost(
                    f"{self.target.name}: cannot connect to {self.target.host}:{self.target.port}: {exc}"
                ) from None
            transport = conn.client.get_transport()
            sock = getattr(transport, "sock", None)
            if isinstance(sock, socket.socket):
                _tune(sock)
            if transport is not None:
                transport.set_keepalive(15)
            self._conn = conn
            return conn

    def run(self, command: str, on_line: LineCallback | None = None, timeout: float | None = None) -> CommandResult:
        """Run `command` as root (sudo when configured), streaming lines; never raises on exit codes."""
        transport = self._transport()
        callback = on_line or ignore
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            result = self._in_shell(transport, command, callback, deadline)
            if result is None:
                result = self._on_channel(transport, command, callback, deadline)
        except (OSError, EOFError, paramiko.SSHException) as exc:
            self.close()
            raise ConnectionLost(f"{self.target.name}: connection lost: {str(exc) or type(exc).__name__}") from None
        exit_code, stdout, stderr = result
        if exit_code is None:
            return CommandResult(124, stdout, stderr + f"\ntimed out after {timeout} s")
        return CommandResult(exit_code, stdout, stderr)

    def _in_shell(
        self, transport: paramiko.Transport, command: str, callback: LineCallback, deadline: float | None
    ) -> tuple[int | None, str, str] | None:
        """Run on an idle persistent shell, started when there is none; None when the node will not keep one.

        A shell that died while idle (its driver killed) is replaced without a word; a command whose
        shell closes once it has started is cut off: ConnectionLost, as it may have run in part.
        """
        while True:
            shell = self._idle_shell(transport)
            reused = shell is not None
            if shell is None:
                if self._no_shell:
                    return None
                password, timeout = self.target.sudo_password, self.target.connect_timeout
                shell = RemoteShell.start(transport, self._via_sudo, password, timeout)
                if shell is None:
                    self._no_shell = True
                    return None
            try:
                result = shell.run(command, callback, deadline)
            except ShellClosed as exc:
                if reused and not exc.started and transport.is_active():
                    continue
                if not transport.is_active():
                    self.close()
                raise ConnectionLost(f"{self.target.name}: connection lost while running a command") from None
            if result[0] is None:
                self._kill(transport, shell)
            elif shell.alive:
                with self._shells_lock:
                    self._shells.append(shell)
            return result

    def _kill(self, transport: paramiko.Transport, shell: RemoteShell) -> None:
        """End a timed-out command: kill its shell's process group as root, from a channel of its own."""
        deadline = time.monotonic() + self.target.connect_timeout
        # Best effort: with the connection gone, nothing can reach the node, and the caller learns of it next.
        with contextlib.suppress(OSError, EOFError, paramiko.SSHException, ConnectionLost):
            self._on_channel(transport, f"kill -KILL -{shell.group}", ignore, deadline)
        shell.close()

    def _idle_shell(self, transport: paramiko.Transport) -> RemoteShell | None:
        with self._shells_lock:
            while self._shells:
                shell = self._shells.pop()
                if shell.transport is transport and shell.alive:
                    return shell
                shell.close()
        return None

    def _on_channel(
        self, transport: paramiko.Transport, command: str, callback: LineCallback, deadline: float | None
    ) -> tuple[int | None, str, str]:
        """Run on a channel of its own (sshd starts a session for it); exit code None when `deadline` passed."""
        out, err = Stream("stdout", callback), Stream("stderr", callback)
        channel = transport.open_session(timeout=self.target.connect_timeout)
        try:
            wake = watch(channel)
            channel.exec_command(f"export LC_ALL=C && {self._as_root(command)}")
            if self._via_sudo and self.target.sudo_password is not None:
                channel.sendall(f"{self.target.sudo_password}\n".encode())
                channel.shutdown_write()  # a refused password is not asked for again: sudo fails at once
            finished = pump(channel, wake, out, err, deadline)
        finally:
            channel.close()
        stdout, stderr = out.finish(), err.finish()
        if not finished:
            return None, stdout, stderr
        if channel.exit_status == -1:
            # paramiko's "no exit status": the channel closed under the command (sshd or link died).
            self.close()
            raise ConnectionLost(f"{self.target.name}: connection lost while running a command")
        return channel.exit_status, stdout, stderr

    def _transport(self) -> paramiko.Transport:
        transport: paramiko.Transport | None = self.connect().client.get_transport()
        if transport is None or not transport.is_active():
            self.close()
            raise ConnectionLost(f"{self.target.name}: connection lost")
        return transport

    @property
    def _via_sudo(self) -> bool:
        """Whether root is reached through sudo: a login other than root, with `sudo` on."""
        return self.target.sudo and self.target.user != "root"

    def _as_root(self, command: str) -> str:
        """`sh -c command` as root with stdin /dev/null; with a sudo password, sudo reads it from the channel."""
        shell = f"sh -c {shlex.quote(command)}"
        if not self._via_sudo:
            return f"{shell} </dev/null"
        if self.target.sudo_password is None:
            return f"sudo -n {shell} </dev/null"
        return f"sudo -S -p '' sh -c 'exec \"$@\" </dev/null' sh {shell}"

    def upload(self, path: str, content: bytes, mode: int, owner: str) -> None:
        """Write `content` to `path` atomically: a 0600 temp file beside it, then owner, mode, rename.

        Over SFTP alone when the node is reached as root and the owner is root (the common case);
        with one command to finish when the owner is named otherwise or the node needs sudo (then
        the temp file is staged in /tmp, where the login user may write).
        """
        conn = self.connect()
        q = shlex.quote
        tmp = f"{path}.khatui-{uuid.uuid4().hex[:8]}"
        directory = str(Path(path).parent)
        direct = not self._via_sudo
        staging = tmp if direct else f"/tmp/{Path(tmp).name}"
        ids = ROOT_IDS.get(owner) if direct else None
        try:
            sftp = conn.sftp()
            try:
                self._write(sftp, staging, content, directory if direct else None, ids, mode)
                if ids is not None:
                    self._rename(sftp, staging, path)
                    return
            except OSError as exc:
                if not conn.is_connected:
                    raise
                with contextlib.suppress(OSError):
                    sftp.remove(staging)
                raise KhatuiError(f"{self.target.name}: cannot install {path}: {exc}") from None
        except (OSError, EOFError, paramiko.SSHException) as exc:
            self.close()
            raise ConnectionLost(
                f"{self.target.name}: upload of {path} failed: {str(exc) or type(exc).__name__}"
            ) from None
        finish = f"chown {q(owner)} {q(staging)} && chmod {mode:o} {q(staging)} && mv -f {q(staging)} {q(path)}"
        if not direct:
            finish = f"mkdir -p {q(directory)} && {finish}"
        result = self.run(finish)
        if result.exit_code != 0:
            self.run(f"rm -f {q(staging)}")
            raise KhatuiError(f"{self.target.name}: cannot install {path}: {result.stderr.strip()}")

    def _write(
        self,
        sftp: paramiko.SFTPClient,
        staging: str,
        content: bytes,
        directory: str | None,
        ids: tuple[int, int] | None,
        mode: int,
    ) -> None:
        """Write the temp file, readable by its owner only until it is complete; creates `directory` if missing."""
        try:
            handle = sftp.open(staging, "wb")
        except OSError as exc:
            if exc.errno != errno.ENOENT or directory is None:
                raise
            prep = self.run(f"mkdir -p {shlex.quote(directory)}")
            if prep.exit_code != 0:
                raise KhatuiError(f"{self.target.name}: cannot create {directory}: {prep.stderr.strip()}") from None
            handle = sftp.open(staging, "wb")
        with handle:
            handle.chmod(0o600)
            if ids is not None:
                handle.chown(*ids)
            handle.set_pipelined(True)
            handle.write(content)
            if ids is not None and mode != 0o600:
                handle.chmod(mode)

    def _rename(self, sftp: paramiko.SFTPClient, staging: str, path: str) -> None:
        """Replace `path` with `staging` atomically (OpenSSH's posix-rename; `mv -f` where it is missing)."""
        try:
            sftp.posix_rename(staging, path)
        except OSError:
            if not self._conn or not self._conn.is_connected:
                raise
            result = self.run(f"mv -f {shlex.quote(staging)} {shlex.quote(path)}")
            if result.exit_code != 0:
                raise OSError(result.stderr.strip()) from None

    def close(self) -> None:
        """Close the connection and its idle shells, ignoring errors (it may already be dead)."""
        with self._shells_lock:
            shells, self._shells, self._no_shell = self._shells, [], False
        for shell in shells:
            shell.close()
        conn, self._conn = self._conn, None
        if conn is not None:
            # Closing a broken connection may raise anything; it is going away either way.
            with contextlib.suppress(Exception):
                conn.close()
