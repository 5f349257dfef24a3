"""keepalived on the lb nodes: one VRRP instance holding the API's virtual IP, and the script that
gives the VIP up when haproxy is not running.

The first lb node (spec order) starts as MASTER with the highest priority; the others are BACKUP
with priorities one lower each, so the preferred holder is predictable and takes the VIP back when it
returns. Peers are listed for unicast VRRP: it works on networks that drop multicast (most clouds)
and on plain L2 alike. A failing check script puts the instance in FAULT, which moves the VIP within
a few seconds (the lab measured ~2.4 s). The script runs as root so it can signal haproxy's pid;
`enable_script_security` makes keepalived refuse it if anyone else could have written it.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from khatui.quoting.lines import word
from khatui.render.context import RenderContext
from khatui.render.haproxy import PID_FILE
from khatui.spec.loadbalancer import HAProxyKeepalived, vip_network
from khatui.spec.nodes import Node, Role

CONFIG_PATH = PurePosixPath("/etc/keepalived/keepalived.conf")
CHECK_SCRIPT_PATH = PurePosixPath("/etc/keepalived/khatui-check-haproxy.sh")
TOP_PRIORITY = 150


def priority(index: int) -> int:
    """VRRP priority of the lb node at `index` among the lb nodes (first is highest)."""
    return max(1, TOP_PRIORITY - index)


def check_script() -> str:
    """Exit 0 while haproxy's master process is alive."""
    return f"""\
#!/bin/sh
# keepalived's track script: succeed while haproxy runs on this node.
pid=$(cat {PID_FILE} 2>/dev/null) || exit 1
[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
"""


def config(ctx: RenderContext, lb: HAProxyKeepalived, node: Node) -> str:
    """keepalived.conf of lb node `node`."""
    lb_nodes = ctx.spec.with_role(Role.LB)
    index = next(i for i, n in enumerate(lb_nodes) if n.name == node.name)
    peers = "".join(f"        {word(peer.address)}\n" for peer in lb_nodes if peer.name != node.name)
    unicast = f"    unicast_src_ip {word(node.address)}\n    unicast_peer {{\n{peers}    }}\n" if peers else ""
    prefix = vip_network(lb).prefixlen
    interface, vip = word(lb.interface), word(lb.vip)
    return f"""\
global_defs {{
    router_id {word(node.name)}
    enable_script_security
    script_user root
}}

vrrp_script chk_haproxy {{
    script "{CHECK_SCRIPT_PATH}"
    interval 2
    timeout 2
    fall 2
    rise 2
}}

vrrp_instance kube_apiserver {{
    state {"MASTER" if index == 0 else "BACKUP"}
    interface {interface}
    virtual_router_id {lb.virtual_router_id}
    priority {priority(index)}
    advert_int 1
{unicast}    virtual_ipaddress {{
        {vip}/{prefix} dev {interface}
    }}
    track_script {{
        chk_haproxy
    }}
}}
"""
