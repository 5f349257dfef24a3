"""What every screen is given: the spec being edited, the core's services, clocks, and what the core
has observed so far (probes, facts, the plan). Passed explicitly to each screen, never global."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from khatui.tui.services import ProbeResult, Services
from khatui.tui.state import WizardState

if TYPE_CHECKING:
    from khatui.engine.executor import EngineOptions
    from khatui.plan.model import Plan
    from khatui.rollout.desired import Desired
    from khatui.rollout.service import Observed


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
    desired: Desired | None = None
    observed: Observed | None = None
    observed_yaml: str = ""
    """The spec text the facts and checks were gathered for (stale when the spec changed since)."""
    waivers: set[str] = field(default_factory=set)
    plan: Plan | None = None
    lb_stash: dict[str, dict[str, object]] = field(default_factory=dict)
    """Answers of load balancer modes the operator switched away from, by mode."""

    def observation_current(self) -> bool:
        """True when the facts were gathered for the spec as it is now."""
        return self.observed is not None and self.observed_yaml == self.state.to_yaml()

    def forget_observation(self) -> None:
        """Drop facts and plan (the spec changed); closes the SSH sessions."""
        if self.observed is not None:
            self.observed.close()
        self.observed, self.desired, self.plan, self.observed_yaml = None, None, None, ""
