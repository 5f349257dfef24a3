"""Step 5: the pod network (CNI) the rollout deploys: the plugin and its encapsulation and MTU.

A step of its own, right after the load balancer: without a pod network no node turns Ready. The
fields come from the spec model (`khatui.spec.network`), which also refuses an encapsulation the
chosen plugin does not have, inline like any other field.
"""

from __future__ import annotations

from textual.app import ComposeResult

from khatui.spec.network import Network
from khatui.spec.problems import Path
from khatui.tui.screens.base import WizardStep
from khatui.tui.widgets.field import BoundField
from khatui.tui.widgets.modelform import model_fields

NETWORK: Path = ("spec", "network")


class NetworkScreen(WizardStep):
    """The pod network plugin and its options."""

    STEP = "network"
    HEADING = "Pod network"
    HINT = "The CNI plugin to deploy (none: bring your own); empty: its default."

    def body(self) -> ComposeResult:
        yield from model_fields(Network, NETWORK, self.state.data)

    def on_mount(self) -> None:
        super().on_mount()
        self.query(BoundField).first().focus_control()

    def owns(self, path: Path) -> bool:
        return path[:2] == NETWORK

    def changed(self, path: Path) -> None:
        self.ctx.forget_observation()
