"""Step 4: the load balancer in front of the apiservers, and kube-proxy.

The fields of each load balancer mode come from its spec model; switching mode keeps the answers of
the mode left (restored when coming back) and drops them from the spec, where they would be unknown
fields. The topology diagram is redrawn on every change. When facts are known (preflight ran), the
IPVS kernel-module check is shown next to the kube-proxy mode.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, SelectionList, Static
from textual.widgets.selection_list import Selection

from khatui.inventory.result import ROLE_ORDER
from khatui.preflight.checks import Status
from khatui.spec.components import IPVSScheduler, ProxyMode
from khatui.spec.loadbalancer import ExternalLB, HAProxyKeepalived, KubeVip, LocalProxy
from khatui.spec.problems import Path
from khatui.tui.diagram import topology
from khatui.tui.screens.base import WizardStep
from khatui.tui.widgets.checklist import CheckList
from khatui.tui.widgets.field import BoundField, ChoiceField
from khatui.tui.widgets.modelform import model_fields

LB: Path = ("spec", "loadBalancer")
PROXY: Path = ("spec", "kubeProxy")
MODES: dict[str, type[BaseModel]] = {
    "haproxy-keepalived": HAProxyKeepalived,
    "kube-vip": KubeVip,
    "local-proxy": LocalProxy,
    "external": ExternalLB,
}


class LoadBalancerScreen(WizardStep):
    """Load balancer mode and fields, lb nodes, topology, kube-proxy."""

    STEP = "loadbalancer"
    HEADING = "Load balancer and kube-proxy"
    HINT = "How kubelets, kube-proxy and kubectl reach the apiservers; Service mode."
    BINDINGS: ClassVar[list[BindingType]] = []

    def body(self) -> ComposeResult:
        get = self.state.get
        with Horizontal(id="lb-columns"):
            with Vertical(id="lb-form"):
                yield ChoiceField("mode", (*LB, "mode"), [(m, m) for m in MODES], get((*LB, "mode")))
                yield Vertical(id="mode-fields")
                with Horizontal(id="lb-nodes-row"):
                    yield Label("lb nodes", classes="field--label")
                    yield CheckList(*self._lb_options(), id="lb-nodes", compact=True)
                yield ChoiceField(
                    "kubeProxy.mode",
                    (*PROXY, "mode"),
                    [(m.value, m.value) for m in ProxyMode],
                    get((*PROXY, "mode"), "iptables"),
                )
                yield ChoiceField(
                    "ipvsScheduler",
                    (*PROXY, "ipvsScheduler"),
                    [(s.value, s.value) for s in IPVSScheduler],
                    get((*PROXY, "ipvsScheduler")),
                    blank="rr (default)",
                    id="scheduler",
                )
                yield Static("", id="ipvs-facts")
            yield Static("", id="diagram")

    def _lb_options(self) -> list[Selection[int]]:
        return [
            Selection(Text(str(node.get("name", "?"))), index, "lb" in (node.get("roles") or []))
            for index, node in enumerate(self.state.nodes)
        ]

    def on_mount(self) -> None:
        super().on_mount()
        self.mode = str(self.state.get((*LB, "mode")) or "")
        self.mount_mode_fields()
        self.redraw()
        self.query(BoundField).first().focus_control()

    def owns(self, path: Path) -> bool:
        return path[:2] in (LB, PROXY)

    def mount_mode_fields(self) -> None:
        """The fields of the current mode, below the mode picker."""
        container = self.query_one("#mode-fields", Vertical)
        container.remove_children()
        model = MODES.get(str(self.state.get((*LB, "mode"))))
        if model is not None:
            container.mount_all(list(model_fields(model, LB, self.state.data, skip=frozenset({"mode"}))))
        self.call_after_refresh(self.show_problems)

    def changed(self, path: Path) -> None:
        self.ctx.forget_observation()
        if path == (*LB, "mode") and self.state.get(path) != self.mode:
            self.switch_mode(self.state.get(path))
        if path == (*PROXY, "mode") and self.state.get(path) != "ipvs":
            self.state.set((*PROXY, "ipvsScheduler"), None)
        self.redraw()

    def switch_mode(self, mode: Any) -> None:
        """Keep the old mode's answers aside, restore the new mode's."""
        current = dict(self.state.get(LB) or {})
        if self.mode and self.mode != mode:
            self.ctx.lb_stash[self.mode] = {k: v for k, v in current.items() if k != "mode"}
        restored = dict(self.ctx.lb_stash.get(str(mode), {}))
        self.state.set(LB, {"mode": mode, **restored} if mode else {})
        self.mode = str(mode or "")
        self.mount_mode_fields()

    @on(SelectionList.SelectionToggled, "#lb-nodes")
    def _lb_toggled(self, event: SelectionList.SelectionToggled[int]) -> None:
        index = int(event.selection.value)
        roles = set(self.state.nodes[index].get("roles") or [])
        roles = roles | {"lb"} if index in event.selection_list.selected else roles - {"lb"}
        self.state.set(("spec", "nodes", index, "roles"), [str(r) for r in ROLE_ORDER if str(r) in roles] or None)
        self.ctx.forget_observation()
        self.redraw()
        self.show_problems()

    def redraw(self) -> None:
        """Diagram, which rows show, and the IPVS facts."""
        mode = self.state.get((*LB, "mode"))
        self.query_one("#lb-nodes-row").display = mode == "haproxy-keepalived"
        ipvs = self.state.get((*PROXY, "mode")) == "ipvs"
        self.query_one("#scheduler").display = ipvs
        self.query_one("#diagram", Static).update(Text(topology(self.state.data, self.state.cluster)))
        facts = self.query_one("#ipvs-facts", Static)
        observed = self.ctx.observed
        facts.display = ipvs
        if observed is None or not observed.checks:
            facts.update(Text("IPVS kernel modules: checked by preflight", "dim"))
            return
        results = [c for c in observed.checks if c.check == "ipvs-modules"]
        failing = [c.node for c in results if c.status is Status.FAIL]
        if failing:
            facts.update(Text(f"IPVS modules missing on {', '.join(failing)}: use iptables there", "red"))
        else:
            facts.update(Text(f"IPVS modules present on all {len(results)} nodes", "green"))
