"""Step 8: connect to every node, gather facts, and show the preflight matrix (nodes x checks).

The spec is saved first: the core reads the saved file, exactly as `khatui plan` would. Observing
runs in a thread worker: a `Rollout` from `Services.open`, then its `observe` (host key questions
appear as dialogs); the rollout is kept for the review step. Moving the cursor over a cell shows
that check's evidence; `w` waives a failed check for that node (`Rollout.waive` judges the same
facts again, without connecting).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Static
from textual.worker import Worker, WorkerState

from khatui.errors import KhatuiError
from khatui.preflight import mesh
from khatui.preflight.checks import CHECKS, CheckResult, Status
from khatui.spec.problems import Path
from khatui.tui.screens.base import Navigate, WizardStep
from khatui.tui.widgets.plain_table import PlainTable

if TYPE_CHECKING:
    from khatui.rollout.rollout import Rollout

COLUMNS = (*CHECKS, mesh.CHECK)
"""The per-node checks, then the network mesh."""
SHORT = {
    "os": "os",
    "swap": "swp",
    "resources": "res",
    "clock": "clk",
    "ports": "prt",
    "ipvs-modules": "ipv",
    "binaries": "bin",
    "ip-forward": "fwd",
    "etcd-members": "etm",
    "etcd-version": "etv",
    "cri-socket": "cri",
    "cgroup-driver": "cgr",
    "kubeadm-executables": "kad",
    "kubelet-version": "klv",
    "install": "ins",
    "network": "net",
}
"""Column titles of three letters: every check fits 80 columns (the evidence line names it in full)."""
CELL = 4
"""Width of a check's column: its title or mark and a space."""
MARK = {Status.PASS: ("✓", "green"), Status.WARN: ("!", "yellow"), Status.FAIL: ("✗", "bold red")}
WAIVED, DOWN = ("w", "dim"), ("↓", "bold red")
LEGEND = Text("✓ ok  ! warning  ✗ fails  w waived  ↓ unreachable", "dim")
WORD = {Status.PASS: "ok", Status.WARN: "warn", Status.FAIL: "FAIL"}


