"""A non-root login with a sudo password, through real sshd and real sudo: commands run as root, the
password never shows in output, events, the log, the journal or a process's arguments, and a sudo
that refuses fails the command."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from khatui.engine.shell import RemoteShell
from khatui.engine.ssh import HostKeys, Session, Target
from khatui.events import OutputLine
from khatui.plan.model import Phase, Plan, Run, Step, Upload
from khatui.quoting.shell import Script
from tests.engine.conftest import MakeExecutor, process_ended
from tests.engine.sshd import SSHDFarm

USER = "khatuisudo"
PASSWORD = "s3cret-Sudo-pw"


@pytest.fixture(scope="module")
def sudo_user(farm: SSHDFarm) -> Iterator[str]:
    subprocess.run(["userdel", "-r", USER], capture_output=True)
    subprocess.run(["useradd", "-m", "-s", "/bin/sh", USER], check=True)
    ssh_dir = Path(f"/home/{USER}/.ssh")
    ssh_dir.mkdir(mode=0o700)
    (ssh_dir / "authorized_keys").write_text(farm.authorized.read_text())
    subprocess.run(["chown", "-R", f"{USER}:{USER}", str(ssh_dir)], check=True)
    subprocess.run(["chpasswd"], input=f"{USER}:{PASSWORD}\n", text=True, check=True)
    rule = Path(f"/etc/sudoers.d/{USER}")
    rule.write_text(f"{USER} ALL=(ALL:ALL) ALL\nDefaults:{USER} !lecture, timestamp_timeout=0\n")
    rule.chmod(0o440)
    yield USER
    rule.unlink()
    subprocess.run(["userdel", "-r", USER], capture_output=True)


def test_sudo_with_a_password_runs_as_root_and_is_never_shown(
    farm: SSHDFarm, tmp_path: Path, sudo_user: str, make_executor: MakeExecutor
) -> None:
    node = farm.nodes[0]
    session = _session(farm, tmp_path, sudo_user, PASSWORD)
    assert session.run("id -u").stdout.strip() == "0"
    session.close_quietly()

    owned = tmp_path / "root-owned.conf"
    plan = Plan("t", "h", (Phase("p", "p", (Step("p", node.name, "s", "s", (
        Run(Script("id -un; sudo -n true 2>&1 || echo 'sudo asked again'")),
        Upload(str(owned), b"written through sudo\n", 0o600),
        Run(Script(f"echo leaked {PASSWORD}")),
    )),)),), secrets=(PASSWORD,))  # fmt: skip
    executor, events = make_executor(plan, user=sudo_user, sudo=True, sudo_password=PASSWORD)
    result = executor.run()
    assert result.ok, result.summary
    lines = [e.line for e in events.of(OutputLine)]
    assert "root" in lines and "leaked ********" in lines
    assert owned.read_bytes() == b"written through sudo\n" and owned.stat().st_uid == 0
    everything = repr(events.events) + Path(executor.rollout.log_path).read_text()
    everything += repr(executor.journal.steps(executor.rollout.id))
    assert PASSWORD not in everything


def _session(farm: SSHDFarm, tmp_path: Path, user: str, password: str | None) -> Session:
    node = farm.nodes[0]
    target = Target(
        node.name,
        node.host,
        node.port,
        user=user,
        identity_file=str(farm.client_key),
        sudo=True,
        sudo_password=password,
    )
    return Session(target, HostKeys((farm.known_hosts,), tmp_path / "pins"))


def test_the_shell_goes_through_sudo_once_and_a_timeout_still_kills(
    farm: SSHDFarm, tmp_path: Path, sudo_user: str
) -> None:
    session = _session(farm, tmp_path, sudo_user, PASSWORD)
    driver = "echo $PPID"
    first = session.run(f"id -u; {driver}; ps -eo args")
    assert first.stdout.startswith("0\n") and PASSWORD not in first.stdout + first.stderr
    assert session.run(driver).stdout == first.stdout.splitlines()[1] + "\n", "one shell, one sudo"
    pids = tmp_path / "pids"
    result = session.run(f"echo $$ > {pids}; sleep 300 & echo $! >> {pids}; wait", timeout=1)
    assert result.exit_code == 124
    for pid in pids.read_text().split():
        assert process_ended(int(pid)), "the command runs as root; the shell under sudo kills it"
    assert session.run("id -u").stdout == "0\n"
    session.close_quietly()


@pytest.mark.parametrize("password", [None, "wrong-Sudo-pw"])
def test_sudo_that_refuses_fails_the_command_as_before(
    farm: SSHDFarm, tmp_path: Path, sudo_user: str, password: str | None
) -> None:
    session = _session(farm, tmp_path, sudo_user, password)
    result = session.run("id -u", timeout=30)
    assert result.exit_code != 0 and result.stdout == ""
    assert PASSWORD not in result.stderr and (password is None or password not in result.stderr)
    session.close_quietly()


def test_without_a_shell_the_password_still_goes_to_sudo_alone(
    farm: SSHDFarm, tmp_path: Path, sudo_user: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(RemoteShell, "start", classmethod(lambda cls, *args: None))
    session = _session(farm, tmp_path, sudo_user, PASSWORD)
    result = session.run("id -u; readlink /proc/self/fd/0; ps -eo args", timeout=30)
    assert result.stdout.startswith("0\n/dev/null\n") and PASSWORD not in result.stdout + result.stderr
    session.close_quietly()
