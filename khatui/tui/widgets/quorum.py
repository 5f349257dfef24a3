"""Live quorum math for the etcd members chosen, from the core's `quorum_text`."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from khatui.spec.rules import quorum_text


def quorum_verdict(members: int) -> tuple[str, str]:
    """(text, style): the quorum sentence and why a count is good or bad."""
    if members == 0:
        return "no etcd members yet: pick them above (space toggles a node)", "red"
    math = quorum_text(members)
    if members == 1:
        return f"{math}: fine for a lab, not highly available", "yellow"
    if members == 2:
        return f"{math}: losing either stops etcd, less available than 1; use 3", "red"
    if members % 2 == 0:
        return f"{math}; {members - 1} members tolerate as many: use an odd count", "red"
    return math, "green"


class QuorumMath(Static):
    """'3 members: quorum is 2, tolerates 1 failure', coloured by verdict."""

    DEFAULT_CSS = """
    QuorumMath {
        height: auto;
        padding-left: 22;
    }
    """

    def show(self, members: int) -> None:
        text, style = quorum_verdict(members)
        self.update(Text(text, style))
