"""The khatui app and its factory, shared by `khatui` (the CLI) and the tests.

The app only routes: it shows the wizard step a screen asks for (`Navigate`), saves the spec,
opens help and the command palette, and guards quitting during a rollout. Each step is built fresh
from the shared `WizardContext`, so a step never holds an answer the spec does not. A step's module
is imported when the step is first shown (the later steps use the spec models, the plan, the
inventory importers): the first frame only waits for the first step.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.command import DiscoveryHit, Hits, Provider
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.system_commands import SystemCommandsProvider

from khatui.errors import KhatuiError
from khatui.tui.context import WizardContext
from khatui.tui.hostkey_gate import HostKeyGate
from khatui.tui.screens.base import STEPS, WIDE, Navigate, RolloutRequested, WizardStep
from khatui.tui.screens.dialogs import QuitDialog, SaveDialog
from khatui.tui.screens.help import HelpScreen
from khatui.tui.screens.start import ResumeRequested
from khatui.tui.services import EngineServices, Services
from khatui.tui.state import WizardState

if TYPE_CHECKING:
    from khatui.rollout.rollout import EngineOptions, Rollout
    from khatui.tui.screens.rollout import RolloutScreen

HERE = Path(__file__).resolve().parent
STEP_SCREENS: dict[str, str] = {
    "start": "start:StartScreen",
    "inventory": "inventory:InventoryScreen",
    "etcd": "etcd_pki:EtcdPKIScreen",
    "loadbalancer": "loadbalancer:LoadBalancerScreen",
    "network": "network:NetworkScreen",
    "dns": "dns:DNSScreen",
    "persistence": "persistence:PersistenceScreen",
    "preflight": "preflight:PreflightScreen",
    "review": "review:ReviewScreen",
}
"""Step -> `module:class` of its screen in khatui.tui.screens."""


class WizardCommands(SystemCommandsProvider):
    """The palette's commands in the app's order (the wizard's steps first, in wizard order), not
    sorted by name as Textual's provider lists them."""

    async def discover(self) -> Hits:
        for title, help_text, callback, discover in self.app.get_system_commands(self.screen):
            if discover:
                yield DiscoveryHit(title, callback, help=help_text)


class KhatuiApp(App[int]):
    """The wizard and the live rollout view."""

    TITLE = "khatui"
    # Every screen's layout, loaded once at start: a screen's own CSS_PATH would be parsed on its
    # first visit and restyle the whole app then. Absolute, so subclasses elsewhere find them too.
    CSS_PATH = [HERE / "khatui.tcss", *sorted((HERE / "screens").glob("*.tcss"))]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (WIDE, "-wide")]
    COMMANDS: ClassVar[set[type[Provider] | Callable[[], type[Provider]]]] = {WizardCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "help", "Help"),
        Binding("ctrl+s", "save", "Save spec"),
    ]

    def __init__(self, ctx: WizardContext, first_step: str = "start") -> None:
        super().__init__()
        self.ctx = ctx
        self.first_step = first_step
        self.gate = HostKeyGate(self)
        self.rollout: RolloutScreen | None = None
        self.crash: Exception | None = None
        """The unforeseen error that ended the app, for `khatui wizard` to report in one line."""

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Every notification is plain text: they carry spec, journal and node text, never markup."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def _handle_exception(self, error: Exception) -> None:
        self.crash = self.crash or error
        super()._handle_exception(error)

    def _fatal_error(self) -> None:
        """Exit without Textual's traceback (it shows local variables: a password, a token); the
        CLI's error boundary logs `crash` to a file instead."""
        self.bell()
        self._close_messages_no_wait()

    def on_mount(self) -> None:
        self.push_screen(self.step(self.first_step))

    def on_unmount(self) -> None:
        self.gate.close()

    def step(self, name: str) -> WizardStep:
        """A fresh screen for the wizard step `name`."""
        module, screen = STEP_SCREENS[name].split(":")
        step: type[WizardStep] = getattr(importlib.import_module(f"khatui.tui.screens.{module}"), screen)
        return step(self.ctx)

    @on(Navigate)
    def _navigate(self, message: Navigate) -> None:
        self.switch_screen(self.step(message.step))

    @on(RolloutRequested)
    def _rollout(self, message: RolloutRequested) -> None:
        self.show_rollout(message.rollout)

    @on(ResumeRequested)
    def _resume(self, message: ResumeRequested) -> None:
        self.show_rollout(message.rollout)

    def show_rollout(self, rollout: Rollout) -> None:
        """Show the live view of the recorded `rollout` and start its run."""
        from khatui.tui.screens.rollout import RolloutScreen

        self.rollout = RolloutScreen(rollout, self.ctx.clock)
        self.push_screen(self.rollout)

    # -- app-wide actions ---------------------------------------------------------------------------
    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_save(self) -> None:
        state = self.ctx.state

        def chosen(path: str | None) -> None:
            if path:
                self.save_to(Path(path))

        self.push_screen(SaveDialog(str(state.suggested_path())), chosen)

    def save_to(self, path: Path) -> None:
        """Save the spec, saying where (and whether it still has errors)."""
        state = self.ctx.state
        try:
            saved = state.save(path)
        except KhatuiError as exc:
            self.notify(exc.message, title="Not saved", severity="error", timeout=10)
            return
        errors = len(state.problems(errors_only=True))
        note = f" (it still has {errors} error{'s' * (errors != 1)})" if errors else ""
        self.notify(f"saved {saved}{note}", severity="warning" if errors else "information")

    async def action_quit(self) -> None:
        if self.rollout is not None and self.rollout.running:

            def answered(choice: str | None) -> None:
                if choice == "abort" and self.rollout is not None:
                    self.rollout.abort_and_quit()
                elif choice == "detach" and self.rollout is not None:
                    self.rollout.detach_and_quit()

            self.push_screen(QuitDialog(), answered)
            return
        self.gate.close()
        self.exit(0, return_code=0)

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        for number, (name, title) in enumerate(STEPS, 1):
            yield SystemCommand(f"Go to: {number} {title}", f"show the {title} step", self._goto(name))
        yield SystemCommand("Save spec", "write the cluster spec YAML", self.action_save)
        yield SystemCommand("Help", "list the keys of this screen", self.action_help)
        yield from super().get_system_commands(screen)

    def _goto(self, name: str) -> Callable[[], None]:
        def go() -> None:
            if self.rollout is not None and self.rollout.running:
                self.notify("a rollout is running; the wizard is back when it ends", severity="warning")
                return
            self.post_message(Navigate(name))

        return go


def make_app(
    spec_path: str | None = None,
    *,
    services: Services | None = None,
    start: str | None = None,
    wall_clock: Callable[[], float] = time.time,
    clock: Callable[[], float] = time.monotonic,
    options: EngineOptions | None = None,
    state: WizardState | None = None,
) -> KhatuiApp:
    """The app: on `spec_path` (opened at its first step) or a new cluster (at the start screen)."""
    if state is None:
        state = WizardState.from_file(spec_path) if spec_path else WizardState()
    ctx = WizardContext(state, services or EngineServices(), wall_clock, clock, options)
    return KhatuiApp(ctx, start or ("inventory" if spec_path else "start"))
