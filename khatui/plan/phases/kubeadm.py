"""`control-plane-init`, `control-plane-join`, `workers`: the nodes kubeadm sets up, in the guide's order.

One module for the three because every node goes through the same four steps — kubeadm's
configuration (the kernel settings come before, in `node-settings`), `kubeadm init` or `join`, the kubelet pointed at the load balancer,
and on the first control plane the bootstrap token the others join with — and they differ only in
which nodes and which kubeadm command.
"""

from __future__ import annotations

from collections.abc import Sequence

from khatui import nodepaths
from khatui.plan.context import ADMIN, KUBEADM_DONE, PlanContext, PlanNode, upload_action
from khatui.plan.model import Action, Run, Step, Upload, WaitFor
from khatui.plan.phases.node_settings import is_node_setting
from khatui.plan.phases.rule import PhaseRule
from khatui.quoting import shell as sh
from khatui.render import kubevip, yamltext
from khatui.render.context import RenderContext
from khatui.render.files import FileKind, Stage
from khatui.render.kubeadm import INIT_PATH, JOIN_PATH
from khatui.render.kubeconfig import discovery_kubeconfig
from khatui.render.kubelet import STANDALONE_CONFIG, STANDALONE_DROPIN
from khatui.spec.components import EtcdRunAs
from khatui.spec.loadbalancer import HAProxyKeepalived, KubeVip, endpoint
from khatui.spec.nodes import Role


def discovery(ctx: PlanContext) -> bytes:
    """kubeadm's file discovery: the cluster CA and the LB address, with the bootstrap token."""
    ca = next((f for f in ctx.first_control_plane().files if f.path == str(nodepaths.CA_CERT)), None)
    return discovery_kubeconfig(ctx.api_url(), ca.data if ca else b"", ctx.token)


def _prepare(ctx: PlanContext, phase: str, n: PlanNode) -> Step:
    files = n.pick(components=("kubeadm", "kube-proxy", "kube-vip"), stage=Stage.BEFORE_KUBEADM)
    files = [f for f in files if f.kind is not FileKind.ADDON and not is_node_setting(f)]
    return ctx.upload_step(phase, n, "prepare", "kubeadm configuration", files)


def _kube_vip_bootstrap(ctx: PlanContext, n: PlanNode) -> list[Action]:
    """With kube-vip, the VIP `kubeadm init` needs: the bootstrap pod on super-admin.conf (the
    kubelet step after init puts the rendered admin.conf pod in its place, see render.kubevip)."""
    lb = ctx.cluster.spec.load_balancer
    if not isinstance(lb, KubeVip):
        return []
    render = RenderContext.of(ctx.cluster)
    body = yamltext.dump(kubevip.bootstrap_pod(render, lb, n.node))
    return [upload_action(render.config(n.node, kubevip.MANIFEST_PATH, body, "kube-vip", FileKind.MANIFEST, 0o600), "")]


def _vip_held(ctx: PlanContext) -> list[Action]:
    """With haproxy + keepalived, wait until the VIP takes TCP connections: `kubeadm init` reaches the
    API through it right after the local apiserver answers (bootstrap-token, upload-config), and a
    keepalived just (re)started by the `lb` phase holds the VIP only once it turns MASTER (about
    3 advert intervals later). bash's /dev/tcp, as the network mesh probe connects."""
    lb = ctx.cluster.spec.load_balancer
    if not isinstance(lb, HAProxyKeepalived):
        return []
    host, port = endpoint(lb, ctx.cluster.spec.control_plane.api_port)
    probe = sh.cmd("timeout", "2", "bash", "-c", 'exec 3<>"/dev/tcp/$1/$2"', "_", host, str(port))
    return [
        WaitFor(
            probe, timeout=120, description=f"wait until the VIP {host}:{port} takes connections (keepalived MASTER)"
        )
    ]


