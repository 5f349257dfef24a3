"""Step 9: the dry run. The same plan preview as `khatui plan` (the core's `render_plan`), the
certificates, the warnings; save the spec; confirm to start the rollout.

Planning runs in a thread worker: `Rollout.make_plan` on the rollout preflight observed; when the
facts are not current (the step reached from the palette, the spec changed) the worker observes the
nodes first, as preflight does, so the preview is the plan that would run. Only the offline preview
preflight offers (`o`) plans without facts (every node empty); it cannot start, and `r` plans
against the nodes again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import RichLog, Static
from textual.worker import Worker, WorkerState

from khatui.errors import KhatuiError
from khatui.journal import RolloutRecord
from khatui.spec.problems import Path
from khatui.tui.screens.base import RolloutRequested, WizardStep
from khatui.tui.screens.dialogs import ConfirmDialog

if TYPE_CHECKING:
    from khatui.plan.model import Plan
    from khatui.rollout.desired import Desired
    from khatui.rollout.nodes import Observed
    from khatui.rollout.rollout import Rollout


@dataclass
class Planned:
    """The worker's result: the rollout and its plan (`observed`: the worker observed the nodes)."""

    rollout: Rollout
    plan: Plan
    observed: bool = False


PKI_DIR = "/etc/kubernetes/pki/"


def certificates(desired: Desired) -> Group:
    """Certificate subjects and expiry, as the preview shows them (never keys): a line per certificate
    with its whole name and expiry, its subject and SANs wrapped under it (none is cut at 80 columns).
    A certificate every node shares (a CA) is listed once; a node's own leaf once per node."""
    parts: list[RenderableType] = [Text(f"Certificates ({PKI_DIR} unless a path is given)", "bold")]
    by_path: dict[str, dict[str, list[str]]] = {}
    for (node, path), text in sorted(desired.cert_summaries.items()):
        by_path.setdefault(path, {}).setdefault(text, []).append(node)
    for path, texts in sorted(by_path.items()):
        for text, nodes in texts.items():
            name = path.removeprefix(PKI_DIR) + ("" if len(texts) == 1 else f" ({', '.join(nodes)})")
            details, found, expiry = text.removeprefix("certificate ").rpartition(" expires ")
            if not found:
                details, expiry = expiry, ""
            # Text, never markup: subjects and SANs come from the spec
            parts.append(Text.assemble("  ", (name, "bold"), f"  expires {expiry}" if expiry else ""))
            parts.append(Padding(Text(details.rstrip(", "), "dim"), (0, 0, 0, 4)))
    return Group(*parts)