class PreflightScreen(WizardStep):
    """The preflight matrix."""

    STEP = "preflight"
    HEADING = "Preflight"
    HINT = "Read-only checks on every node; arrows pick a cell, its evidence below."
    ALL_CLEAR = "✓ the spec itself has no problems"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "rerun", "Re-run"),
        Binding("w", "waive", "Waive/unwaive"),
        Binding("o", "offline", "Offline preview"),
    ]

    def body(self) -> ComposeResult:
        yield Static("", id="status")
        table = PlainTable(id="matrix", cursor_type="cell", cell_padding=0)
        yield table
        yield Static(LEGEND, id="legend")
        yield Static("", id="evidence")

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one("#matrix", DataTable)
        # Fixed widths: the rows arrive from a worker, and columns sized by content would change
        # width under the operator's eyes (and between two screenshots).
        names = [str(node.get("name", "")) for node in self.state.nodes]
        table.add_column("node", key="node", width=max([4, *map(len, names)]) + 1)
        for check in COLUMNS:
            table.add_column(SHORT.get(check, check[:3]), key=check, width=CELL)
        if self.ctx.observation_current():
            self.show_matrix()
        else:
            self.action_rerun()
        table.focus()

    def owns(self, path: Path) -> bool:
        return True

    # -- running ------------------------------------------------------------------------------------
    def action_rerun(self) -> None:
        if self.state.problems(errors_only=True):
            self.status("the spec has errors: fix them in the earlier steps first", "red")
            return
        if self.state.path is None:
            self.call_later(self.app.run_action, "save")
            self.status("save the spec first (the core reads the saved file), then press r", "yellow")
            return
        try:
            if self.state.dirty:  # the core reads the file: it must hold what the wizard shows
                self.state.save()
        except KhatuiError as exc:
            self.status(exc.message, "red")
            return
        self.ctx.forget_observation()
        self.status(f"connecting to {len(self.state.nodes)} nodes (spec: {self.state.path}) …", "yellow")
        self.observe(str(self.state.path))

    @work(thread=True, name="preflight", group="preflight", exclusive=True, exit_on_error=False)
    def observe(self, spec_path: str) -> Rollout:
        rollout = self.ctx.services.open(spec_path, self.ctx.rollout_options(getattr(self.app, "gate", None)))
        rollout.observe()
        return rollout

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.name != "preflight":
            return
        if event.state is WorkerState.SUCCESS:
            self.ctx.rollout = event.worker.result
            self.ctx.observed_yaml = self.state.to_yaml()
            self.show_matrix()
        elif event.state is WorkerState.ERROR:
            error = event.worker.error
            message = error.message if isinstance(error, KhatuiError) else f"{type(error).__name__}: {error}"
            self.status(f"preflight could not run: {message}", "red")

    # -- showing ------------------------------------------------------------------------------------
    def status(self, text: str, style: str = "") -> None:
        self.query_one("#status", Static).update(Text(text, style))

    def show_matrix(self) -> None:
        observed = self.ctx.observed
        if observed is None:
            return
        table = self.query_one("#matrix", DataTable)
        coordinate = table.cursor_coordinate
        table.clear()
        cells = {(r.node, r.check): r for r in observed.checks}
        for node in dict.fromkeys(r.node for r in observed.checks):
            row: list[str | Text] = [node]
            for check in COLUMNS:
                result = cells.get((node, check))
                if node in observed.unreachable:
                    row.append(Text(*DOWN))
                elif result is None:
                    row.append("")
                else:
                    row.append(
                        Text(*WAIVED) if result.waived and result.status is Status.FAIL else Text(*MARK[result.status])
                    )
            table.add_row(*row, key=node)
        table.cursor_coordinate = coordinate if coordinate.column else Coordinate(coordinate.row, 1)
        blocking = observed.blocking
        if observed.unreachable or blocking:
            self.status(
                f"{len(observed.unreachable)} unreachable, {len(blocking)} failing: fix and re-run (r), or waive (w)",
                "red",
            )
        else:
            warns = sum(1 for r in observed.checks if r.status is Status.WARN)
            waived = [f"{r.check} on {r.node}" for r in observed.checks if r.waived and r.status is Status.FAIL]
            if waived:
                self.status(
                    f"no check blocks on {len(observed.facts)} nodes, {len(waived)} waived: {', '.join(waived)}"
                    f" ({warns} warnings)",
                    "yellow",
                )
            else:
                self.status(f"all checks pass on {len(observed.facts)} nodes ({warns} warnings)", "green")
        self.show_evidence(table.cursor_coordinate)

    def cell(self, coordinate: Coordinate) -> tuple[str, str] | None:
        """(node, check) under `coordinate` (None on the node column or an empty table)."""
        observed = self.ctx.observed
        if observed is None or coordinate.column == 0:
            return None
        nodes = list(dict.fromkeys(r.node for r in observed.checks))
        checks = list(COLUMNS)
        if not 0 <= coordinate.row < len(nodes) or not 0 < coordinate.column <= len(checks):
            return None
        return nodes[coordinate.row], checks[coordinate.column - 1]

    def result(self, node: str, check: str) -> CheckResult | None:
        observed = self.ctx.observed
        if observed is None:
            return None
        return next((r for r in observed.checks if r.node == node and r.check == check), None)

    @on(DataTable.CellHighlighted, "#matrix")
    def _highlighted(self, event: DataTable.CellHighlighted) -> None:
        self.show_evidence(event.coordinate)

    def show_evidence(self, coordinate: Coordinate) -> None:
        evidence = self.query_one("#evidence", Static)
        where = self.cell(coordinate)
        observed = self.ctx.observed
        if where is None or observed is None:
            evidence.update(Text("move to a cell to see what the check saw", "dim"))
            return
        node, check = where
        if node in observed.unreachable:
            error = observed.unreachable[node].removeprefix(f"{node}: ")
            evidence.update(Text(f"{node} is unreachable (every check needs its facts): {error}", "red"))
            return
        result = self.result(node, check)
        if result is None:
            evidence.update("")
            return
        text = Text.assemble((f"{node} · {check}: ", "bold"), (WORD[result.status], MARK[result.status][1]))
        if result.waived and result.status is Status.FAIL:
            text.append(" (waived)", "dim")
        text.append(f"\n{result.evidence}")
        evidence.update(text)

    # -- waivers and leaving ----------------------------------------------------------------------------
    def action_waive(self) -> None:
        where = self.cell(self.query_one("#matrix", DataTable).cursor_coordinate)
        rollout = self.ctx.rollout
        if where is None or rollout is None or rollout.observed is None:
            return
        node, check = where
        result = self.result(node, check)
        if node in rollout.observed.unreachable:
            self.notify(f"{node} is unreachable: no waiver stands in for its facts", severity="warning")
            return
        if result is None or result.status is not Status.FAIL:
            self.notify(f"{check} does not fail on {node}: only a failing check can be waived", severity="warning")
            return
        waiver = f"{check}:{node}"
        self.ctx.waivers.symmetric_difference_update({waiver})
        rollout.waive(tuple(sorted(self.ctx.waivers)))
        self.show_matrix()

    def blockers(self) -> list[str]:
        observed = self.ctx.observed
        if not self.ctx.observation_current() or observed is None:
            return ["preflight has not run on the spec as it is now (r), or preview offline (o)"]
        reasons = [f"{node} is unreachable: {error}" for node, error in observed.unreachable.items()]
        reasons += [f"{c.check} fails on {c.node}: {c.evidence} (w waives it)" for c in observed.blocking]
        return reasons

    def action_offline(self) -> None:
        """Review the plan without facts (every file new); the rollout cannot start from there."""
        self.ctx.offline = True
        self.post_message(Navigate("review"))
