"""Modal questions with typed answers: confirm, host key, save as, quit during a rollout.

Each dismisses with its answer (`push_screen(dialog, callback)`); escape is always the safe choice
(no, refuse, cancel). Buttons are focusable and reachable with tab, and each has a letter key.
"""

from __future__ import annotations

from typing import ClassVar

from rich.console import RenderableType
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

DIALOG_CSS = """
.dialog {
    width: 76;
    max-width: 100%;
    height: auto;
    max-height: 100%;
    border: thick $primary;
    background: $surface;
    padding: 0 1;
}
.dialog--title {
    text-style: bold;
    width: 1fr;
}
.dialog--body {
    height: auto;
    max-height: 16;
    margin: 1 0;
}
.dialog--buttons {
    height: auto;
    align-horizontal: right;
}
.dialog--buttons Button {
    margin-left: 1;
}
"""


class ConfirmDialog(ModalScreen[bool]):
    """A yes/no question; escape or n answers no."""

    DEFAULT_CSS = "ConfirmDialog { align: center middle; }" + DIALOG_CSS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,n", "answer(False)", "No"),
        Binding("y", "answer(True)", "Yes"),
    ]

    def __init__(self, title: str, body: RenderableType, yes: str = "Yes", no: str = "No") -> None:
        super().__init__()
        self.title_text = title
        self.body = body
        self.yes, self.no = yes, no

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog--title", markup=False)
            with VerticalScroll(classes="dialog--body"):
                yield Static(Text(self.body) if isinstance(self.body, str) else self.body)
            with Horizontal(classes="dialog--buttons"):
                yield Button(f"{self.yes} (y)", id="yes", variant="primary", compact=True)
                yield Button(f"{self.no} (n)", id="no", compact=True)

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class HostKeyDialog(ConfirmDialog):
    """An unknown host key: accept and pin it, or refuse the connection."""

    def __init__(self, host: str, key_type: str, fingerprint: str) -> None:
        body = (
            f"{host} presents a host key khatui has never seen:\n\n"
            f"  {key_type} {fingerprint}\n\n"
            "Compare it with the node's own (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub on its console).\n"
            "Accepting pins it: a different key later is always refused."
        )
        super().__init__("Unknown host key", body, yes="Accept", no="Refuse")
        self.host = host
        self.fingerprint = fingerprint


class SaveDialog(ModalScreen[str | None]):
    """Ask where to save the spec; enter saves, escape cancels."""

    DEFAULT_CSS = "SaveDialog { align: center middle; }" + DIALOG_CSS
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Save the cluster spec (YAML) to", classes="dialog--title")
            yield Input(self.path, id="path", compact=True)
            yield Static("enter saves · escape cancels", classes="dialog--body")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class QuitDialog(ModalScreen[str]):
    """Quitting while a rollout runs: hand it to a background process, abort it, or stay."""

    DEFAULT_CSS = "QuitDialog { align: center middle; }" + DIALOG_CSS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,c", "answer('cancel')", "Stay"),
        Binding("d", "answer('detach')", "Keep running in the background"),
        Binding("a", "answer('abort')", "Abort and quit"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("A rollout is running", classes="dialog--title")
            yield Static(
                "Keep running: no new step starts here; once the running commands finish, a background "
                "process continues the rollout from the journal and khatui quits (`khatui attach` follows it).\n\n"
                "Abort: no new step starts, running commands finish, then khatui quits; "
                "`khatui resume` continues later from the journal.",
                classes="dialog--body",
            )
            with Horizontal(classes="dialog--buttons"):
                yield Button("Keep running (d)", id="detach", variant="primary", compact=True)
                yield Button("Abort and quit (a)", id="abort", variant="error", compact=True)
                yield Button("Stay (c)", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    def action_answer(self, answer: str) -> None:
        self.dismiss(answer)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or "cancel")


class MessageDialog(ModalScreen[None]):
    """Text to read (import notices, a spec diff); any of enter or escape closes it."""

    DEFAULT_CSS = "MessageDialog { align: center middle; }" + DIALOG_CSS
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,enter", "close", "Close")]

    def __init__(self, title: str, body: RenderableType) -> None:
        super().__init__()
        self.title_text = title
        self.body = body

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog--title", markup=False)
            with VerticalScroll(classes="dialog--body"):
                yield Static(Text(self.body) if isinstance(self.body, str) else self.body)
            with Horizontal(classes="dialog--buttons"):
                yield Button("Close", id="close", compact=True)

    def on_mount(self) -> None:
        self.query_one("#close", Button).focus()

    def action_close(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed)
    def _pressed(self) -> None:
        self.dismiss(None)
