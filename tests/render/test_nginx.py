"""Every rendered nginx.conf (the nginx local proxy) passes `nginx -t`, in a private prefix so the
test touches nothing of the machine's nginx; the stream module comes from Debian's modules-enabled."""

from __future__ import annotations

from pathlib import Path

import pytest

from khatui.render import RenderedFile
from khatui.spec.loadbalancer import LocalProxy
from khatui.spec.nodes import Role
from tests.render.tools import require, run, write
from tests.render.variants import file_id, files_named, specs

CONFIGS = files_named("/etc/nginx/nginx.conf")
MODULES = Path("/usr/lib/nginx/modules")


def _test(tmp_path: Path, text: str) -> tuple[int, str]:
    prefix = tmp_path / "prefix"
    prefix.mkdir()
    # modules-enabled/*.conf load "modules/ngx_*.so" relative to the prefix.
    (prefix / "modules").symlink_to(MODULES)
    config = write(tmp_path / "nginx.conf", text)
    result = run([require("nginx"), "-t", "-c", str(config), "-p", str(prefix), "-e", "stderr"])
    return result.returncode, result.stderr + result.stdout


def test_there_is_an_nginx_config() -> None:
    assert CONFIGS, "no variant renders the nginx local proxy"
    assert (MODULES / "ngx_stream_module.so").exists(), "nginx's stream module is missing (libnginx-mod-stream)"


@pytest.mark.parametrize("item", CONFIGS, ids=file_id)
def test_nginx_accepts(item: tuple[str, RenderedFile], tmp_path: Path) -> None:
    code, output = _test(tmp_path, item[1].text)
    assert code == 0, output
    assert "test is successful" in output and "[warn]" not in output, output


@pytest.mark.parametrize("item", CONFIGS, ids=file_id)
def test_nginx_forwards_loopback_to_every_master(item: tuple[str, RenderedFile]) -> None:
    name, file = item
    cluster = specs()[name]
    lb = cluster.spec.load_balancer
    assert isinstance(lb, LocalProxy)
    assert f"listen 127.0.0.1:{lb.port};" in file.text
    servers = [
        line.split()[1]
        for line in file.text.splitlines()
        if line.strip().startswith("server [") or " max_fails" in line
    ]
    expected = []
    for node in cluster.spec.with_role(Role.CONTROL_PLANE):
        host = f"[{node.address}]" if node.address.version == 6 else str(node.address)
        expected.append(f"{host}:{cluster.spec.control_plane.api_port}")
    assert servers == expected


def test_nginx_check_catches_errors(tmp_path: Path) -> None:
    code, _ = _test(tmp_path, CONFIGS[0][1].text.replace("least_conn;", "least_connections;"))
    assert code != 0
