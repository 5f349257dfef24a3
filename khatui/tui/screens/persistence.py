"""Step 7: the StorageClasses, each with its backend's fields; one of them the default.

No class means no persistence backend (allowed). The class dialog takes its fields from the
backend's spec model; changing the backend keeps the name, default flag and reclaim policy.
"""

from __future__ import annotations

from functools import partial
from typing import Any, ClassVar

from pydantic import BaseModel
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable

from khatui.spec.persistence import (
    BACKENDS,
    AWSEBSClass,
    AzureDiskClass,
    CephRBDClass,
    GCEPDClass,
    GlusterFSClass,
    ISCSIClass,
    LocalClass,
    NFSClass,
)
from khatui.spec.problems import Path, Severity
from khatui.tui.screens.base import WizardStep
from khatui.tui.screens.dialogs import ConfirmDialog
from khatui.tui.screens.item_form import ItemForm
from khatui.tui.state import WizardState, format_value
from khatui.tui.widgets.field import ChoiceField
from khatui.tui.widgets.modelform import model_fields
from khatui.tui.widgets.plain_table import PlainTable

CLASSES: Path = ("spec", "persistence", "classes")
MODELS: dict[str, type[BaseModel]] = {
    "local": LocalClass,
    "nfs": NFSClass,
    "iscsi": ISCSIClass,
    "glusterfs": GlusterFSClass,
    "ceph-rbd": CephRBDClass,
    "aws-ebs": AWSEBSClass,
    "gce-pd": GCEPDClass,
    "azure-disk": AzureDiskClass,
}
COMMON = ("name", "default", "reclaimPolicy")


def class_summary(item: dict[str, Any]) -> str:
    """The backend's own settings in one line."""
    skip = {"name", "backend", "default", "reclaimPolicy"}
    return "; ".join(f"{k}={format_value(v)}" for k, v in item.items() if k not in skip and not isinstance(v, dict))


class StorageClassForm(ItemForm):
    """Add or edit one StorageClass."""

    TITLE_TEXT = "StorageClass"

    def __init__(self, state: WizardState, index: int | None, item: dict[str, Any]) -> None:
        item = item or {"backend": "nfs"}
        super().__init__(state, CLASSES, index, item)

    def fields(self) -> ComposeResult:
        yield ChoiceField("backend", ("backend",), [(b, b) for b in BACKENDS], self.draft.get("backend"))
        yield Vertical(id="backend-fields")

    def on_mount(self) -> None:
        self.mount_backend()
        super().on_mount()

    def mount_backend(self) -> None:
        container = self.query_one("#backend-fields", Vertical)
        container.remove_children()
        model = MODELS.get(str(self.draft.get("backend")))
        if model is not None:
            container.mount_all(list(model_fields(model, (), self.draft, skip=frozenset({"backend"}))))
        self.call_after_refresh(self.revalidate)

    def after_change(self, path: Path) -> None:
        if path == ("backend",):
            backend = self.draft.get("backend")
            keep = {k: v for k, v in self.draft.items() if k in COMMON}
            self.draft.clear()
            self.draft.update({"backend": backend, **keep})
            self.mount_backend()


class PersistenceScreen(WizardStep):
    """The StorageClass table."""

    STEP = "persistence"
    HEADING = "Persistence"
    HINT = "StorageClasses for workloads (none is fine); one may be the default."
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", "Add"),
        Binding("e", "edit", "Edit"),
        Binding("d,delete", "remove", "Remove"),
        Binding("space", "default", "Make default"),
    ]

    def body(self) -> ComposeResult:
        table = PlainTable(id="classes", cursor_type="row", zebra_stripes=True)
        table.add_columns("name", "backend", "default", "settings")
        yield table

    def on_mount(self) -> None:
        super().on_mount()
        self.fill_table()
        self.query_one("#classes", DataTable).focus()

    def owns(self, path: Path) -> bool:
        return path[:2] == ("spec", "persistence")

    @property
    def storage_classes(self) -> list[dict[str, Any]]:
        items = self.state.get(CLASSES)
        return items if isinstance(items, list) else []

    def fill_table(self) -> None:
        table = self.query_one("#classes", DataTable)
        row = table.cursor_row
        table.clear()
        for index, item in enumerate(self.storage_classes):
            errors = [p for p in self.state.problems_at((*CLASSES, index)) if p.severity is Severity.ERROR]
            table.add_row(
                Text(("✗ " if errors else "") + str(item.get("name", "")), "red" if errors else ""),
                str(item.get("backend", "")),
                "✓ default" if item.get("default") else "",
                class_summary(item),
                key=str(index),
            )
        if not self.storage_classes:
            table.add_row(Text("(no StorageClass: press a to add one)", "dim"), "", "", "")
        elif row >= 0:
            table.move_cursor(row=min(row, len(self.storage_classes) - 1))
        self.show_problems()

    def selected(self) -> int | None:
        table = self.query_one("#classes", DataTable)
        if not self.storage_classes:
            return None
        return min(max(table.cursor_row, 0), len(self.storage_classes) - 1)

    def action_add(self) -> None:
        self.app.push_screen(StorageClassForm(self.state, None, {}), partial(self._stored, None))

    def action_edit(self) -> None:
        index = self.selected()
        if index is None:
            self.action_add()
            return
        self.app.push_screen(
            StorageClassForm(self.state, index, self.storage_classes[index]), partial(self._stored, index)
        )

    @on(DataTable.RowSelected, "#classes")
    def _row_selected(self) -> None:
        self.action_edit()

    def _stored(self, index: int | None, item: dict[str, Any] | None) -> None:
        if item is not None:
            self.state.put_item(CLASSES, index, item)
            self.ctx.forget_observation()
            self.fill_table()

    def action_remove(self) -> None:
        index = self.selected()
        if index is None:
            return

        def answered(yes: bool | None) -> None:
            if yes and index is not None:
                self.state.remove(CLASSES, index)
                self.ctx.forget_observation()
                self.fill_table()

        name = self.storage_classes[index].get("name", "")
        self.app.push_screen(ConfirmDialog("Remove StorageClass", f"Remove {name}?", yes="Remove"), answered)

    def action_default(self) -> None:
        index = self.selected()
        if index is None:
            return
        for position in range(len(self.storage_classes)):
            self.state.set((*CLASSES, position, "default"), True if position == index else None)
        self.ctx.forget_observation()
        self.fill_table()
