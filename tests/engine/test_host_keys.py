"""Host keys are checked: unknown refused (with fingerprint) unless accepted, then pinned; changed refused."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from khatui.engine.hostkeys import HostKeyError
from khatui.engine.ssh import HostKeys, Session, Target
from khatui.errors import KhatuiError
from tests.engine.sshd import SSHDFarm


def _fingerprint(pub: Path) -> str:
    return subprocess.run(["ssh-keygen", "-lf", str(pub)], check=True, capture_output=True, text=True).stdout.split()[1]


def _session(farm: SSHDFarm, known: Path, pins: Path, accept=None, key: Path | None = None) -> Session:  # type: ignore[no-untyped-def]
    node = farm.nodes[0]
    target = Target(node.name, node.host, node.port, identity_file=str(key or farm.client_key))
    return Session(target, HostKeys((known,), pins, accept))


def test_unknown_key_is_refused_with_its_fingerprint(farm: SSHDFarm, tmp_path: Path) -> None:
    session = _session(farm, tmp_path / "empty_known_hosts", tmp_path / "pins")
    with pytest.raises(HostKeyError) as refused:
        session.connect()
    expected = _fingerprint(Path(f"{farm.nodes[0].host_key}.pub"))
    assert f"unknown host key ssh-ed25519 {expected}; refused" in refused.value.message
    assert refused.value.message.startswith(f"{farm.nodes[0].name}: [{farm.nodes[0].host}]:{farm.nodes[0].port}")
    assert not (tmp_path / "pins").exists()


def test_accepted_key_is_pinned(farm: SSHDFarm, tmp_path: Path) -> None:
    asked: list[tuple[str, str, str]] = []

    def accept(host: str, key_type: str, fingerprint: str) -> bool:
        asked.append((host, key_type, fingerprint))
        return True

    session = _session(farm, tmp_path / "empty", tmp_path / "pins", accept)
    assert session.run("echo hi").stdout == "hi\n"
    session.close()
    node = farm.nodes[0]
    assert asked == [(f"[{node.host}]:{node.port}", "ssh-ed25519", _fingerprint(Path(f"{node.host_key}.pub")))]
    assert (tmp_path / "pins").stat().st_mode & 0o777 == 0o600
    again = _session(farm, tmp_path / "empty", tmp_path / "pins")  # no accept callback: the pin is enough
    assert again.run("echo again").stdout == "again\n"
    again.close()


def test_changed_key_is_always_refused(farm: SSHDFarm, tmp_path: Path) -> None:
    other = tmp_path / "other_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    node = farm.nodes[0]
    key_type, key = Path(f"{other}.pub").read_text().split()[:2]
    known = tmp_path / "known_hosts"
    known.write_text(f"[{node.host}]:{node.port} {key_type} {key}\n")
    session = _session(farm, known, tmp_path / "pins", accept=lambda *args: True)
    with pytest.raises(HostKeyError) as refused:
        session.connect()
    assert "HOST KEY CHANGED" in refused.value.message
    assert _fingerprint(Path(f"{other}.pub")) in refused.value.message
    assert _fingerprint(Path(f"{node.host_key}.pub")) in refused.value.message


def test_wrong_client_key_is_a_clear_error(farm: SSHDFarm, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(wrong)], check=True)
    session = _session(farm, farm.known_hosts, tmp_path / "pins", key=wrong)
    with pytest.raises(KhatuiError) as refused:
        session.connect()
    assert refused.value.message.startswith(f"{farm.nodes[0].name}: SSH authentication as 'root' failed")
    assert str(wrong) in refused.value.message
