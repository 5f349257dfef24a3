"""Step 2: the machines. A table of nodes; add, edit, remove, import; a live connection probe.

The probe runs per node in a thread worker through the engine's SSH session (`Services.probe`); an
unknown host key stops it on the host key dialog until the operator accepts or refuses.
"""

from __future__ import annotations

from functools import partial
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static
from textual.worker import Worker, WorkerState

from khatui.errors import KhatuiError
from khatui.spec.cluster import Cluster
from khatui.spec.problems import Path, Severity
from khatui.tui.screens.base import WizardStep
from khatui.tui.screens.dialogs import ConfirmDialog, MessageDialog
from khatui.tui.screens.import_dialog import ImportDialog, Imported
from khatui.tui.screens.node_form import NodeForm
from khatui.tui.services import ProbeResult, spec_base_dir
from khatui.tui.widgets.field import TextField
from khatui.tui.widgets.plain_table import PlainTable

NODES: Path = ("spec", "nodes")


def ssh_summary(node: dict[str, Any]) -> str:
    """'ops@host:2222 via bastion, sudo' (empty for root on port 22)."""
    ssh = node.get("ssh") or {}
    text = ""
    user, port, host = ssh.get("user"), ssh.get("port"), ssh.get("host")
    if user or host or port:
        text = f"{user or 'root'}@{host or node.get('address', '')}" + (f":{port}" if port else "")
    if ssh.get("jumpHost"):
        text += f" via {ssh['jumpHost']}"
    if ssh.get("sudo"):
        text += ", sudo"
    if ssh.get("identityFile"):
        text += f", key {str(ssh['identityFile']).rsplit('/', 1)[-1]}"
    return text.strip(", ")


def probe_cell(result: ProbeResult | None, running: bool) -> Text:
    """The probe column, short enough for 80 columns: running, the verdict, or nothing yet (the line
    under the table says it in full)."""
    if running:
        return Text("probing…", "yellow")
    if result is None:
        return Text("–", "dim")
    if not result.ok:
        return Text("✗ failed", "red")
    return Text("✓ root", "green") if result.sudo else Text("✓ NOT root", "yellow")


def probe_line(node: str, result: ProbeResult | None, running: bool) -> Text:
    """The whole probe result of `node`, for the line under the table."""
    if running:
        return Text(f"{node}: probing …", "yellow")
    if result is None:
        return Text(f"{node}: not probed yet (p probes it, P every node)", "dim")
    if not result.ok:
        return Text(f"{node}: ✗ {result.detail.removeprefix(f'{node}: ')}", "red")
    root = "commands run as root" if result.sudo else "NOT root: commands cannot run as root"
    line = Text(f"{node}: ✓ {result.detail}, {root}", "green" if result.sudo else "yellow")
    if result.host_key:
        line.append(f"; host key {result.host_key}", "dim")
    return line


