"""Commands on the node's persistent shell, through real sshd: output framing, isolation between commands,
timeouts that kill, a driver or connection that dies, and the per-channel fallback."""

from __future__ import annotations

import os
import secrets
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from khatui.engine import shell as shell_module
from khatui.engine.ssh import ConnectionLost, HostKeys, Session, Target
from tests.engine.conftest import process_ended
from tests.engine.sshd import SSHDFarm

DRIVER_PID = "echo $PPID"
"""Run on the node: the driver's pid (a command's parent)."""


@pytest.fixture
def session(farm: SSHDFarm, tmp_path: Path) -> Iterator[Session]:
    node = farm.nodes[0]
    target = Target(node.name, node.host, node.port, identity_file=str(farm.client_key))
    session = Session(target, HostKeys((farm.known_hosts,), tmp_path / "pins"))
    yield session
    session.close_quietly()


class Lines:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str, float]] = []

    def __call__(self, stream: str, line: str) -> None:
        self.lines.append((stream, line, time.monotonic()))

    def of(self, stream: str) -> list[str]:
        return [line for name, line, _ in self.lines if name == stream]


def _driver(session: Session) -> int:
    return int(session.run(DRIVER_PID).stdout)


def test_streams_stay_apart_in_order_and_arrive_as_they_are_written(session: Session) -> None:
    lines = Lines()
    result = session.run("for i in 1 2 3; do echo out$i; echo err$i >&2; done; sleep 1; echo late", lines)
    finished = time.monotonic()
    assert result.exit_code == 0
    assert result.stdout == "out1\nout2\nout3\nlate\n" and result.stderr == "err1\nerr2\nerr3\n"
    assert lines.of("stdout") == ["out1", "out2", "out3", "late"] and lines.of("stderr") == ["err1", "err2", "err3"]
    first = next(at for _, line, at in lines.lines if line == "out1")
    assert finished - first > 0.7, "lines are handed on as they arrive, not when the command ends"


@pytest.mark.parametrize(
    ("command", "stdout", "lines"),
    [
        ("printf abc", "abc", ["abc"]),
        ("printf 'abc\\n'", "abc\n", ["abc"]),
        ("printf 'a\\n\\n'", "a\n\n", ["a", ""]),
        ("printf '\\n'", "\n", [""]),
        ("printf 'a\\n\\nb'", "a\n\nb", ["a", "", "b"]),
        ("true", "", []),
        ("printf 'x\\r\\n'", "x\r\n", ["x"]),
        ("printf 'caf\\303\\251 \\377'", "café \ufffd", ["café \ufffd"]),
    ],
)
def test_output_is_exact_with_or_without_a_last_newline(
    session: Session, command: str, stdout: str, lines: list[str]
) -> None:
    seen = Lines()
    result = session.run(f"{command}; {command} >&2", seen)
    assert (result.stdout, result.stderr) == (stdout, stdout)
    assert seen.of("stdout") == seen.of("stderr") == lines


def test_exit_codes_are_exact(session: Session) -> None:
    assert [session.run(c).exit_code for c in ("true", "false", "exit 3", "exit 255", "kill -9 $$")] == [
        0,
        1,
        3,
        255,
        137,
    ]
    assert session.run("set -e; false; echo not reached").stdout == ""


def test_one_command_never_changes_the_next(session: Session) -> None:
    home, umask = session.run("pwd").stdout, session.run("umask").stdout
    driver = _driver(session)
    session.run("cd /tmp && export KHATUI_T=1 && umask 077 && set -e && alias ls=false && trap 'echo trap' EXIT")
    session.run("exit 3")
    result = session.run('pwd; echo "${KHATUI_T-unset} $LC_ALL"; umask; false; echo still')
    assert result.stdout == f"{home}unset C\n{umask}still\n"
    assert _driver(session) == driver, "the same shell ran every command"


def test_a_command_reads_end_of_file_not_the_shell_input(session: Session) -> None:
    start = time.monotonic()
    result = session.run("readlink /proc/self/fd/0; cat; read line; echo read=$?", timeout=10)
    assert result.stdout == "/dev/null\nread=1\n" and time.monotonic() - start < 5
    assert session.run("echo next").stdout == "next\n"


