"""Every rendered haproxy.cfg (lb nodes and local proxies) passes `haproxy -c`, and says what the
guide's HA recipe needs: every master as a checked backend, redispatch, the right frontend port."""

from __future__ import annotations

from pathlib import Path

import pytest

from khatui.render import RenderedFile
from khatui.spec.loadbalancer import HAProxyKeepalived, LocalProxy
from khatui.spec.nodes import Role
from tests.render.tools import require, run, write
from tests.render.variants import file_id, files_named, specs

CONFIGS = files_named("/etc/haproxy/haproxy.cfg")


def test_every_haproxy_mode_is_covered() -> None:
    modes = {type(specs()[name].spec.load_balancer) for name, _ in CONFIGS}
    assert modes == {HAProxyKeepalived, LocalProxy}


def _check(tmp_path: Path, text: str) -> tuple[int, str]:
    config = write(tmp_path / "haproxy.cfg", text)
    result = run([require("haproxy"), "-c", "-f", str(config)])
    return result.returncode, result.stdout + result.stderr


@pytest.mark.parametrize("item", CONFIGS, ids=file_id)
def test_haproxy_accepts(item: tuple[str, RenderedFile], tmp_path: Path) -> None:
    code, output = _check(tmp_path, item[1].text)
    assert code == 0, output
    assert "Configuration file is valid" in output
    assert "[WARNING]" not in output and "[ALERT]" not in output, output


@pytest.mark.parametrize("item", CONFIGS, ids=file_id)
def test_haproxy_balances_every_master(item: tuple[str, RenderedFile]) -> None:
    name, file = item
    cluster = specs()[name]
    lines = [line.strip() for line in file.text.splitlines()]
    masters = cluster.spec.with_role(Role.CONTROL_PLANE)
    servers = [line for line in lines if line.startswith("server ")]
    assert len(servers) == len(masters)
    for master, server in zip(masters, servers, strict=True):
        assert server.startswith(f"server {master.name} ") and server.endswith(" check verify none")
        assert f":{cluster.spec.control_plane.api_port} " in server
    assert "option redispatch" in lines and "mode tcp" in lines
    lb = cluster.spec.load_balancer
    assert isinstance(lb, HAProxyKeepalived | LocalProxy)
    bind = next(line for line in lines if line.startswith("bind "))
    assert bind.split()[1].endswith(f":{lb.port}")
    if isinstance(lb, LocalProxy):
        assert bind == f"bind 127.0.0.1:{lb.port}"


def test_haproxy_check_catches_errors(tmp_path: Path) -> None:
    """The check above is not vacuous: haproxy rejects a broken config."""
    text = CONFIGS[0][1].text.replace("balance roundrobin", "balance no-such-algorithm")
    code, _ = _check(tmp_path, text)
    assert code != 0
