"""nginx as the per-node local proxy: a TCP `stream` on loopback to every kube-apiserver.

khatui owns the whole nginx.conf rather than a snippet: Debian's stock nginx.conf includes conf.d
only inside its `http` block, where a `stream` block is not allowed. The stream module is loaded
from Debian's modules-enabled (package libnginx-mod-stream). Open-source nginx has no active health
checks: a master that fails `max_fails` connections is skipped for `fail_timeout`, and
`proxy_next_upstream` retries the connection on the next master.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from khatui.quoting.lines import word
from khatui.render.context import RenderContext
from khatui.render.urls import host_port

CONFIG_PATH = PurePosixPath("/etc/nginx/nginx.conf")


def config(ctx: RenderContext, port: int) -> str:
    """nginx.conf with one stream server on 127.0.0.1:`port`."""
    api_port = ctx.spec.control_plane.api_port
    servers = "".join(
        f"        server {word(host_port(node.address, api_port))} max_fails=2 fail_timeout=10s;\n"
        for node in ctx.control_planes
    )
    return f"""\
user www-data;
worker_processes auto;
pid /run/nginx.pid;
include /etc/nginx/modules-enabled/*.conf;

events {{
    worker_connections 4096;
}}

stream {{
    upstream kube_apiserver {{
        least_conn;
{servers}    }}

    server {{
        listen 127.0.0.1:{port};
        proxy_pass kube_apiserver;
        proxy_connect_timeout 2s;
        proxy_timeout 1h;
        proxy_next_upstream on;
        proxy_next_upstream_tries 3;
    }}
}}
"""
