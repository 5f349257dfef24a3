"""Which load-balancer files each node gets, by `spec.loadBalancer.mode`.

- external: nothing (the cloud or hardware LB exists already);
- haproxy-keepalived: haproxy.cfg, keepalived.conf and its check script on every `lb` node;
- kube-vip: a static pod on every control plane;
- local-proxy: haproxy or nginx on every Kubernetes node's loopback (kubelet and kube-proxy reach
  127.0.0.1:port; kubeadm's controlPlaneEndpoint is the same address on every node).
"""

from __future__ import annotations

from khatui.render import haproxy, keepalived, kubevip, nginx, yamltext
from khatui.render.context import RenderContext
from khatui.render.files import FileKind, RenderedFile, Stage
from khatui.spec.loadbalancer import HAProxyKeepalived, KubeVip, LocalProxy
from khatui.spec.nodes import Node, Role


def node_files(ctx: RenderContext, node: Node) -> list[RenderedFile]:
    """The load-balancer files of `node`."""
    lb = ctx.spec.load_balancer
    if isinstance(lb, HAProxyKeepalived) and node.has(Role.LB):
        bind = haproxy.lb_bind(ctx, lb.port, lb.vip.version == 6)
        return [
            ctx.config(node, haproxy.CONFIG_PATH, haproxy.config(ctx, bind), "haproxy"),
            ctx.config(node, keepalived.CONFIG_PATH, keepalived.config(ctx, lb, node), "keepalived"),
            ctx.config(
                node, keepalived.CHECK_SCRIPT_PATH, keepalived.check_script(), "keepalived", FileKind.SCRIPT, 0o755
            ),
        ]
    if isinstance(lb, KubeVip) and node.has(Role.CONTROL_PLANE):
        body = yamltext.dump(kubevip.static_pod(ctx, lb, node))
        # After kubeadm everywhere: the others join through the VIP and get kube-vip afterwards (join
        # refuses a non-empty manifests folder; admin.conf comes with join); the first control plane
        # runs kubevip.bootstrap_pod for `kubeadm init` (the plan's kubeadm step) and this one after it.
        stage = Stage.AFTER_KUBEADM
        return [ctx.config(node, kubevip.MANIFEST_PATH, body, "kube-vip", FileKind.MANIFEST, 0o600, stage)]
    if isinstance(lb, LocalProxy) and ctx.runs_kubelet(node):
        if lb.implementation == "nginx":
            return [ctx.config(node, nginx.CONFIG_PATH, nginx.config(ctx, lb.port), "nginx")]
        body = haproxy.config(ctx, f"127.0.0.1:{lb.port}")
        return [ctx.config(node, haproxy.CONFIG_PATH, body, "haproxy")]
    return []
