"""Import nodes from ~/.ssh/config or an Ansible/Kubespray inventory (the core's importers).

Same choices as `khatui import`: an ssh config says how to reach hosts, not what they run, so the
operator names the hosts per role (comma-separated names or ssh patterns); an Ansible inventory
already has groups. Notices about anything not imported are shown afterwards.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from khatui.errors import KhatuiError
from khatui.inventory.ansible import import_ansible
from khatui.inventory.assemble import cluster_document
from khatui.inventory.ssh_config import Selection, import_ssh_config
from khatui.tui.screens.dialogs import DIALOG_CSS
from khatui.tui.state import parse_list


@dataclass
class Imported:
    """What an import gives the inventory step."""

    nodes: list[dict[str, Any]]
    topology: str | None = None
    notices: list[str] = field(default_factory=list)


SSH_FIELDS = (
    ("hosts", "hosts (patterns)"),
    ("control_plane", "control-plane"),
    ("etcd", "etcd (default: cps)"),
    ("worker", "worker"),
    ("lb", "lb"),
)


class ImportDialog(ModalScreen[Imported | None]):
    """Pick a source and a file; ctrl+s imports."""

    DEFAULT_CSS = (
        """
    ImportDialog { align: center middle; }
    ImportDialog .row { height: 1; margin-bottom: 0; }
    ImportDialog .row Label { width: 22; color: $text-muted; }
    ImportDialog .row Input, ImportDialog .row Select { width: 1fr; }
    ImportDialog .ssh-only.-hidden, ImportDialog .ansible-only.-hidden { display: none; }
    """
        + DIALOG_CSS
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "run", "Import"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Import nodes", classes="dialog--title")
            with Horizontal(classes="row"):
                yield Label("source")
                yield Select(
                    [("~/.ssh/config (OpenSSH)", "ssh-config"), ("Ansible / Kubespray inventory", "ansible")],
                    value="ssh-config",
                    allow_blank=False,
                    id="source",
                    compact=True,
                )
            with Horizontal(classes="row"):
                yield Label("file")
                yield Input("~/.ssh/config", id="file", compact=True)
            for key, label in SSH_FIELDS:
                with Horizontal(classes="row ssh-only"):
                    yield Label(label)
                    yield Input(id=key, placeholder="names or patterns, comma-separated", compact=True)
            with Horizontal(classes="row ansible-only -hidden"):
                yield Label("lb hosts")
                yield Input(id="ansible-lb", placeholder="inventory hosts that get the lb role", compact=True)
            yield Static("The imported nodes replace the node table.", classes="dialog--body")
            with Horizontal(classes="dialog--buttons"):
                yield Button("Import (^s)", id="run", variant="primary", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#file", Input).focus()

    @on(Select.Changed, "#source")
    def _source(self, event: Select.Changed) -> None:
        ssh = event.value == "ssh-config"
        for widget in self.query(".ssh-only"):
            widget.set_class(not ssh, "-hidden")
        for widget in self.query(".ansible-only"):
            widget.set_class(ssh, "-hidden")
        if not ssh and self.query_one("#file", Input).value == "~/.ssh/config":
            self.query_one("#file", Input).value = "inventory/hosts.yaml"

    def _text(self, widget_id: str) -> list[str]:
        return parse_list(self.query_one(f"#{widget_id}", Input).value)

    def action_run(self) -> None:
        path = os.path.expanduser(self.query_one("#file", Input).value.strip())
        try:
            if self.query_one("#source", Select).value == "ansible":
                result = import_ansible(path, lb_hosts=self._text("ansible-lb"))
            else:
                selection = Selection(
                    hosts=self._text("hosts"),
                    control_plane=self._text("control_plane"),
                    etcd=self._text("etcd"),
                    worker=self._text("worker"),
                    lb=self._text("lb"),
                )
                result = import_ssh_config(path, selection)
        except KhatuiError as exc:
            self.notify(exc.message, title="Cannot import", severity="error", timeout=10)
            return
        document = cluster_document(result, "imported")
        self.dismiss(
            Imported(
                [node.to_data() for node in result.nodes],
                document["spec"]["etcd"]["topology"],
                [str(notice) for notice in result.sorted_notices()],
            )
        )

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#run")
    def _run(self) -> None:
        self.action_run()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.action_cancel()
