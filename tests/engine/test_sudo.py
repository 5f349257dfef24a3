"""A non-root login with a sudo password, through real sshd and real sudo: commands run as root and
the password never shows in output, events, the log or the journal."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from khatui.engine.ssh import HostKeys, Session, Target
from khatui.events import OutputLine
from khatui.plan.model import Phase, Plan, Run, Step, Upload
from tests.engine.conftest import MakeExecutor
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
    target = Target(
        node.name,
        node.host,
        node.port,
        user=sudo_user,
        identity_file=str(farm.client_key),
        sudo=True,
        sudo_password=PASSWORD,
    )
    session = Session(target, HostKeys((farm.known_hosts,), tmp_path / "pins"))
    assert session.run("id -u").stdout.strip() == "0"
    session.close_quietly()

    owned = tmp_path / "root-owned.conf"
    plan = Plan("t", "h", (Phase("p", "p", (Step("p", node.name, "s", "s", (
        Run("id -un; sudo -n true 2>&1 || echo 'sudo asked again'"),
        Upload(str(owned), b"written through sudo\n", 0o600),
        Run(f"echo leaked {PASSWORD}"),
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
