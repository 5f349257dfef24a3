"""The preflight matrix as a rich table (nodes x checks), with the evidence of every non-pass."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from khatui.preflight.checks import CheckResult, Status

MARK = {Status.PASS: ("ok", "green"), Status.WARN: ("warn", "yellow"), Status.FAIL: ("FAIL", "bold red")}
SHORT = {"resources": "res", "ipvs-modules": "ipvs", "binaries": "bins", "ip-forward": "fwd", "network": "net"}
"""Column titles short enough for an 80-column terminal."""


def render_checks(results: list[CheckResult], unreachable: dict[str, str] | None = None) -> RenderableType:
    """The matrix, then one line per warning or failure with its evidence."""
    checks = list(dict.fromkeys(r.check for r in results))
    nodes = list(dict.fromkeys(r.node for r in results))
    table = Table(title="Preflight", title_justify="left", show_edge=False)
    table.add_column("node", no_wrap=True)
    for check in checks:
        table.add_column(Text(SHORT.get(check, check)), no_wrap=True)
    cells = {(r.node, r.check): r for r in results}
    for node in nodes:
        row: list[Text | str] = [Text(node)]  # Text, never a str: a str cell would be read as markup
        for check in checks:
            result = cells.get((node, check))
            if result is None:
                row.append("")
                continue
            label, style = MARK[result.status]
            row.append(Text(label + ("*" if result.waived else ""), style))
        table.add_row(*row)
    lines: list[RenderableType] = [table]
    if any(r.waived for r in results):
        lines.append(Text("* waived", "dim"))
    for node, error in (unreachable or {}).items():
        lines.append(Text(f"{node}: unreachable: {error}", "bold red"))
    for result in results:
        if result.status is not Status.PASS:
            label, style = MARK[result.status]
            waived = " (waived)" if result.waived else ""
            lines.append(Text(f"{label}{waived} {result.node} {result.check}: {result.evidence}", style))
    return Group(*lines)
