"""`etcd` and `etcd-health`: the members, started in parallel without waiting for quorum, then a barrier.

Two phases in one module because they are one piece of the guide: members come up together (a lone
member waits for its peers), and only the barrier after them says the cluster formed. etcd runs as a
systemd unit or as a static pod; a static pod needs a kubelet before kubeadm exists, so until kubeadm
takes the node over (stacked control planes) or for good (etcd-only nodes) a standalone kubelet runs it.
"""

from __future__ import annotations

from collections.abc import Sequence

from khatui import nodepaths
from khatui.plan.context import KUBEADM_DONE, PlanContext, PlanNode, reload_and
from khatui.plan.model import Run, Step, WaitFor
from khatui.plan.phases.install import etcd_binary, restarted_on_change
from khatui.plan.phases.rule import PhaseRule
from khatui.quoting import shell as sh
from khatui.quoting.shell import Script
from khatui.render.files import RenderedFile, Stage
from khatui.render.kubelet import CRI_SOCKET
from khatui.spec.components import EtcdRunAs
from khatui.spec.nodes import Role

_IN_POD = (
    'set -a && . "$1" && set +a || exit 1; endpoint=$2; shift 2; '
    'id=$(crictl --runtime-endpoint "$endpoint" ps -q --state running --name "^etcd$" | head -n 1); '
    'if [ -z "$id" ]; then echo "no running etcd container" >&2; exit 1; fi; '
    'exec crictl --runtime-endpoint "$endpoint" exec "$id" etcdctl --endpoints="$ETCDCTL_ENDPOINTS" '
    '--cacert="$ETCDCTL_CACERT" --cert="$ETCDCTL_CERT" --key="$ETCDCTL_KEY" "$@"'
)
"""etcdctl inside the running etcd container (the registry.k8s.io/etcd image has it on its PATH; the
host of a static-pod member has none), with the etcdctl.env values as flags since `crictl exec`
passes no environment. A fixed script: the env file, the CRI socket and etcdctl's arguments reach
it as positional parameters, never as script text."""


def etcdctl(ctx: PlanContext, *args: str) -> Script:
    """etcdctl on an etcd member, with the ETCDCTL_* variables of its etcdctl.env: the host's
    etcdctl for a systemd member, the etcd container's for a static pod."""
    if ctx.cluster.spec.etcd.run_as is EtcdRunAs.STATIC_POD:
        return sh.cmd("sh", "-c", _IN_POD, "etcdctl-in-pod", nodepaths.ETCDCTL_ENV, CRI_SOCKET, *args)
    return sh.and_(sh.cmd("set", "-a"), sh.cmd(".", nodepaths.ETCDCTL_ENV), sh.cmd("etcdctl", *args))


class Etcd(PhaseRule):
    """Each member's files; (re)start it when they change, start it when it is stopped."""

    name = "etcd"
    title = "etcd members"
    requires = ("pki",)

    def targets(self, ctx: PlanContext) -> Sequence[PlanNode]:
        return ctx.with_role(Role.ETCD)

    def steps(self, ctx: PlanContext, node: PlanNode) -> Sequence[Step]:
        if ctx.cluster.spec.etcd.run_as is EtcdRunAs.STATIC_POD:
            return [self._static_pod(ctx, node)]
        binary = etcd_binary(ctx, self.name, node)
        return [*binary, self._systemd(ctx, node, binary)]

    def _static_pod(self, ctx: PlanContext, n: PlanNode) -> Step:
        # The kubelet that runs the etcd pod: for good on etcd-only nodes (stage before-kubeadm),
        # until kubeadm takes the node over on stacked control planes (stage until-kubeadm).
        standalone: list[RenderedFile] = [
            f
            for f in n.pick(components=("kubelet",))
            if f.stage is Stage.BEFORE_KUBEADM or (f.stage is Stage.UNTIL_KUBEADM and not n.has(KUBEADM_DONE))
        ]
        restart = Run(
            reload_and(sh.cmd("systemctl", "enable", "kubelet"), sh.cmd("systemctl", "restart", "kubelet")),
            description="(re)start the kubelet that runs the etcd static pod",
        )
        files = [*n.pick(components=("etcd",)), *standalone]
        then = [restart] if standalone and ctx.changed(self.name, n, "etcd", standalone) else []
        return ctx.upload_step(self.name, n, "etcd", "etcd static pod", files, then)

    def _systemd(self, ctx: PlanContext, n: PlanNode, binary: list[Step]) -> Step:
        # A new binary restarts the member too; every member at once here (one at a time: issue 16).
        start = Run(
            reload_and(sh.cmd("systemctl", "enable", "etcd"), sh.cmd("systemctl", "restart", "--no-block", "etcd")),
            description="(re)start etcd without waiting for quorum",
        )
        title = "etcd member (systemd)"
        files = n.pick(components=("etcd",))
        step = restarted_on_change(ctx, self.name, n, "etcd", title, files, binary, [start])
        if step.is_noop and not n.active("etcd") and not ctx.offline:
            return Step(
                self.name,
                n.name,
                "etcd",
                title,
                (Run(sh.cmd("systemctl", "start", "--no-block", "etcd")),),
                check=sh.cmd("systemctl", "is-active", "--quiet", "etcd"),
            )
        return step


class EtcdHealth(PhaseRule):
    """Wait until every member answers `etcdctl endpoint health`: the cluster formed."""

    name = "etcd-health"
    title = "etcd health barrier"
    requires = ("etcd",)

    def targets(self, ctx: PlanContext) -> Sequence[PlanNode]:
        return ctx.with_role(Role.ETCD)

    def steps(self, ctx: PlanContext, node: PlanNode) -> Sequence[Step]:
        wait = WaitFor(
            etcdctl(ctx, "endpoint", "health"),
            timeout=180,
            interval=1,
            description="wait until this member answers etcdctl endpoint health",
        )
        return [Step(self.name, node.name, "healthy", "etcd member healthy", (wait,), read_only=True)]
