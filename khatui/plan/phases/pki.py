"""`pki`: every node's certificates and keys, first, so every later phase finds them in place."""

from __future__ import annotations

from collections.abc import Sequence

from khatui.plan.context import PlanContext, PlanNode
from khatui.plan.model import Step
from khatui.plan.phases.rule import PhaseRule
from khatui.render.files import FileKind

_PKI = (FileKind.CERTIFICATE, FileKind.KEY)


class Pki(PhaseRule):
    """Upload certificates (summarised: subject, SANs, expiry) and keys (secret) where any differ."""

    name = "pki"
    title = "Distribute certificates"
    requires = ()

    def targets(self, ctx: PlanContext) -> Sequence[PlanNode]:
        return [n for n in ctx.all() if n.pick(kinds=_PKI)]

    def steps(self, ctx: PlanContext, node: PlanNode) -> Sequence[Step]:
        return [ctx.upload_step(self.name, node, "certificates", "certificates and keys", node.pick(kinds=_PKI))]
