"""The dry-run preview: the exact plan the engine would run, per node, with diffs against the node.

Files are shown as unified diffs against what the facts say is on the node now (or as new files
when the facts are unknown, offline); key material never appears: secrets show their summary and
a fingerprint only, and every value in `Plan.secrets` (the bootstrap token, sudo passwords) is
masked wherever it would appear in a command or a diff. The JSON form carries the same information
for machines, masked the same way.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from rich.color import ColorSystem
from rich.console import Group, RenderableType
from rich.style import Style
from rich.text import Text

from khatui.facts.model import NodeFacts
from khatui.plan.model import Action, Plan, Run, Step, Transfer, Upload, WaitFor
from khatui.redact import Redactor

_COLOR_SYSTEMS = {
    "standard": ColorSystem.STANDARD,
    "256": ColorSystem.EIGHT_BIT,
    "truecolor": ColorSystem.TRUECOLOR,
    "windows": ColorSystem.WINDOWS,
}
"""Rich's `Console.color_system` names, to its enum."""


def content_diff(action: Upload, facts: NodeFacts | None) -> str:
    """Unified diff of the node's current file against the upload ('' when identical or secret)."""
    if action.secret or action.summary:
        return ""
    new = action.content.decode("utf-8", "replace").splitlines(keepends=True)
    old_bytes = facts.file_contents.get(action.path) if facts else None
    old = old_bytes.decode("utf-8", "replace").splitlines(keepends=True) if old_bytes is not None else []
    label = "/dev/null" if old_bytes is None else f"a{action.path}"
    return "".join(difflib.unified_diff(old, new, label, f"b{action.path}"))


def fingerprint(content: bytes) -> str:
    """Short SHA256 of content, safe to show for secrets."""
    return "sha256:" + hashlib.sha256(content).hexdigest()[:16]


def summary(plan: Plan) -> str:
    """'14 changes on 5 nodes; 3 nodes already converged'."""
    nodes: dict[str, int] = {}
    for step in plan.steps():
        nodes.setdefault(step.node, 0)
        if not step.is_noop and not step.read_only:
            nodes[step.node] += 1
    changed = [n for n, count in nodes.items() if count]
    converged = len(nodes) - len(changed)
    if not changed:
        return f"nothing would change: all {len(nodes)} nodes are converged"
    text = f"{plan.changes()} change{'s' * (plan.changes() != 1)} on {len(changed)} node{'s' * (len(changed) != 1)}"
    return text + (f"; {converged} node{'s' * (converged != 1)} already converged" if converged else "")


Line = tuple[str, str]
"""One line of the preview and its Rich style ('' for none)."""
_BRANCH, _LAST, _PIPE, _SPACE = "├── ", "└── ", "│   ", "    "


@dataclass
class _Branch:
    """A node of the preview tree: its label lines (the first is the label, the rest continue it)."""

    lines: list[Line]
    children: list[_Branch] = field(default_factory=list)


def _walk(branch: _Branch, prefix: str, first: str, rest: str) -> Iterator[Line]:
    """The lines of `branch` under `prefix`, drawn with Rich's tree guides."""
    for index, (text, style) in enumerate(branch.lines):
        yield (prefix + (first if index == 0 else rest)) + text, style
    for index, child in enumerate(branch.children):
        last = index == len(branch.children) - 1
        yield from _walk(child, prefix + rest, _LAST if last else _BRANCH, _SPACE if last else _PIPE)


def _diff_style(line: str) -> str:
    if line.startswith(("+++", "---")):
        return "bold"
    if line.startswith("@@"):
        return "cyan"
    return "green" if line.startswith("+") else "red" if line.startswith("-") else ""


def _step_branch(step: Step, facts: NodeFacts | None, show_diffs: bool, redact: Redactor) -> _Branch:
    if step.is_noop:
        return _Branch([(f"= {step.title}  ({step.noop_reason})", "dim")])
    if step.read_only:
        branch = _Branch([(f"? {step.title}  (check only, changes nothing)", "cyan")])
    else:
        branch = _Branch([(f"~ {step.title}", "bold")])
    for action in step.actions:
        if isinstance(action, Upload):
            label = redact(action.describe())
            if action.secret or action.summary:
                label += f"  {action.summary or 'secret'} {fingerprint(action.content)}"
            child = _Branch([(label, "")])
            diff = redact(content_diff(action, facts)) if show_diffs else ""
            if diff:
                child.children.append(_Branch([(line, _diff_style(line)) for line in diff.splitlines()]))
            branch.children.append(child)
        elif isinstance(action, Run):
            branch.children.append(_Branch([(f"$ {redact(action.command)}", "green")]))
        elif isinstance(action, WaitFor):
            branch.children.append(_Branch([(redact(action.describe()), "magenta")]))
        else:
            branch.children.append(_Branch([(redact(action.describe()), "blue")]))
    return branch


