"""A `DataTable` whose text cells are plain text.

Textual's `DataTable` reads a `str` cell as markup: a node name, a user or a journal entry such as
`ops[/]x` would crash the table and `[link=...]` or `[@click=...]` would plant a link or an action.
Every table of the wizard holds such values, so every one is a `PlainTable`.
"""

from __future__ import annotations

from rich.text import Text, TextType
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey


class PlainTable(DataTable[str | Text]):
    """`DataTable` with each `str` cell shown as it is (`Text` cells keep their styles)."""

    def add_row(
        self, *cells: str | Text, height: int | None = 1, key: str | None = None, label: TextType | None = None
    ) -> RowKey:
        plain = tuple(Text(cell) if isinstance(cell, str) else cell for cell in cells)
        return super().add_row(*plain, height=height, key=key, label=label)
