"""The rollout view's detail pane: a `Log` whose appends repaint only itself, cheaply.

Textual's `Log` stores its content size in `virtual_size`, a layout reactive, and measures the width
of new lines in a thread worker that sets it once more: so each append lays out and repaints the
whole screen, twice, and starts a thread. During a rollout the selected node appends on every drain,
which made that layout most of the view's cost (and of its latency). Here the new size reaches this
widget's scrollbars directly and the width is measured inline. The `Log` keeps `overflow: scroll`,
so its scrollbars never appear or vanish and the space it takes never changes: a layout has
nothing to move.

Following the end scrolls every visible line, so each append repaints them all; `Log` renders each
through Rich and looks its style up per line. Here the style is looked up once per paint and a
line, once rendered, is kept until the style, width or horizontal offset changes.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.reactive import Reactive
from textual.strip import Strip
from textual.widgets import Log


class OutputLog(Log):
    """A `Log` that keeps every line and follows the end; an append costs one repaint of the log."""

    virtual_size: Reactive[Size] = Reactive(Size(0, 0))
    """As `Widget.virtual_size`, minus the layout."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(max_lines=None, auto_scroll=True, id=id)
        self._paint: tuple[Style, int, int, int] | None = None
        self._strips: LRUCache[int, Strip] = LRUCache(256)
        self._strips_key: tuple[Style, int, int] | None = None

    def watch_virtual_size(self, size: Size) -> None:
        """What a layout would do for this widget: size the scrollbars, keep the offsets in range."""
        self.vertical_scrollbar.window_virtual_size = size.height
        self.horizontal_scrollbar.window_virtual_size = size.width
        self.scroll_x = self.validate_scroll_x(self.scroll_x)
        self.scroll_y = self.validate_scroll_y(self.scroll_y)

    def _update_size(self, updates: int, lines: list[str]) -> None:  # type: ignore[override]  # not a worker
        """Measure the new lines' width here (one drain's lines take microseconds), not in a thread."""
        if lines:
            self._update_maximum_width(updates, max(cell_len(self._process_line(line)) for line in lines))

    def clear(self) -> OutputLog:
        self._strips.clear()
        return super().clear()

    def refresh_lines(self, y_start: int, line_count: int = 1) -> None:
        for index in range(y_start, y_start + line_count):
            self._strips.discard(index)
        super().refresh_lines(y_start, line_count)

    def _look_up(self) -> tuple[Style, int, int, int]:
        """What every line needs: the style, the scroll offsets, the width."""
        scroll_x, scroll_y = self.scroll_offset
        return self.rich_style, scroll_x, scroll_y, self.size.width

    def render_lines(self, crop: Region) -> list[Strip]:
        self._paint = self._look_up()  # once per repaint, not once per line: each lookup walks the DOM
        try:
            return super().render_lines(crop)
        finally:
            self._paint = None

    def render_line(self, y: int) -> Strip:
        if self.text_selection is not None:
            return super().render_line(y)  # the Log highlights the selection
        style, scroll_x, scroll_y, width = self._paint or self._look_up()
        if self._strips_key != (style, scroll_x, width):
            self._strips.clear()
            self._strips_key = (style, scroll_x, width)
        index = scroll_y + y
        strip = self._strips.get(index)
        if strip is None:
            if index >= len(self.lines):
                return Strip.blank(width, style)
            text = self._process_line(self.lines[index])
            strip = Strip([Segment(text, style)], cell_len(text)).crop_extend(scroll_x, scroll_x + width, style)
            strip = self._strips[index] = strip.apply_offsets(scroll_x, index)
        return strip
