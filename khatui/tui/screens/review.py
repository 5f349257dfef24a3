"""Step 8: the dry run. The same plan preview as `khatui plan` (the core's `render_plan`), the
certificates, the warnings; save the spec; confirm to start the rollout.

Planning runs in a thread worker (`Rollout.make_plan` on the rollout preflight observed, else on a
fresh `Services.open`). Without current facts (the offline preview from preflight) the plan treats
every node as empty and the rollout cannot start.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.table import Table
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
    """The worker's result: the rollout and its plan."""

    rollout: Rollout
    plan: Plan


def certificates(desired: Desired) -> Table:
    """Certificate subjects and expiry, as the preview shows them (never keys)."""
    table = Table(title="Certificates", title_justify="left", show_edge=False, expand=True)
    table.add_column("certificate (/etc/kubernetes/pki/)", ratio=1, overflow="fold")
    table.add_column("summary", ratio=2)
    by_path: dict[str, dict[str, list[str]]] = {}
    for (node, path), text in sorted(desired.cert_summaries.items()):
        by_path.setdefault(path, {}).setdefault(text, []).append(node)
    for path, texts in sorted(by_path.items()):
        name = path.removeprefix("/etc/kubernetes/pki/")
        for text, nodes in texts.items():
            # One row when every node has the same certificate (a CA); else one per node's own leaf.
            label = name if len(texts) == 1 else f"{name} ({', '.join(nodes)})"
            table.add_row(Text(label), Text(text))  # Text: never read as markup
    return table


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
        current = self.ctx.rollout if self.ctx.observation_current() else None
        self.make_plan(str(self.state.path), current)

    @work(thread=True, name="plan", group="review", exclusive=True, exit_on_error=False)
    def make_plan(self, spec_path: str, rollout: Rollout | None) -> Planned:
        rollout = rollout or self.ctx.services.open(spec_path, self.ctx.rollout_options(None))
        return Planned(rollout, rollout.make_plan())

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
        offline = "" if observed is not None else "  (offline: no facts, every file shown as new)"
        self.query_one("#summary", Static).update(Text.assemble((summary(planned.plan), "bold"), (offline, "yellow")))
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
            return ["this is an offline preview: run preflight (ctrl+b) on the current spec to start a rollout"]
        if observed.unreachable or observed.blocking:
            return ["preflight did not pass: go back (ctrl+b) to fix or waive the failing checks"]
        if self.ctx.plan.changes() == 0:
            return [summary(self.ctx.plan)]
        return []

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