def _kubeadm(ctx: PlanContext, phase: str, n: PlanNode, first: bool) -> Step:
    if n.has(KUBEADM_DONE):
        return Step(phase, n.name, "kubeadm", "kubeadm", noop_reason="node already initialised by kubeadm")
    actions: list[Action] = []
    if ctx.cluster.spec.etcd.run_as is EtcdRunAs.STATIC_POD and n.node.has(Role.ETCD):
        handover = sh.and_(
            sh.cmd("rm", "-f", STANDALONE_DROPIN, STANDALONE_CONFIG), sh.cmd("systemctl", "daemon-reload")
        )
        actions.append(Run(handover, description="hand the kubelet over to kubeadm"))
    # A kubeadm cut off halfway left some of its files behind; run again, its preflight would
    # refuse them. kubeadm's phases overwrite what they write, so a redo skips the preflight.
    again = ["--ignore-preflight-errors=all"] if f"{phase}/{n.name}/kubeadm" in ctx.redo else []
    if first:
        actions.extend(_kube_vip_bootstrap(ctx, n))
        actions.extend(_vip_held(ctx))
        actions.append(Run(sh.cmd("kubeadm", "init", "--config", INIT_PATH, *again), timeout=600))
    else:
        summary = "discovery kubeconfig with a bootstrap token"
        actions.append(Upload(str(nodepaths.DISCOVERY_KUBECONFIG), discovery(ctx), 0o600, secret=True, summary=summary))
        actions.append(Run(sh.cmd("kubeadm", "join", "--config", JOIN_PATH, *again), timeout=600))
    title = "kubeadm init" if first else "kubeadm join"
    return Step(phase, n.name, "kubeadm", title, tuple(actions), check=sh.cmd("test", "-f", KUBEADM_DONE))


def _token(ctx: PlanContext, phase: str, n: PlanNode) -> Step:
    # No `token delete` first: a create cut off by a killed engine may still be running on the node
    # (an SSH exec channel leaves its command running) while the resumed rollout runs this again, and a
    # late delete would take away the token the resumed run just made. A token that exists already is
    # this rollout's own (its id is random per rollout), so finding it in the list is success too.
    command = sh.or_(
        sh.cmd("kubeadm", "token", "create", ctx.token, "--ttl", "2h", "--kubeconfig", ADMIN),
        sh.pipe(sh.cmd("kubeadm", "token", "list", "--kubeconfig", ADMIN), sh.cmd("grep", "-qF", ctx.token)),
    )
    create = Run(command, description="create the bootstrap token for joining nodes")
    return Step(phase, n.name, "token", "bootstrap token for joining nodes", (create,))


def kubeadm_steps(ctx: PlanContext, phase: str, n: PlanNode, first: bool) -> list[Step]:
    """prepare, kubeadm (init when `first`, else join), kubelet, and the token when others must join."""
    after = [f for f in n.pick(stage=Stage.AFTER_KUBEADM) if f.kind is not FileKind.ADDON]
    restart = Run(sh.cmd("systemctl", "restart", "kubelet"))
    kubelet = ctx.upload_step(phase, n, "kubelet", "kubelet pointed at the load balancer", after, [restart])
    steps = [_prepare(ctx, phase, n), _kubeadm(ctx, phase, n, first), kubelet]
    if first and ctx.joiners():
        steps.append(_token(ctx, phase, n))
    return steps


class ControlPlaneInit(PhaseRule):
    """`kubeadm init` on the first control plane, once etcd is healthy and the API address answers."""

    name = "control-plane-init"
    title = "First control plane (kubeadm init)"
    requires = ("etcd-health", "lb")

    def targets(self, ctx: PlanContext) -> Sequence[PlanNode]:
        return [ctx.first_control_plane()]

    def steps(self, ctx: PlanContext, node: PlanNode) -> Sequence[Step]:
        return kubeadm_steps(ctx, self.name, node, first=True)


class ControlPlaneJoin(PhaseRule):
    """`kubeadm join` on every other control plane."""

    name = "control-plane-join"
    title = "Other control planes (kubeadm join)"
    requires = ("control-plane-init",)

    def targets(self, ctx: PlanContext) -> Sequence[PlanNode]:
        first = ctx.first_control_plane()
        return [n for n in ctx.with_role(Role.CONTROL_PLANE) if n is not first]

    def steps(self, ctx: PlanContext, node: PlanNode) -> Sequence[Step]:
        return kubeadm_steps(ctx, self.name, node, first=False)


class Workers(PhaseRule):
    """`kubeadm join` on the workers that are not control planes."""

    name = "workers"
    title = "Workers (kubeadm join)"
    requires = ("control-plane-init",)

    def targets(self, ctx: PlanContext) -> Sequence[PlanNode]:
        return [n for n in ctx.with_role(Role.WORKER) if not n.node.has(Role.CONTROL_PLANE)]

    def steps(self, ctx: PlanContext, node: PlanNode) -> Sequence[Step]:
        return kubeadm_steps(ctx, self.name, node, first=False)
