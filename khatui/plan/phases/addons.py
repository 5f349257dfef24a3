"""`addons`: the pod network, kube-proxy, CoreDNS and storage manifests, applied once from the first
control plane. The pod network comes first in the folder (10-pod-network.yaml): the nodes turn Ready
with it, and CoreDNS's pods only start on a Ready node."""

from __future__ import annotations

from collections.abc import Sequence

from khatui import nodepaths
from khatui.plan.context import ADMIN, PlanContext, PlanNode
from khatui.plan.model import Run, Step
from khatui.plan.phases.rule import PhaseRule
from khatui.quoting import shell as sh
from khatui.render.files import FileKind


class Addons(PhaseRule):
    """Upload the addon manifests and `kubectl apply` them when any changed."""

    name = "addons"
    title = "pod network, kube-proxy, DNS and storage"
    requires = ("control-plane-init",)

    def targets(self, ctx: PlanContext) -> Sequence[PlanNode]:
        return [ctx.first_control_plane()]

    def steps(self, ctx: PlanContext, node: PlanNode) -> Sequence[Step]:
        apply = Run(
            sh.cmd("kubectl", "--kubeconfig", ADMIN, "apply", "-f", nodepaths.ADDONS_DIR),
            timeout=300,
            description="kubectl apply the addons (pod network, kube-proxy, CoreDNS, storage)",
        )
        addons = node.pick(kinds=(FileKind.ADDON,))
        return [ctx.upload_step(self.name, node, "addons", "cluster addons", addons, [apply])]
