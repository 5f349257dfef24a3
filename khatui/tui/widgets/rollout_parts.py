"""The small parts of the rollout view: the phase bar, a node pane, the failure panel.

Each renders from the shared `Board`, so a batch of events costs one model update plus one repaint
of what changed; a node pane keeps only its painted lines, to repaint just the ones that moved.
"""

from __future__ import annotations

from rich.console import Console, Group, RenderableType
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static

from khatui.events import NodeFailed
from khatui.rollout.progress import DONE, FAILED, RUNNING, SKIPPED, Board, format_elapsed
from khatui.tui.widgets.progress_text import bar

STATE_STYLE = {RUNNING: "yellow", DONE: "green", FAILED: "bold red", SKIPPED: "yellow", "waiting": "dim"}
STATE_MARK = {RUNNING: "●", DONE: "✓", FAILED: "✗", SKIPPED: "↷", "waiting": "·"}
Content = tuple[object, ...]
"""What one line of a pane shows: its kind, then the values it is painted from."""


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
    """One node: status, step, done/total, elapsed, a bar and its last output lines.

    A line-API widget: each line is painted from the `Board` and kept with what it showed, and
    `sync` repaints only the lines whose content changed (a streaming node: its output lines; the
    head once a second), so a drain costs the lines that moved, not a Rich `Group` per pane.
    """

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
        self._painted: dict[int, tuple[tuple[Content, Style, int], Strip]] = {}
        """Content line -> (what it showed, the base style, the width) and its strip."""
        self._paint: tuple[list[Content], Style, int] | None = None

    def contents(self) -> list[Content]:
        """What each line shows, as plain values: equal values paint the same line."""
        node = self.board.nodes[self.node]
        return [
            ("head", node.state, node.done, node.total, format_elapsed(node.elapsed(self.board.clock()))),
            ("step", node.step),
            ("bar", node.state, node.fraction),
            *(("out", line) for line in tail(node.lines, self.LINES)),
        ]

    def line_text(self, content: Content, width: int) -> Text:
        """One line as Rich text, at most `width` cells."""
        kind, *values = content
        if kind == "head":
            state, done, total, elapsed = values
            text = Text.assemble(
                (f"{STATE_MARK.get(str(state), '·')} {self.node} ", "bold"),
                (str(state), STATE_STYLE.get(str(state), "")),
                f"  {done}/{total or '?'}  {elapsed}",
            )
        elif kind == "step":
            text = Text(str(values[0]) or "–", "italic")
        elif kind == "bar":
            state, fraction = values
            return bar(float(fraction), width, "red" if state == FAILED else "green")  # type: ignore[arg-type]
        else:
            text = Text(str(values[0]), "dim")
        text.expand_tabs()
        text.truncate(width, overflow="ellipsis")
        return text

    def text(self) -> str:
        """The pane's content as plain text, a line each (what the screen shows, minus styles)."""
        width = max(10, self.size.width)
        return "\n".join(self.line_text(content, width).plain for content in self.contents())

    def sync(self) -> None:
        """Repaint the lines whose content changed since they were painted."""
        self.set_class(self.board.nodes[self.node].state == FAILED, "-failed")
        width = self.size.width
        moved = [
            Region(0, y, width, 1)
            for y, content in enumerate(self.contents())
            if (painted := self._painted.get(y)) is None or painted[0][0] != content
        ]
        if moved:
            self.refresh(*moved)

    def render_lines(self, crop: Region) -> list[Strip]:
        # the board is read and the style looked up once per paint, not once per line
        self._paint = self.contents(), self.visual_style.rich_style, max(10, self.size.width)
        try:
            return super().render_lines(crop)
        finally:
            self._paint = None

    def render_line(self, y: int) -> Strip:
        contents, base, width = self._paint or (
            self.contents(),
            self.visual_style.rich_style,
            max(10, self.size.width),
        )
        if y >= len(contents):
            return Strip.blank(width, base)
        key = (contents[y], base, width)
        painted = self._painted.get(y)
        if painted is not None and painted[0] == key:
            return painted[1]
        kind, *values = contents[y]
        strip = (plain_strip(str(values[0]), width, base) if kind == "out" else None) or text_strip(
            self.line_text(contents[y], width), base, self.app.console
        )
        self._painted[y] = (key, strip)
        return strip


def text_strip(text: Text, base: Style, console: Console) -> Strip:
    """One line of Rich text on `base`, the segments a `Static` would paint (without laying it out)."""
    # joined as Rich joins the lines it renders: the text's own style becomes a span
    segments = [Segment(part, base + style) for part, style, _ in Text().join((text,)).render(console)]
    return Strip(segments, text.cell_len)


DIM = Style(dim=True)


def plain_strip(line: str, width: int, base: Style) -> Strip | None:
    """An output line of printable ASCII (most are) as `text_strip` paints it, without Rich's text
    machinery: a streaming pane repaints its output lines on every drain. None for any other line."""
    if not line or not (line.isascii() and line.isprintable()):
        return None
    if len(line) > width:
        line = line[: width - 1] + "…"
    return Strip([Segment(line, base + DIM)], len(line))


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
