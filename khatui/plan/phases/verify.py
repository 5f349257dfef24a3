"""`verify`: every etcd member healthy, then the API answering through the load balancer.

The API check is the phase's closing step, after every member's own (it is one check of the whole
cluster, run from the first control plane), so this phase extends `plan` rather than listing its
steps node by node.
"""

from __future__ import annotations

from collections.abc import Sequence

from khatui import nodepaths
from khatui.plan.context import PlanContext, PlanNode
from khatui.plan.model import Phase, Run, Step, WaitFor
from khatui.plan.phases.etcd import etcdctl
from khatui.plan.phases.rule import PhaseRule
from khatui.quoting import shell as sh
from khatui.spec.nodes import Role


class Verify(PhaseRule):
    """Read-only checks that the rollout worked."""

    name = "verify"
    title = "Verify"
    requires = ("etcd-health", "control-plane-init")

    def targets(self, ctx: PlanContext) -> Sequence[PlanNode]:
        return ctx.with_role(Role.ETCD)

    def steps(self, ctx: PlanContext, node: PlanNode) -> Sequence[Step]:
        health = Run(etcdctl("endpoint", "health"))
        return [Step(self.name, node.name, "etcd", "etcd member healthy", (health,), read_only=True)]

    def plan(self, ctx: PlanContext) -> Phase:
        members = PhaseRule.plan(self, ctx)
        return Phase(self.name, self.title, (*members.steps, self._api(ctx)), self.requires)

    def _api(self, ctx: PlanContext) -> Step:
        url = ctx.api_url("/healthz")
        wait = WaitFor(
            sh.cmd("curl", "-fsS", "--max-time", "5", "--cacert", nodepaths.CA_CERT, url),
            timeout=120,
            interval=2,
            description=f"GET {url} verified against the cluster CA",
        )
        first = ctx.first_control_plane()
        return Step(self.name, first.name, "api", "API answers through the load balancer", (wait,), read_only=True)
