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
from typing import Any

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.text import Text
from rich.tree import Tree

from khatui.facts.model import NodeFacts
from khatui.plan.model import Action, Plan, Run, Step, Transfer, Upload, WaitFor
from khatui.redact import Redactor


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


def _step_tree(step: Step, facts: NodeFacts | None, show_diffs: bool, redact: Redactor) -> Tree:
    if step.is_noop:
        return Tree(Text.assemble(("= ", "dim"), (step.title, "dim"), (f"  ({step.noop_reason})", "dim italic")))
    if step.read_only:
        tree = Tree(
            Text.assemble(("? ", "cyan bold"), (step.title, "cyan"), ("  (check only, changes nothing)", "dim italic"))
        )
    else:
        tree = Tree(Text.assemble(("~ ", "yellow bold"), (step.title, "bold")))
    for action in step.actions:
        if isinstance(action, Upload):
            label = Text(redact(action.describe()))
            if action.secret or action.summary:
                label.append(f"  {action.summary or 'secret'} {fingerprint(action.content)}", "cyan")
            node = tree.add(label)
            diff = redact(content_diff(action, facts)) if show_diffs else ""
            if diff:
                node.add(Syntax(diff, "diff", theme="ansi_dark", word_wrap=True, background_color="default"))
        elif isinstance(action, Run):
            tree.add(Text.assemble(("$ ", "green"), redact(action.command)))
        elif isinstance(action, WaitFor):
            tree.add(Text(redact(action.describe()), "magenta"))
        else:
            tree.add(Text(redact(action.describe()), "blue"))
    return tree


def render_plan(plan: Plan, facts: dict[str, NodeFacts] | None = None, show_diffs: bool = True) -> RenderableType:
    """The preview as a rich renderable: phases, then per node its steps and actions."""
    facts = facts or {}
    redact = Redactor(plan.secrets)
    parts: list[RenderableType] = [Text(f"note: {note}", "yellow") for note in plan.notes]
    for phase in plan.phases:
        root = Tree(Text(f"{phase.title}", "bold underline"))
        for node in phase.nodes():
            branch = root.add(Text(node, "bold blue"))
            for step in phase.steps:
                if step.node == node:
                    branch.add(_step_tree(step, facts.get(node), show_diffs, redact))
        parts.append(root)
    parts.append(Text(summary(plan), "bold"))
    return Group(*parts)


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
