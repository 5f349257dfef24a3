"""What every screen is given: the spec being edited, the core's services, clocks, and what the core
has observed so far (probes, the rollout being prepared, the plan). Passed explicitly to each
screen, never global."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from khatui.tui.services import ProbeResult, Services
from khatui.tui.state import WizardState

if TYPE_CHECKING:
    from khatui.plan.model import Plan
    from khatui.rollout.desired import Desired
    from khatui.rollout.nodes import Observed
    from khatui.rollout.rollout import AcceptUnknown, EngineOptions, Rollout, RolloutOptions


@dataclass
class WizardContext:
    """Shared by the screens of one app."""

    state: WizardState
    services: Services
    wall_clock: Callable[[], float] = time.time
    """For ages of journal entries."""
    clock: Callable[[], float] = time.monotonic
    """For elapsed times in the rollout view."""
    options: EngineOptions | None = None
    """How the engine runs rollouts (None: its defaults)."""
    probes: dict[str, ProbeResult] = field(default_factory=dict)
    rollout: Rollout | None = None
    """The rollout preflight prepared: the spec loaded, the nodes observed (it owns their sessions)."""
    observed_yaml: str = ""
    """The spec text the facts and checks were gathered for (stale when the spec changed since)."""
    waivers: set[str] = field(default_factory=set)
    plan: Plan | None = None
    offline: bool = False
    """The operator asked preflight for an offline preview: review plans without connecting, once."""
    lb_stash: dict[str, dict[str, object]] = field(default_factory=dict)
    """Answers of load balancer modes the operator switched away from, by mode."""

    @property
    def desired(self) -> Desired | None:
        """The loaded spec of the prepared rollout."""
        return self.rollout.desired if self.rollout is not None else None

    @property
    def observed(self) -> Observed | None:
        """What preflight found on the nodes."""
        return self.rollout.observed if self.rollout is not None else None

    def rollout_options(self, ask: AcceptUnknown | None, with_waivers: bool = True) -> RolloutOptions:
        """Options for a rollout from the wizard: host keys asked about with `ask`, the waivers set here
        (none for a resumed rollout, which is checked afresh)."""
        from khatui.rollout.rollout import RolloutOptions

        waivers = tuple(sorted(self.waivers)) if with_waivers else ()
        return RolloutOptions(ask=ask, waivers=waivers, engine=self.options)

    def observation_current(self) -> bool:
        """True when the facts were gathered for the spec as it is now."""
        return self.observed is not None and self.observed_yaml == self.state.to_yaml()

    def forget_observation(self) -> None:
        """Drop facts and plan (the spec changed); closes the SSH sessions."""
        if self.rollout is not None:
            self.rollout.close()
        self.rollout, self.plan, self.observed_yaml = None, None, ""