class InventoryScreen(WizardStep):
    """The node table."""

    STEP = "inventory"
    HEADING = "Nodes"
    HINT = "The machines, their roles and how to reach them over SSH."
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", "Add"),
        Binding("e", "edit", "Edit"),
        Binding("d,delete", "remove", "Remove"),
        Binding("i", "import", "Import"),
        Binding("p", "probe", "Probe"),
        Binding("P", "probe_all", "Probe all", show=False),
    ]

    def body(self) -> ComposeResult:
        yield TextField("cluster name", ("metadata", "name"), self.state.get(("metadata", "name")))
        table = PlainTable(id="nodes", cursor_type="row", zebra_stripes=True)
        table.add_columns("name", "address", "roles", "probe", "ssh")
        yield table
        yield Static("", id="probe-detail")

    def on_mount(self) -> None:
        super().on_mount()
        self.fill_table()
        table = self.query_one("#nodes", DataTable)
        if self.state.nodes:
            table.focus()
        else:
            self.query_one(TextField).focus_control()

    # -- problems: the nodes' own fields; role relationships are the etcd step's ---------------------
    def owns(self, path: Path) -> bool:
        if path[:1] == ("metadata",):
            return True
        if path[:2] != NODES or len(path) < 3:
            return False
        shaped = self.state.cluster is not None
        return not (shaped and len(path) > 3 and path[3] == "roles")

    def blockers(self) -> list[str]:
        if not self.state.nodes:
            return ["add at least one node (a), or import them (i)"]
        return super().blockers()

    def changed(self, path: Path) -> None:
        self.ctx.forget_observation()

    # -- the table ------------------------------------------------------------------------------------
    def fill_table(self) -> None:
        table = self.query_one("#nodes", DataTable)
        row = table.cursor_row
        table.clear()
        running = self.probing()
        for index, node in enumerate(self.state.nodes):
            errors = [
                p for p in self.state.problems_at((*NODES, index)) if p.severity is Severity.ERROR and self.owns(p.path)
            ]
            name = Text(("✗ " if errors else "") + str(node.get("name", "")), "red" if errors else "")
            table.add_row(
                name,
                str(node.get("address", "")),
                ", ".join(node.get("roles") or []),
                probe_cell(self.ctx.probes.get(str(node.get("name"))), str(node.get("name")) in running),
                ssh_summary(node),
                key=str(index),
            )
        if self.state.nodes:
            table.move_cursor(row=min(row, len(self.state.nodes) - 1))
        self.show_probe()
        self.show_problems()

    @on(DataTable.RowHighlighted, "#nodes")
    def show_probe(self) -> None:
        """The highlighted node's probe result in full, under the table."""
        index = self.selected()
        detail = self.query_one("#probe-detail", Static)
        if index is None:
            detail.update("")
            return
        name = str(self.state.nodes[index].get("name", ""))
        detail.update(probe_line(name, self.ctx.probes.get(name), name in self.probing()))

    def workers_running(self) -> list[Worker[Any]]:
        return [w for w in self.workers if w.node is self and w.group == "probe" and not w.is_finished]

    def probing(self) -> set[str]:
        """The nodes a probe runs on now."""
        return {(w.name or "").removeprefix("probe ") for w in self.workers_running()}

    def selected(self) -> int | None:
        table = self.query_one("#nodes", DataTable)
        if not self.state.nodes or table.cursor_row < 0:
            return None
        return min(table.cursor_row, len(self.state.nodes) - 1)

    # -- editing --------------------------------------------------------------------------------------
    def action_add(self) -> None:
        self.app.push_screen(NodeForm(self.state, None, {}), partial(self._stored, None))

    def action_edit(self) -> None:
        index = self.selected()
        if index is None:
            self.action_add()
            return
        self.app.push_screen(NodeForm(self.state, index, self.state.nodes[index]), partial(self._stored, index))

    @on(DataTable.RowSelected, "#nodes")
    def _row_selected(self) -> None:
        self.action_edit()

    def _stored(self, index: int | None, node: dict[str, Any] | None) -> None:
        if node is None:
            return
        self.state.put_item(NODES, index, node)
        self.ctx.forget_observation()
        self.fill_table()
        if index is None:
            self.query_one("#nodes", DataTable).move_cursor(row=len(self.state.nodes) - 1)

    def action_remove(self) -> None:
        index = self.selected()
        if index is None:
            return
        name = self.state.nodes[index].get("name", f"#{index + 1}")

        def answered(yes: bool | None) -> None:
            if yes:
                self.state.remove(NODES, index)
                self.ctx.forget_observation()
                self.fill_table()

        self.app.push_screen(ConfirmDialog("Remove node", f"Remove node {name} from the spec?", yes="Remove"), answered)

    def action_import(self) -> None:
        self.app.push_screen(ImportDialog(), self._imported)

    def _imported(self, imported: Imported | None) -> None:
        if imported is None:
            return
        self.state.set(NODES, imported.nodes)
        if imported.topology:
            self.state.set(("spec", "etcd", "topology"), imported.topology)
        self.ctx.forget_observation()
        self.fill_table()
        if imported.notices:
            self.app.push_screen(MessageDialog(f"Imported {len(imported.nodes)} nodes", "\n".join(imported.notices)))
        else:
            self.notify(f"imported {len(imported.nodes)} nodes")

    # -- probing --------------------------------------------------------------------------------------
    def _cluster(self) -> Cluster | None:
        cluster = self.state.cluster
        if cluster is None:
            self.notify("fix the spec's errors first: probing needs every node's address", severity="error")
        return cluster

    def action_probe(self) -> None:
        index = self.selected()
        cluster = self._cluster()
        if index is None or cluster is None:
            return
        self.probe(cluster, cluster.spec.nodes[index].name)

    def action_probe_all(self) -> None:
        cluster = self._cluster()
        if cluster is None:
            return
        for node in cluster.spec.nodes:
            self.probe(cluster, node.name)

    def probe(self, cluster: Cluster, node: str) -> None:
        """Connect to `node` in a thread worker: SSH, root, OS, host key."""
        call = partial(
            self.ctx.services.probe, cluster, spec_base_dir(self.state.path), node, getattr(self.app, "gate", None)
        )
        self.run_worker(call, name=f"probe {node}", group="probe", thread=True, exit_on_error=False)
        self.fill_table()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group != "probe" or not worker.is_finished:
            return
        node = (worker.name or "").removeprefix("probe ")
        if event.state is WorkerState.SUCCESS and isinstance(worker.result, ProbeResult):
            self.ctx.probes[node] = worker.result
        elif event.state is WorkerState.ERROR:
            error = worker.error
            detail = error.message if isinstance(error, KhatuiError) else f"{type(error).__name__}: {error}"
            self.ctx.probes[node] = ProbeResult(node, False, detail)
        self.fill_table()
