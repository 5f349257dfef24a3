"""known_hosts files are read tolerantly (no sshd needed): lines khatui cannot use are skipped,
never a traceback, and a key on an `@revoked` line is refused for every host."""

from __future__ import annotations

import base64
from pathlib import Path

import paramiko
import pytest

from khatui.engine.hostkeys import HostKeyError, PinningPolicy, load_known_hosts, parse_known_hosts
from khatui.errors import InputError

KEY_A = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEneaXoGB5LPmsOP1U9IMn73MI8jAvXbwxDsm2LaIp5U"
KEY_B = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAII1JsPGlZP4nd1dZw2OUo3ORDbsyCRdXx8offXZTw2Mu"

UNUSABLE_LINES = [
    pytest.param(f"@cert-authority *.example.com {KEY_B}".encode(), id="cert-authority"),
    pytest.param(f"@revoked-ish node9 {KEY_B}".encode(), id="unknown-marker"),
    pytest.param(b"node9 ssh-ed25519 \xff\xfe\xfd", id="not-utf8-key"),
    pytest.param(b"n\xe9ud ssh-ed25519 AAAA", id="latin1-host"),
    pytest.param(b"node9 ssh-ed25519 !!!not-base64!!!", id="not-base64"),
    pytest.param(b"node9 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE", id="truncated-key"),
    pytest.param(
        b"node9 ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIEneaXoGB5LPmsOP1U9IMn73MI8jAvXbwxDsm2LaIp5U", id="wrong-type"
    ),
    pytest.param(b"node9 ssh-ed25519", id="two-fields"),
    pytest.param(b"@revoked", id="bare-marker"),
    pytest.param(b"\x00\x01\x02 binary", id="binary"),
]


@pytest.mark.parametrize("line", UNUSABLE_LINES)
def test_an_unusable_line_is_skipped_and_the_others_still_load(line: bytes, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_bytes(b"# comment\n\n" + line + b"\n" + f"node1,10.0.0.1 {KEY_A}\n".encode())
    client = paramiko.SSHClient()
    load_known_hosts(client, [known])
    keys = client.get_host_keys()
    assert sorted(keys.keys()) == ["10.0.0.1", "node1"]
    assert keys.lookup("node9") is None


def test_a_revoked_key_is_dropped_from_every_host_and_refused_even_when_accepted(tmp_path: Path) -> None:
    first, second = tmp_path / "known_hosts", tmp_path / "spec_known_hosts"
    first.write_text(f"node1 {KEY_A}\nnode2 {KEY_B}\n")
    second.write_text(f"@revoked * {KEY_B}\n")
    client = paramiko.SSHClient()
    revoked = load_known_hosts(client, [first, second, tmp_path / "missing"])
    assert client.get_host_keys().lookup("node2") is None  # a revoked key trusts nobody
    assert client.get_host_keys().lookup("node1") is not None
    policy = PinningPolicy(tmp_path / "pins", lambda *_: True, revoked)
    with pytest.raises(HostKeyError, match="node2: host key ssh-ed25519 SHA256:.* is marked @revoked"):
        policy.missing_host_key(client, "node2", _typed_key(KEY_B))
    assert not (tmp_path / "pins").exists()
    policy.missing_host_key(client, "node3", _typed_key(KEY_A))  # any other key is still accepted and pinned
    assert (tmp_path / "pins").read_text().startswith("node3 ssh-ed25519 ")


def test_hashed_host_names_still_match(tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(f"{paramiko.HostKeys.hash_host('node1')} {KEY_A}\n[node2]:2222 {KEY_B}\n")
    client = paramiko.SSHClient()
    load_known_hosts(client, [known])
    assert client.get_host_keys().lookup("node1") is not None
    assert client.get_host_keys().lookup("[node2]:2222") is not None
    assert len(parse_known_hosts(known.read_bytes()).entries) == 2


def test_a_known_hosts_path_that_is_not_a_file_is_ignored_and_a_huge_one_refused(tmp_path: Path) -> None:
    load_known_hosts(paramiko.SSHClient(), [tmp_path])  # a directory: nothing to load
    huge = tmp_path / "huge"
    with huge.open("wb") as handle:
        handle.truncate((16 << 20) + 1)
    with pytest.raises(HostKeyError, match="larger than 16 MiB"):
        load_known_hosts(paramiko.SSHClient(), [huge])


def _typed_key(text: str) -> paramiko.PKey:
    kind, blob = text.split()
    return paramiko.PKey.from_type_string(kind, base64.b64decode(blob))


def test_accepted_keys_are_pinned_in_a_private_file_kept_line_by_line(tmp_path: Path) -> None:
    pin = tmp_path / "data" / "known_hosts"
    policy = PinningPolicy(pin, lambda *_: True)
    policy.missing_host_key(paramiko.SSHClient(), "node1", _typed_key(KEY_A))
    policy.missing_host_key(paramiko.SSHClient(), "[node2]:2222", _typed_key(KEY_B))
    assert pin.read_text().splitlines() == [f"node1 {KEY_A}", f"[node2]:2222 {KEY_B}"]
    assert pin.stat().st_mode & 0o777 == 0o600
    assert pin.parent.stat().st_mode & 0o777 == 0o700


def test_a_symlink_planted_as_the_pin_file_is_refused_not_written_through(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.write_text("keep\n")
    pin = tmp_path / "known_hosts"
    pin.symlink_to(outside)
    with pytest.raises(InputError, match="symlink"):
        PinningPolicy(pin, lambda *_: True).missing_host_key(paramiko.SSHClient(), "node1", _typed_key(KEY_A))
    assert outside.read_text() == "keep\n"
