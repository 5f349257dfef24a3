"""Text progress bars: deterministic, readable on 16-colour and NO_COLOR terminals."""

from __future__ import annotations

from rich.text import Text


def bar(fraction: float, width: int, style: str = "green") -> Text:
    """A bar of `width` cells, `fraction` (0..1) of it filled."""
    width = max(1, width)
    filled = max(0, min(width, round(fraction * width)))
    return Text.assemble(("█" * filled, style), ("░" * (width - filled), "dim"))
