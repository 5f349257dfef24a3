"""The phase protocol: what a phase of the plan is made of (k0sctl's `phase.Phase`, planned instead of run).

A phase names itself, says which phases must succeed before it (`requires`), which nodes it works on
(`targets`) and what each of them needs (`steps`: steps to run, or no-ops with their reason). `plan`
composes those into the plan's `Phase`, node by node; a phase whose steps are not per node in that
simple way (a closing check after every node's own) overrides `plan`, nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from khatui.plan.context import PlanContext, PlanNode
from khatui.plan.model import Phase, Step


class PhaseRule(Protocol):
    """One phase of a rollout, as data for `build_plan` (see `khatui.plan.phases.ROLLOUT`)."""

    name: str
    """Stable id: the first part of every step id (`phase/node/step`), kept in journals."""
    title: str
    requires: tuple[str, ...]
    """Phases that must finish without a failure before this one may start."""

    def targets(self, ctx: PlanContext) -> Sequence[PlanNode]:
        """The nodes this phase works on, in the order their steps are listed."""
        ...

    def steps(self, ctx: PlanContext, node: PlanNode) -> Sequence[Step]:
        """What `node` needs in this phase, in order (no-ops carry their reason)."""
        ...

    def plan(self, ctx: PlanContext) -> Phase:
        """The phase: every target's steps, node by node."""
        return Phase(
            self.name, self.title, tuple(s for n in self.targets(ctx) for s in self.steps(ctx, n)), self.requires
        )
