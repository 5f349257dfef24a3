"""The rollout as a sortable table, one line per node: for many nodes (50+), where panes would not fit.

A line-API widget: it paints only the rows in view straight from the `Board`, so a repaint costs
the same with 200 nodes as with 20, and after a batch of events only the rows in view of the nodes
that changed are painted again (`refresh_nodes`).
The cursor picks the node whose full log the detail pane shows.
"""

from __future__ import annotations

from typing import ClassVar

from rich.cells import set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from khatui.rollout.progress import DONE, FAILED, RUNNING, SKIPPED, Board, format_elapsed

SORT_KEYS = ("name", "state", "progress", "elapsed")
COLOURS = {
    RUNNING: Style(color="yellow"),
    DONE: Style(color="green"),
    FAILED: Style(color="red", bold=True),
    SKIPPED: Style(color="yellow", dim=True),
}
DIM = Style(dim=True)


class NodeTable(ScrollView, can_focus=True):
    """Nodes x (state, done/total, elapsed, step, last line); s cycles the sort order."""

    DEFAULT_CSS = """
    NodeTable {
        height: 1fr;
        overflow-x: hidden;
    }
    NodeTable > .node-table--header {
        text-style: bold;
        background: $panel;
    }
    NodeTable > .node-table--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"node-table--header", "node-table--cursor"}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "move(-1)", "Up", show=False),
        Binding("down,j", "move(1)", "Down", show=False),
        Binding("pageup", "move(-10)", "Page up", show=False),
        Binding("pagedown", "move(10)", "Page down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
        Binding("s", "sort", "Sort"),
    ]

    cursor: reactive[int] = reactive(0)

    class Highlighted(Message):
        """The cursor moved to `node`."""

        def __init__(self, table: NodeTable, node: str) -> None:
            super().__init__()
            self.table = table
            self.node = node

        @property
        def control(self) -> NodeTable:
            return self.table

    def __init__(self, board: Board, id: str | None = None) -> None:
        super().__init__(id=id)
        self.board = board
        self.sort_key = "name"
        self.order: list[str] = []
        self._paint: tuple[Style, Style, Style, int, int, float] | None = None
        self.resort()

    @property
    def selected(self) -> str | None:
        return self.order[self.cursor] if 0 <= self.cursor < len(self.order) else None

    def resort(self) -> None:
        """Order rows by the sort key, keeping the cursor on the same node."""
        current = self.selected
        self.order = self.board.sorted_names(self.sort_key)
        if current in self.order:
            self.set_reactive(NodeTable.cursor, self.order.index(current))
        self.virtual_size = Size(self.size.width, len(self.order) + 1)
        self.refresh()

    def refresh_nodes(self, names: set[str]) -> None:
        """Repaint the rows of `names` that are in view (the others are painted when scrolled to)."""
        top = int(self.scroll_offset.y)
        rows = [i + 1 for i in range(top, min(len(self.order), top + self.size.height - 1)) if self.order[i] in names]
        start = 0
        for end in range(1, len(rows) + 1):  # one region per run of adjacent rows (the header is line 0)
            if end == len(rows) or rows[end] != rows[end - 1] + 1:
                self.refresh_lines(rows[start], end - start)
                start = end

    def action_sort(self) -> None:
        self.sort_key = SORT_KEYS[(SORT_KEYS.index(self.sort_key) + 1) % len(SORT_KEYS)]
        self.resort()
        self.notify(f"nodes sorted by {self.sort_key}", timeout=2)

    def action_move(self, rows: int) -> None:
        self.cursor = max(0, min(len(self.order) - 1, self.cursor + rows))

    def action_first(self) -> None:
        self.cursor = 0

    def action_last(self) -> None:
        self.cursor = max(0, len(self.order) - 1)

    def watch_cursor(self, cursor: int) -> None:
        visible = max(1, self.size.height - 1)
        top = int(self.scroll_offset.y)
        if cursor < top:
            self.scroll_to(y=cursor, animate=False)
        elif cursor >= top + visible:
            self.scroll_to(y=cursor - visible + 1, animate=False)
        self.refresh()
        node = self.selected
        if node is not None:
            self.post_message(self.Highlighted(self, node))

    def _look_up(self) -> tuple[Style, Style, Style, int, int, float]:
        """What every row needs: the styles, the width, the first row in view and the time."""
        return (
            self.rich_style,
            self.get_component_rich_style("node-table--header"),
            self.get_component_rich_style("node-table--cursor"),
            self.size.width,
            int(self.scroll_offset.y),
            self.board.clock(),
        )

    def render_lines(self, crop: Region) -> list[Strip]:
        self._paint = self._look_up()  # once per repaint, not once per line: each lookup walks the DOM
        try:
            return super().render_lines(crop)
        finally:
            self._paint = None

    def render_line(self, y: int) -> Strip:
        base, header_style, cursor_style, width, top, now = self._paint or self._look_up()
        if y == 0:
            style = header_style
            header = self._columns("node", "state", "done", "elapsed", "step", "last output", width)
            return Strip([Segment(header, style)], width)
        index = top + y - 1
        if index >= len(self.order):
            return Strip.blank(width, base)
        node = self.board.nodes[self.order[index]]
        last = node.lines[-1] if node.lines else ""
        text = self._columns(
            node.name,
            node.state,
            f"{node.done}/{node.total or '?'}",
            format_elapsed(node.elapsed(now)),
            node.step,
            last,
            width,
        )
        # One to three segments with the cell length given: no measuring, no cropping per line.
        if index == self.cursor:
            return Strip([Segment(text, cursor_style)], width)
        state_style = base + COLOURS.get(node.state, DIM)
        return Strip([Segment(text[:15], base), Segment(text[15:24], state_style), Segment(text[24:], base)], width)

    @staticmethod
    def _columns(name: str, state: str, done: str, elapsed: str, step: str, last: str, width: int) -> str:
        if not last.isprintable():  # tabs, escape codes: never let them move the cursor
            last = "".join(ch if ch.isprintable() else " " for ch in last)
        text = f"{name[:14]:<14} {state[:8]:<8} {done:>7} {elapsed:>7}  {step[:22]:<22}  {last}"
        if text.isascii():
            return text[:width].ljust(width)
        return set_cell_size(text, width)  # wide characters take two cells
