"""Step 6: the cluster network (Kubernetes version, pod and Service ranges) and cluster DNS.

CoreDNS defaults follow the guide's sizing for large clusters (10000 cache entries, 1000 concurrent
forwards); NodeLocal DNSCache is optional. All fields come from the spec models.
"""

from __future__ import annotations

from textual.app import ComposeResult

from khatui.spec.components import DNS, ControlPlane
from khatui.spec.problems import Path
from khatui.tui.screens.base import WizardStep
from khatui.tui.widgets.field import BoundField
from khatui.tui.widgets.modelform import model_fields

CONTROL_PLANE: Path = ("spec", "controlPlane")
CLUSTER_DNS: Path = ("spec", "dns")


class DNSScreen(WizardStep):
    """Control plane network settings and CoreDNS."""

    STEP = "dns"
    HEADING = "Cluster network and DNS"
    HINT = "Kubernetes version, address ranges, CoreDNS sizing (empty: the default)."

    def body(self) -> ComposeResult:
        yield from model_fields(ControlPlane, CONTROL_PLANE, self.state.data)
        yield from model_fields(DNS, CLUSTER_DNS, self.state.data)

    def on_mount(self) -> None:
        super().on_mount()
        self.query(BoundField).first().focus_control()

    def owns(self, path: Path) -> bool:
        return path[:2] in (CONTROL_PLANE, CLUSTER_DNS)

    def changed(self, path: Path) -> None:
        self.ctx.forget_observation()
