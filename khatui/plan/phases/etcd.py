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
from khatui.spec.components import EtcdRunAs
from khatui.spec.nodes import Role


def etcdctl(*args: str) -> Script:
    """etcdctl on an etcd member, with the ETCDCTL_* variables of its etcdctl.env: the host's etcdctl,
    which the install puts on every member (a static-pod member's host has none of its own: the
    `etcd-binary` step installs etcd's release archive, etcdctl with it, at the member's version)."""
    return sh.and_(sh.cmd("set", "-a"), sh.cmd(".", nodepaths.ETCDCTL_ENV), sh.cmd("etcdctl", *args))


class Etcd(PhaseRule):
    """Each member's files; (re)start it when they change, start it when it is stopped."""

    name = "etcd"
    title = "etcd members"
    requires = ("pki",)

    def targets(self, ctx: PlanContext) -> Sequence[PlanNode]:
        return ctx.with_role(Role.ETCD)

    def steps(self, ctx: PlanContext, node: PlanNode) -> Sequence[Step]:
        binary = etcd_binary(ctx, self.name, node)
        if ctx.cluster.spec.etcd.run_as is EtcdRunAs.STATIC_POD:
            return [*binary, self._static_pod(ctx, node)]
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
            etcdctl("endpoint", "health"),
            timeout=180,
            interval=1,
            description="wait until this member answers etcdctl endpoint health",
        )
        return [Step(self.name, node.name, "healthy", "etcd member healthy", (wait,), read_only=True)]
