"""The add/edit node dialog of the inventory step: name, address, roles, SSH settings."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult

from khatui.inventory.result import ROLE_ORDER
from khatui.spec.nodes import SSHSettings
from khatui.spec.problems import Problem
from khatui.tui.screens.item_form import ItemForm
from khatui.tui.state import WizardState
from khatui.tui.widgets.field import TextField, TogglesField
from khatui.tui.widgets.modelform import model_fields


class NodeForm(ItemForm):
    """Add or edit one node."""

    TITLE_TEXT = "Node"

    def __init__(self, state: WizardState, index: int | None, node: dict[str, Any]) -> None:
        super().__init__(state, ("spec", "nodes"), index, node)
        self.title_text = "Add a node" if index is None else f"Edit node {node.get('name', '')}"

    def fields(self) -> ComposeResult:
        draft = self.draft
        yield TextField("name", ("name",), draft.get("name"), placeholder="required: a DNS label, e.g. cp1")
        yield TextField("address", ("address",), draft.get("address"), placeholder="required: IPv4 or IPv6")
        yield TogglesField("roles", ("roles",), [str(r) for r in ROLE_ORDER], draft.get("roles") or [])
        yield from model_fields(SSHSettings, ("ssh",), draft, label_prefix="ssh.")

    def blocking(self) -> list[Problem]:
        # With the spec's shape right, role problems come from the cross-field rules (stacked etcd
        # wants control-plane + etcd together): the etcd step resolves them, possibly by topology.
        shaped = self.report is not None and self.report.cluster is not None
        return [p for p in super().blocking() if not (shaped and p.path[:1] == ("roles",))]
