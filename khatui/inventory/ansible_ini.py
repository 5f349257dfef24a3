"""Ansible's INI inventory format, read the way Ansible's `ini` plugin reads it.

`[group]` lists hosts (`name key=value ...`, shell-quoted, `#` starts a comment), `[group:vars]`
holds `key=value` lines (the value runs to the end of the line, comments included, exactly as
Ansible takes it), `[group:children]` names child groups. Values go through Python literal
evaluation like Ansible's (`2222` is a number, `"a b"` a string). Where Ansible would refuse a line,
khatui skips that line with a notice instead, so the rest of the inventory can still be imported.
"""

from __future__ import annotations

import ast
import re
import shlex
import warnings

from khatui.inventory import hostrange
from khatui.inventory.ansible_tree import UNGROUPED, Inventory, Var
from khatui.inventory.result import ImportResult

_SECTION = re.compile(r"\[([^:\]\s]+)(?::(\w+))?\]\s*(?:[#;].*)?")
_GROUP_NAME = re.compile(r"([^:\]\s]+)\s*(?:[#;].*)?")


def parse_ini(text: str, result: ImportResult) -> Inventory:
    """Read INI inventory `text`; problems with single lines become notices in `result`."""
    inventory = Inventory()
    group, state = UNGROUPED, "hosts"
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        section = _SECTION.fullmatch(line)
        if section:
            group, state = section.group(1), section.group(2) or "hosts"
            inventory.group(group, number)
            if state not in ("hosts", "vars", "children"):
                result.notice(
                    number, f"section [{group}:{state}] has an unknown type (Ansible rejects it); its lines are skipped"
                )
                state = "skip"
            continue
        if line.startswith("["):
            result.notice(
                number,
                f"{line!r} is not a section header like [group], [group:vars] or [group:children]; "
                "skipped until the next section",
            )
            state = "skip"
        elif state == "hosts":
            _host_line(inventory, group, line, number, result)
        elif state == "vars":
            _var_line(inventory, group, line, number, result)
        elif state == "children":
            _child_line(inventory, group, line, number, result)
    return inventory


def parse_value(text: str) -> object:
    """An INI value as Ansible types it: a Python literal when it is one, else the text itself."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text
    if value is None or isinstance(value, str | int | float | bool | list | dict):
        return value
    return text


def _host_line(inventory: Inventory, group: str, line: str, number: int, result: ImportResult) -> None:
    try:
        tokens = shlex.split(line, comments=True)
    except ValueError as exc:
        result.notice(number, f"host line cannot be read ({exc}); skipped")
        return
    if not tokens:
        return
    variables: dict[str, Var] = {}
    for token in tokens[1:]:
        key, equals, value = token.partition("=")
        if not equals or not key:
            result.notice(number, f"{token!r} is not a key=value host variable; ignored")
            continue
        variables[key] = Var(parse_value(value), number)
    pattern, port = hostrange.split_port(tokens[0])
    if port is not None:
        variables.setdefault("ansible_port", Var(port, number))
    for name in hostrange.host_names(pattern, number, result):
        inventory.add_host(group, name, number, variables)


def _var_line(inventory: Inventory, group: str, line: str, number: int, result: ImportResult) -> None:
    key, equals, value = line.partition("=")
    if not equals or not key.strip():
        result.notice(number, f"{line!r} in [{group}:vars] is not key=value; ignored")
        return
    inventory.group(group, number).vars[key.strip()] = Var(parse_value(value.strip()), number)


def _child_line(inventory: Inventory, group: str, line: str, number: int, result: ImportResult) -> None:
    match = _GROUP_NAME.fullmatch(line)
    if match is None:
        result.notice(number, f"{line!r} in [{group}:children] is not a group name; ignored")
        return
    inventory.add_child(group, match.group(1), number)
