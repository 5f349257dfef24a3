"""haproxy in TCP mode in front of every kube-apiserver: on the lb nodes (behind the keepalived VIP)
or on every node's loopback (local-proxy mode).

TCP, not HTTP: TLS goes end to end from the client to an apiserver, so client certificates keep
working and haproxy holds no key. Health checks still speak HTTPS to `/readyz` (which the apiserver
serves to anonymous clients) so a master whose apiserver is up but not ready takes no traffic.
`option redispatch` retries a connection on another master when the chosen one just died, before its
health check has marked it down; `on-marked-down shutdown-sessions` cuts long watches to a dead
master so clients reconnect at once. Timeouts are long because kubectl and kubelets hold watches open.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from khatui.quoting.lines import word
from khatui.render.context import RenderContext
from khatui.render.urls import host_port
from khatui.spec.loadbalancer import HAProxyKeepalived, LocalProxy

CONFIG_PATH = PurePosixPath("/etc/haproxy/haproxy.cfg")
PID_FILE = "/run/haproxy.pid"
"""Where Debian's haproxy.service keeps the master's pid (`-p $PIDFILE`)."""
BACKEND = "kube-apiserver"


def _global_and_defaults(max_connections: int) -> str:
    return f"""\
global
    log /dev/log local0
    log /dev/log local1 notice
    chroot /var/lib/haproxy
    stats socket /run/haproxy/admin.sock mode 660 level admin
    stats timeout 30s
    user haproxy
    group haproxy
    maxconn {max_connections}

defaults
    log global
    mode tcp
    option tcplog
    option dontlognull
    option redispatch
    retries 3
    timeout connect 5s
    timeout client 1h
    timeout server 1h
    timeout check 5s
"""


def backend(ctx: RenderContext) -> str:
    """The backend section: every control plane, checked over HTTPS."""
    port = ctx.spec.control_plane.api_port
    servers = "".join(
        f"    server {word(node.name)} {word(host_port(node.address, port))} check verify none\n"
        for node in ctx.control_planes
    )
    return f"""\
backend {BACKEND}
    balance roundrobin
    option httpchk
    http-check connect ssl
    http-check send meth GET uri /readyz
    http-check expect status 200
    default-server inter 2s fall 3 rise 2 on-marked-down shutdown-sessions
{servers}"""


def _max_connections(ctx: RenderContext) -> int:
    lb = ctx.spec.load_balancer
    return lb.max_connections if isinstance(lb, HAProxyKeepalived | LocalProxy) else 20000


def config(ctx: RenderContext, bind: str) -> str:
    """A whole haproxy.cfg whose frontend listens on `bind` (haproxy bind syntax)."""
    return f"""\
{_global_and_defaults(_max_connections(ctx))}
frontend {BACKEND}
    bind {bind}
    default_backend {BACKEND}

{backend(ctx)}"""


def lb_bind(ctx: RenderContext, port: int, ipv6: bool) -> str:
    """Bind for an lb node: every address (the VIP comes and goes with keepalived)."""
    return f":::{port} v4v6" if ipv6 else f"*:{port}"