def plan_lines(plan: Plan, facts: dict[str, NodeFacts] | None = None, show_diffs: bool = True) -> Iterator[Line]:
    """The preview, line by line: the plan's notes, each phase with per node its steps and actions
    (diffs included), then the summary. Lines are never wrapped: a 2,000-node plan prints as fast
    as its JSON, and a long command stays one line to copy."""
    facts = facts or {}
    redact = Redactor(plan.secrets)
    for note in plan.notes:
        yield f"note: {note}", "yellow"
    for phase in plan.phases:
        root = _Branch([(phase.title, "bold underline")])
        by_node: dict[str, _Branch] = {}
        for step in phase.steps:
            if step.node not in by_node:
                by_node[step.node] = _Branch([(step.node, "bold blue")])
                root.children.append(by_node[step.node])
            by_node[step.node].children.append(_step_branch(step, facts.get(step.node), show_diffs, redact))
        yield from _walk(root, "", "", "")
    yield summary(plan), "bold"


def render_plan(plan: Plan, facts: dict[str, NodeFacts] | None = None, show_diffs: bool = True) -> RenderableType:
    """The preview as a Rich renderable (the wizard's review): `plan_lines`, one Text each, wrapped
    at the pane's width."""
    return Group(*(Text(text, style) for text, style in plan_lines(plan, facts, show_diffs)))


def write_plan(out: IO[str], lines: Iterable[Line], color_system: str | None) -> None:
    """Write preview lines to a stream, styled with ANSI codes when `color_system` is set (a Rich
    console's), one write per line: Rich's layout engine is not needed for lines that never wrap."""
    ansi: dict[str, tuple[str, str]] = {}
    for text, style in lines:
        if color_system and style:
            if style not in ansi:
                before, _, after = (
                    Style.parse(style).render("\0", color_system=_COLOR_SYSTEMS[color_system]).partition("\0")
                )
                ansi[style] = (before, after)
            before, after = ansi[style]
            out.write(f"{before}{text}{after}\n")
        else:
            out.write(text + "\n")


def plan_to_json(plan: Plan, facts: dict[str, NodeFacts] | None = None) -> dict[str, Any]:
    """The preview for machines: every step and action; secrets by fingerprint only, secret values masked."""
    facts = facts or {}
    redact = Redactor(plan.secrets)

    def action(act: Action, node: str) -> dict[str, Any]:
        if isinstance(act, Upload):
            out: dict[str, Any] = {"type": "upload", "path": act.path, "mode": f"{act.mode:04o}", "owner": act.owner}
            out["sha256"] = act.sha256
            if act.secret or act.summary:
                out["summary"] = act.summary
            else:
                out["diff"] = redact(content_diff(act, facts.get(node)))
            return out
        if isinstance(act, Run):
            return {"type": "run", "command": redact(act.command), "timeout": act.timeout}
        if isinstance(act, Transfer):
            return {
                "type": "transfer",
                "path": act.path,
                "url": act.url,
                "sha256": act.sha256,
                "mode": f"{act.mode:04o}",
                **({"local": act.local} if act.local else {}),
            }
        return {"type": "wait", "command": redact(act.command), "timeout": act.timeout}

    return {
        "cluster": plan.cluster,
        "specHash": plan.spec_hash,
        "summary": summary(plan),
        "changes": plan.changes(),
        "notes": list(plan.notes),
        "phases": [
            {
                "name": phase.name,
                "title": phase.title,
                "requires": list(phase.requires),
                "steps": [
                    {
                        "id": step.id,
                        "node": step.node,
                        "title": step.title,
                        "noop": step.noop_reason,
                        "actions": [action(a, step.node) for a in step.actions],
                    }
                    for step in phase.steps
                ],
            }
            for phase in plan.phases
        ],
    }
