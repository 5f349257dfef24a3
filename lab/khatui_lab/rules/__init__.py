"""The rules table: every rule a stand-in (or the lab) enforces, with its upstream source and the test
that proves it, one YAML file per stand-in beside this module (`kubeadm.yaml`, `kubelet.yaml`, ...).

The data is for people and tests, not for the stand-ins (they run on lab nodes and enforce in code):
`load` reads every file, refusing an entry without all its fields, and `write_readme` renders the
table into README.md's lab section between the markers (`python -m khatui_lab.rules --write-readme`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import yaml

RULES_DIR = Path(__file__).resolve().parent
BEGIN = "<!-- rules:begin -->"
END = "<!-- rules:end -->"
REGENERATE = ".venv/bin/python -m khatui_lab.rules --write-readme"


class RulesError(ValueError):
    """A rules file that is not a list of complete entries."""


@dataclass(frozen=True)
class Rule:
    """One refusal: what is refused, the name the real tool reports, where upstream says so, the test."""

    id: str
    rule: str
    check: str
    """kubeadm preflight check name, kubelet condition reason, apiserver error reason; '' if none."""
    source: str
    test: str
    """pytest node id: path::function."""
    file: str = ""
    """The YAML file it came from (name only)."""


_FIELDS = tuple(f.name for f in fields(Rule) if f.name != "file")


def load_file(path: Path) -> list[Rule]:
    """The entries of one rules file; `RulesError` naming the file and entry for a missing field."""
    data = yaml.safe_load(path.read_text()) or []
    if not isinstance(data, list):
        raise RulesError(f"{path.name}: expected a list of rules")
    rules = []
    for index, entry in enumerate(data):
        where = f"{path.name}: entry {index + 1}"
        if not isinstance(entry, dict):
            raise RulesError(f"{where}: expected a mapping")
        missing = [name for name in _FIELDS if not isinstance(entry.get(name), str)]
        if missing:
            raise RulesError(f"{where} ({entry.get('id', 'no id')}): missing or not text: {', '.join(missing)}")
        empty = [name for name in _FIELDS if name != "check" and not entry[name].strip()]
        unknown = sorted(set(entry) - set(_FIELDS))
        if empty or unknown:
            raise RulesError(f"{where} ({entry['id']}): empty {empty or ''} unknown {unknown or ''}".rstrip())
        rules.append(Rule(**{name: entry[name] for name in _FIELDS}, file=path.name))
    return rules


def load(directory: Path = RULES_DIR) -> list[Rule]:
    """Every rule of every `*.yaml` in `directory`, by file then order; `RulesError` on a repeated id."""
    rules = [rule for path in sorted(directory.glob("*.yaml")) for rule in load_file(path)]
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            raise RulesError(f"{rule.file}: id {rule.id!r} is used twice")
        seen.add(rule.id)
    return rules


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table(rules: list[Rule]) -> str:
    """The Markdown table: rule, check name, upstream source, test."""
    lines = ["| rule | check | upstream source | test |", "| --- | --- | --- | --- |"]
    for rule in rules:
        check = f"`{rule.check}`" if rule.check else ""
        lines.append(f"| {_cell(rule.rule)} | {check} | {_cell(rule.source)} | `{_cell(rule.test)}` |")
    return "\n".join(lines)


def with_table(readme: str, rules: list[Rule]) -> str:
    """`readme` with the table between the markers; `RulesError` when the markers are missing."""
    start, end = readme.find(BEGIN), readme.find(END)
    if start < 0 or end < start:
        raise RulesError(f"README.md has no {BEGIN} ... {END} section")
    return readme[: start + len(BEGIN)] + "\n" + table(rules) + "\n" + readme[end:]
