"""Which key each hop of a jump chain is offered: the hops' own key when the spec gives one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from khatui.engine import ssh
from khatui.engine.ssh import HostKeys, Session, Target
from khatui.engine.transport import ConnectionLost


class _Refused:
    """A connection that is refused when opened: enough to see what `connect` asked for."""

    def open(self) -> None:
        raise OSError("refused")


@pytest.mark.parametrize(
    ("jump_key", "offered"),
    [
        ("/keys/bastion", [("b1", "/keys/bastion"), ("b2", "/keys/bastion"), ("10.0.0.1", "/keys/node")]),
        (None, [("b1", "/keys/node"), ("b2", "/keys/node"), ("10.0.0.1", "/keys/node")]),
    ],
)
def test_hops_are_offered_the_jump_identity_file(
    jump_key: str | None, offered: list[tuple[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, str | None]] = []

    def make(self: Session, host: str, port: int, user: str | None, gateway: Any, identity: str | None) -> Any:
        calls.append((host, identity))
        return _Refused()

    monkeypatch.setattr(ssh.Session, "_make", make)
    target = Target(
        "cp1", "10.0.0.1", identity_file="/keys/node", jump_host="j@b1,b2:2200", jump_identity_file=jump_key
    )
    session = Session(target, HostKeys((), tmp_path / "pins"))
    with pytest.raises(ConnectionLost):
        session.connect()
    assert calls == offered