class ReviewScreen(WizardStep):
    """The preview and the start button."""

    STEP = "review"
    HEADING = "Review"
    HINT = "What the rollout would do, node by node. Enter starts it (asks first)."
    ALL_CLEAR = "✓ the spec itself has no problems"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "start", "Start rollout"),
        Binding("r", "replan", "Re-plan"),
    ]

    def body(self) -> ComposeResult:
        yield Static(Text("planning …", "yellow"), id="summary")
        yield Static("", id="warnings")
        yield RichLog(id="preview", wrap=True, highlight=False, markup=False, auto_scroll=False)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#preview", RichLog).focus()
        self.action_replan()

    def owns(self, path: Path) -> bool:
        return True

    def observed(self) -> Observed | None:
        return self.ctx.observed if self.ctx.observation_current() else None

    def action_replan(self) -> None:
        """Plan again, against the nodes (observed again when the facts are not current)."""
        offline, self.ctx.offline = self.ctx.offline, False
        self.plan_now(offline=offline)

    def plan_now(self, offline: bool) -> None:
        if self.state.problems(errors_only=True):
            self.query_one("#summary", Static).update(Text("the spec has errors: fix them first", "red"))
            return
        if self.state.path is None:
            self.query_one("#summary", Static).update(
                Text("save the spec first (ctrl+s): the plan is made from the saved file, then press r", "yellow")
            )
            return
        try:
            if self.state.dirty:  # the core reads the file: it must hold what the wizard shows
                self.state.save()
        except KhatuiError as exc:
            self.query_one("#summary", Static).update(Text(exc.message, "red"))
            return
        self.ctx.plan = None
        self.refresh_bindings()
        if self.ctx.observation_current():
            self.make_plan(str(self.state.path), self.ctx.rollout, observe=False)
            return
        self.ctx.forget_observation()
        if not offline:
            self.query_one("#summary", Static).update(Text("connecting to the nodes, then planning …", "yellow"))
        self.make_plan(str(self.state.path), None, observe=not offline)

    @work(thread=True, name="plan", group="review", exclusive=True, exit_on_error=False)
    def make_plan(self, spec_path: str, rollout: Rollout | None, observe: bool) -> Planned:
        if rollout is None:
            gate = getattr(self.app, "gate", None) if observe else None
            rollout = self.ctx.services.open(spec_path, self.ctx.rollout_options(gate))
            if observe:
                rollout.observe()
        return Planned(rollout, rollout.make_plan(), observe)

    @work(thread=True, name="start", group="review", exclusive=True, exit_on_error=False)
    def record_rollout(self, rollout: Rollout) -> RolloutRecord:
        return rollout.start()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state is WorkerState.ERROR:
            error = worker.error
            message = error.message if isinstance(error, KhatuiError) else f"{type(error).__name__}: {error}"
            self.query_one("#summary", Static).update(Text(f"{worker.name} failed: {message}", "red"))
        elif event.state is WorkerState.SUCCESS and isinstance(worker.result, Planned):
            if worker.result.observed:  # kept for the start, as preflight keeps its rollout
                self.ctx.rollout, self.ctx.observed_yaml = worker.result.rollout, self.state.to_yaml()
            self.show_plan(worker.result)
        elif event.state is WorkerState.SUCCESS and isinstance(worker.result, RolloutRecord) and self.ctx.plan:
            rollout = self.ctx.rollout
            assert rollout is not None
            # The rollout view owns the rollout and its sessions now (they close when it ends).
            self.ctx.rollout, self.ctx.observed_yaml = None, ""
            self.post_message(RolloutRequested(rollout))

    def show_plan(self, planned: Planned) -> None:
        from khatui.views.preview import render_plan, summary

        self.ctx.plan = planned.plan
        desired = planned.rollout.desired
        observed = self.observed()
        reasons = self.blockers()
        if observed is None:
            note = ("  (offline: no facts, every file shown as new; r plans against the nodes)", "yellow")
        elif reasons and self.ctx.plan.changes():
            note = (f"  (cannot start: {reasons[0]})", "red")
        else:
            note = ("", "")
        self.query_one("#summary", Static).update(Text.assemble((summary(planned.plan), "bold"), note))
        self.refresh_bindings()
        notes = [str(w) for w in desired.warnings]
        if desired.pki_note:
            notes.append(desired.pki_note)
        self.query_one("#warnings", Static).update(Text("\n".join(notes), "yellow"))
        log = self.query_one("#preview", RichLog)
        log.clear()
        log.write(certificates(desired))
        log.write(render_plan(planned.plan, observed.facts if observed else None))
        log.scroll_home(animate=False)

    def blockers(self) -> list[str]:
        from khatui.views.preview import summary

        if self.ctx.plan is None:
            return ["the plan is not ready yet"]
        observed = self.observed()
        if observed is None:
            return ["this is an offline preview: r plans against the nodes (or run preflight, ctrl+b)"]
        if observed.unreachable:
            nodes = ", ".join(observed.unreachable)
            return [f"unreachable: {nodes}; fix the connection (Nodes: p probes), then r plans again"]
        if observed.blocking:
            return ["preflight did not pass: go back (ctrl+b) to fix or waive the failing checks"]
        if self.ctx.plan.changes() == 0:
            return [summary(self.ctx.plan)]
        return []

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Start is shown disabled while starting would be refused (Next says why)."""
        if action == "start":
            return None if self.blockers() else True
        return True

    def action_next(self) -> None:
        self.action_start()

    def action_start(self) -> None:
        reasons = self.blockers()
        if reasons:
            self.notify(reasons[0], title="Cannot start", severity="error", timeout=8)
            return
        from khatui.views.preview import summary

        rollout, plan = self.ctx.rollout, self.ctx.plan
        assert rollout is not None and plan is not None

        def answered(yes: bool | None) -> None:
            if yes:
                self.query_one("#summary", Static).update(Text("recording the rollout …", "yellow"))
                self.record_rollout(rollout)

        self.app.push_screen(
            ConfirmDialog("Start the rollout", f"apply: {summary(plan)}?", yes="Start rollout", no="Not now"),
            answered,
        )
