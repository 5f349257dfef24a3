"""`images`: an air-gapped bundle's container images, imported into containerd on every kubelet node.

Only with `spec.install.bundle` (online, containerd pulls what the kubelet asks for). One step per
node: a no-op naming the images when containerd lists every one already (facts: `ctr -n k8s.io
images ls -q`), else the missing archives uploaded and imported (`offline.import_images`). Every
kubelet node gets every image: which pod lands where is the scheduler's choice, not the plan's.
"""

from __future__ import annotations

from collections.abc import Sequence

from khatui.artifacts.bundle import Kind
from khatui.plan.context import PlanContext, PlanNode
from khatui.plan.model import Step
from khatui.plan.phases.install import runs_kubelet
from khatui.plan.phases.offline import import_images
from khatui.plan.phases.rule import PhaseRule


class Images(PhaseRule):
    """The bundle's image archives, imported where containerd lacks them."""

    name = "images"
    title = "container images from the bundle"
    requires: tuple[str, ...] = ("runtime",)

    def targets(self, ctx: PlanContext) -> Sequence[PlanNode]:
        if ctx.bundle is None or not ctx.bundle.of_kind(Kind.IMAGE):
            return []
        return [n for n in ctx.all() if runs_kubelet(ctx, n)]

    def steps(self, ctx: PlanContext, node: PlanNode) -> Sequence[Step]:
        assert ctx.bundle is not None  # targets() is empty without one
        images = ctx.bundle.of_kind(Kind.IMAGE)
        held = node.facts.images if node.facts else frozenset()
        missing = [f for f in images if f.component not in held]
        if not missing and f"{self.name}/{node.name}/images" not in ctx.redo:
            names = ", ".join(f.component for f in images)
            return [Step(self.name, node.name, "images", self.title, noop_reason=f"containerd holds {names}")]
        title = f"import {len(missing)} of {len(images)} images from the bundle"
        return [Step(self.name, node.name, "images", title, import_images(ctx.bundle, missing or images))]