def test_output_that_looks_like_a_marker_is_output(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    nonces: list[str] = []
    token_hex = secrets.token_hex

    def recorded(n: int) -> str:
        nonces.append(token_hex(n))
        return nonces[-1]

    monkeypatch.setattr(secrets, "token_hex", recorded)  # the module khatui.engine.shell draws from
    seen = session.run("cat /proc/$PPID/cmdline /proc/$PPID/environ; env; set; ps -eo args", timeout=10)
    assert seen.exit_code == 0 and not any(nonce in seen.stdout + seen.stderr for nonce in nonces)
    old = nonces[-1]
    fake = f"printf '\\n%s 0\\n%s end\\n%s\\n' {old} {old} {old}; printf '\\n{old} end\\n' >&2; exit 7"
    result = session.run(fake)
    assert result.exit_code == 7
    assert result.stdout == f"\n{old} 0\n{old} end\n{old}\n" and result.stderr == f"\n{old} end\n"


def test_a_timeout_kills_the_command_and_the_next_one_runs(session: Session, tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    start = time.monotonic()
    result = session.run(f"echo $$ > {pids}; sleep 300 & echo $! >> {pids}; echo started; wait", timeout=1)
    assert result.exit_code == 124 and result.stdout == "started\n" and "timed out after 1 s" in result.stderr
    assert time.monotonic() - start < 4
    command, child = (int(pid) for pid in pids.read_text().split())
    assert process_ended(command) and process_ended(child), "the command and what it started are killed"
    assert session.run("echo next").stdout == "next\n"


def test_a_killed_driver_is_replaced_without_a_word(session: Session) -> None:
    first = _driver(session)
    os.kill(first, signal.SIGKILL)
    assert process_ended(first)
    assert session.run("echo hello").stdout == "hello\n"
    second = _driver(session)
    assert second != first
    os.kill(second, signal.SIGKILL)  # and right before the next command, without waiting for it to go
    assert session.run("echo again").stdout == "again\n"


@pytest.mark.parametrize(
    "cut",
    [
        "kill -KILL -$PPID; sleep 5",  # the driver's whole process group, the command with it
        "kill -KILL $PPID; sleep 0.5; echo after",  # the driver alone: the command still ends
    ],
)
def test_a_command_cut_off_raises_connection_lost(session: Session, cut: str) -> None:
    with pytest.raises(ConnectionLost):
        session.run(f"echo partial; {cut}", timeout=30)
    assert session.run("echo back").stdout == "back\n"


def test_a_connection_cut_mid_command_raises_connection_lost(session: Session) -> None:
    sshd = "awk '/^PPid/ {print $2}' /proc/$PPID/status"  # the driver's parent: sshd's session process
    with pytest.raises(ConnectionLost):
        session.run(f"echo partial; kill -KILL $({sshd}); sleep 5", timeout=30)
    assert session.run("echo back").stdout == "back\n"


def test_overlapping_callers_each_get_a_shell(session: Session) -> None:
    session.run("true")
    results: dict[str, str] = {}

    def slow() -> None:
        results["slow"] = session.run("sleep 1; echo slow").stdout

    thread = threading.Thread(target=slow)
    thread.start()
    time.sleep(0.3)
    start = time.monotonic()
    results["quick"] = session.run("echo quick").stdout
    assert time.monotonic() - start < 0.5, "a busy shell does not hold up another caller"
    thread.join()
    assert results == {"slow": "slow\n", "quick": "quick\n"}


def test_without_a_shell_commands_get_channels_of_their_own(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shell_module.RemoteShell, "start", classmethod(lambda cls, *args: None))
    lines = Lines()
    result = session.run("printf abc; echo err >&2; cat; exit 4", lines, timeout=10)
    assert (result.exit_code, result.stdout, result.stderr) == (4, "abc", "err\n")
    assert lines.of("stdout") == ["abc"]
    assert session.run("sleep 5", timeout=0.5).exit_code == 124
