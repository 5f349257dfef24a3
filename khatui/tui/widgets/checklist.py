"""A `SelectionList` whose boxes read `[x]` checked and `[ ]` unchecked.

Textual draws every box as `▐X▌` and tells checked from unchecked by colour only: under NO_COLOR or
on a monochrome terminal an unchecked box looks checked, or nearly vanishes. Here the glyph says it.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widgets import SelectionList

CHECKED, UNCHECKED = "x", " "


class CheckList(SelectionList[int]):
    """Options with a box each; space or a click toggles it."""

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        index = self.scroll_offset.y + y
        segments = list(strip)
        if not 0 <= index < self.option_count or len(segments) < 4:
            return strip
        checked = self.get_option_at_index(index).value in self.selected
        base = segments[3].style or Style()  # the gap before the prompt: the row's own style
        click = Style(meta={"option": index})  # where a click toggles, as on Textual's box
        mark = base + Style(bold=True) + click
        box = [Segment("[", base + click), Segment(CHECKED if checked else UNCHECKED, mark), Segment("]", base + click)]
        return Strip([*box, *segments[3:]], strip.cell_length)
