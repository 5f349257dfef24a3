"""The small parts of the rollout view: the phase bar, a node pane, the failure panel.

Each renders from the shared `Board` when refreshed; none keeps state of its own, so a batch of
events costs one model update plus one repaint of what changed.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text
from textual.widget import Widget
from textual.widgets import Static

from khatui.events import NodeFailed
from khatui.rollout.progress import DONE, FAILED, RUNNING, SKIPPED, Board, format_elapsed
from khatui.tui.widgets.progress_text import bar

STATE_STYLE = {RUNNING: "yellow", DONE: "green", FAILED: "bold red", SKIPPED: "yellow", "waiting": "dim"}
STATE_MARK = {RUNNING: "●", DONE: "✓", FAILED: "✗", SKIPPED: "↷", "waiting": "·"}


class PhaseBar(Widget):
    """Current phase, overall progress, and whether the rollout is paused or over."""

    DEFAULT_CSS = """
    PhaseBar {
        height: 2;
        padding: 0 1;
        background: $panel;
    }
    """

    def __init__(self, board: Board, id: str | None = None) -> None:
        super().__init__(id=id)
        self.board = board

    def render(self) -> RenderableType:
        board = self.board
        phase = board.current_phase
        index = board.phases.index(phase) + 1 if phase is not None else 0
        title = f"phase {index}/{len(board.phases)}: {phase.title}" if phase else "starting …"
        if board.finished is not None:
            # The word the CLI and the journal say too (khatui.events.Outcome): done, failed, incomplete...
            verdict = Text(
                " ✓ done" if board.finished.ok else f" ✗ {board.outcome}",
                "bold green" if board.finished.ok else "bold red",
            )
        elif board.paused:
            verdict = Text(" ⏸ paused (p resumes)", "bold yellow")
        else:
            verdict = Text("")
        width = max(10, self.size.width - 2)
        counts = f" {board.finished_steps}/{board.total_steps} steps"
        fraction = board.finished_steps / board.total_steps if board.total_steps else 0.0
        line2 = bar(fraction, width - len(counts), "green")
        line2.append(counts, "bold")
        line1 = Text.assemble((title, "bold"), verdict)
        if board.rollout_id:
            line1.append(f"  rollout {board.rollout_id}", "dim")
        line1.truncate(width)
        return Group(line1, line2)


def tail(lines: list[str], count: int) -> list[str]:
    """The last `count` lines (padded with blanks so panes keep their height)."""
    last = lines[-count:] if count else []
    return [""] * (count - len(last)) + last


class NodePane(Widget, can_focus=True):
    """One node: status, step, done/total, elapsed, a bar and its last output lines."""

    DEFAULT_CSS = """
    NodePane {
        height: 7;
        border: round $panel-lighten-2;
        padding: 0 1;
    }
    NodePane:focus {
        border: round $accent;
    }
    NodePane.-failed {
        border: round $error;
    }
    """
    LINES = 2
    """Output lines a pane shows (its height is 3 + LINES + 2 borders)."""

    def __init__(self, board: Board, node: str) -> None:
        super().__init__(name=node)
        self.board = board
        self.node = node

    def render(self) -> RenderableType:
        node = self.board.nodes[self.node]
        self.set_class(node.state == FAILED, "-failed")
        width = max(10, self.size.width)
        style = STATE_STYLE.get(node.state, "")
        head = Text.assemble(
            (f"{STATE_MARK.get(node.state, '·')} {node.name} ", "bold"),
            (node.state, style),
            f"  {node.done}/{node.total or '?'}  {format_elapsed(node.elapsed(self.board.clock()))}",
        )
        step = Text(node.step or "–", "italic")
        progress = bar(node.fraction, width, "red" if node.state == FAILED else "green")
        out = [Text(line, "dim", no_wrap=True, overflow="ellipsis") for line in tail(node.lines, self.LINES)]
        for line in (head, step):
            line.truncate(width, overflow="ellipsis")
        return Group(head, step, progress, *out)


def shown_failure(board: Board) -> NodeFailed | None:
    """The failure the panel shows and the keys act on: the first one held, else the first one."""
    held = board.held
    return held[0] if held else next(iter(board.failures), None)


class FailurePanel(Static):
    """What failed where: node, step, command, exit code, last lines, and the log to read."""

    DEFAULT_CSS = """
    FailurePanel {
        display: none;
        height: auto;
        max-height: 8;
        border: round $error;
        padding: 0 1;
    }
    FailurePanel.-shown {
        display: block;
    }
    """

    def show_board(self, board: Board) -> None:
        """Show the failure the keys act on (a held one first), or hide when none is left."""
        self.set_class(bool(board.failures), "-shown")
        if not board.failures:
            return
        first = shown_failure(board)
        assert first is not None
        text = Text.assemble(
            ("✗ ", "bold red"),
            (f"{first.node}", "bold"),
            f" failed at {first.step_id}: {first.reason}",
            (f" (exit code {first.exit_code})" if first.exit_code is not None else "", "red"),
        )
        text.append(f"\n$ {first.command}", "dim")
        for line in first.last_lines[-3:]:
            text.append(f"\n  {line}", "dim")
        if first.held:
            text.append("\nwaiting for you: ", "bold")
            keys = [("r", "retry the step"), ("x", "skip the node"), ("g", "give up on the node")]
            why_not = board.essential.get(first.node)
            for key, what in keys:
                if key != "x" or why_not is None:
                    text.append(f" {key} ", "bold reverse")
                    text.append(f" {what}  ")
            if why_not is not None:
                text.append(f"\n{first.node} cannot be skipped: {why_not}", "dim")
        others = [f.node for f in board.failures if f is not first]
        if others:
            text.append(f"\nalso failed: {', '.join(others)}", "red")
        if board.log_path:
            text.append(f"\nlog: {board.log_path}", "italic")
        if board.finished is not None and board.rollout_id:
            text.append(f"\nfix the cause, then resume: khatui resume {board.rollout_id}", "bold")
        self.update(text)
