"""Ansible's YAML inventory format (`all: {hosts, vars, children}`), read with line numbers.

The document is composed into YAML nodes rather than loaded into plain data, so that every group,
host and variable keeps the line it was written on for notices. Aliases are never expanded beyond a
fixed budget (a hostile file cannot blow up memory), and values tagged with something khatui cannot
read, such as Ansible Vault's `!vault`, are kept as opaque and reported instead of failing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import yaml

from khatui.errors import InputError
from khatui.inventory import hostrange
from khatui.inventory.ansible_tree import ALL, Inventory, Var
from khatui.inventory.result import ImportResult

MAX_NODES = 100_000
"""Bound on YAML nodes visited, aliases included."""
MAX_DEPTH = 64
"""Bound on nested child groups."""
_GROUP_KEYS = ("hosts", "vars", "children")
_T = TypeVar("_T")


def compose(text: str, source: str, what: str = "YAML inventory") -> yaml.Node | None:
    """The YAML node tree of `text`; broken YAML is an `InputError` with file and line."""
    return _guarded(lambda: yaml.compose(text, Loader=yaml.SafeLoader), source, what)


def compose_all(text: str, source: str, what: str) -> list[yaml.Node]:
    """The YAML node trees of every document of `text`, guarded the same way."""
    return _guarded(lambda: list(yaml.compose_all(text, Loader=yaml.SafeLoader)), source, what)


def _guarded(read: Callable[[], _T], source: str, what: str) -> _T:
    try:
        return read()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}" if mark else source
        raise InputError(f"{where}: not a valid {what}: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{source}: not a valid {what}: {exc}") from None
    except RecursionError:
        raise InputError(f"{source}: the document nests too deeply") from None


def parse_yaml(root: yaml.Node | None, result: ImportResult) -> Inventory:
    """Read a composed YAML inventory; a top level that is not a mapping of groups is an `InputError`."""
    if not isinstance(root, yaml.MappingNode):
        raise InputError(
            f"{result.source}: the top level of a YAML inventory must map group names (like 'all') to groups"
        )
    reader = _Reader(result)
    for key, value in root.value:
        name = reader.scalar(key)
        if name != ALL:
            reader.inventory.add_child(ALL, name, _line(key))
        reader.group(name, key, value, 0)
    return reader.inventory


def parse_vars(root: yaml.Node | None, file: str, result: ImportResult) -> dict[str, Var]:
    """The variables of a group_vars or host_vars file, each remembering `file` and its line."""
    if root is None:
        return {}
    return _Reader(result, file).variables(root, f"the variables file {file}")


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


class _Reader:
    """Walks group nodes into an `Inventory`, counting nodes against `MAX_NODES`."""

    def __init__(self, result: ImportResult, file: str | None = None) -> None:
        self.result = result
        self.file = file
        """The file being read when it is not the inventory (its variables remember it)."""
        self.inventory = Inventory()
        self.visited = 0
        self.constructor = yaml.SafeLoader("")

    def count(self, amount: int = 1) -> None:
        self.visited += amount
        if self.visited > MAX_NODES:
            raise InputError(
                f"{self.result.source}: the document expands to more than {MAX_NODES} values (too many aliases?)"
            )

    def scalar(self, node: yaml.Node) -> str:
        self.count()
        if not isinstance(node, yaml.ScalarNode):
            raise InputError(
                f"{self.file or self.result.source}:{_line(node)}: a group, host or variable name must be a plain value"
            )
        return str(node.value)

    def group(self, name: str, key: yaml.Node, node: yaml.Node, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise InputError(f"{self.result.source}:{_line(key)}: child groups nest more than {MAX_DEPTH} deep")
        self.inventory.group(name, _line(key))
        self.count()
        if _is_null(node):
            return
        if not isinstance(node, yaml.MappingNode):
            self.result.notice(_line(node), f"group {name!r} is not a mapping of hosts, vars and children; ignored")
            return
        for item_key, item in node.value:
            section = self.scalar(item_key)
            if section == "hosts":
                self.hosts(name, item)
            elif section == "vars":
                self.inventory.group(name, None).vars.update(self.variables(item, f"vars of group {name!r}"))
            elif section == "children":
                self.children(name, item, depth)
            else:
                self.result.notice(
                    _line(item_key),
                    f"key {section!r} in group {name!r} is not one of {', '.join(_GROUP_KEYS)}; "
                    "ignored (Ansible skips it too)",
                )

    def hosts(self, group: str, node: yaml.Node) -> None:
        if _is_null(node):
            return
        if not isinstance(node, yaml.MappingNode):
            self.result.notice(_line(node), f"hosts of group {group!r} must be a mapping of host names; ignored")
            return
        for key, value in node.value:
            pattern, port = hostrange.split_port(self.scalar(key))
            variables = {} if _is_null(value) else self.variables(value, f"host {pattern!r}")
            if port is not None:
                variables.setdefault("ansible_port", Var(port, _line(key)))
            for name in hostrange.host_names(pattern, _line(key), self.result):
                self.inventory.add_host(group, name, _line(key), variables)

    def children(self, group: str, node: yaml.Node, depth: int) -> None:
        if _is_null(node):
            return
        if not isinstance(node, yaml.MappingNode):
            self.result.notice(_line(node), f"children of group {group!r} must be a mapping of group names; ignored")
            return
        for key, value in node.value:
            child = self.scalar(key)
            self.inventory.add_child(group, child, _line(key))
            self.group(child, key, value, depth + 1)

    def variables(self, node: yaml.Node, owner: str) -> dict[str, Var]:
        if _is_null(node):
            return {}
        if not isinstance(node, yaml.MappingNode):
            self.result.notice(_line(node), f"{owner} must be a mapping of variables; ignored", self.file)
            return {}
        return {self.scalar(key): self.value(value, _line(key)) for key, value in node.value}

    def value(self, node: yaml.Node, line: int) -> Var:
        if node.tag.startswith("!"):
            return Var(None, line, tag=node.tag, file=self.file)
        self.count(self._size(node))
        try:
            data: Any = self.constructor.construct_object(node, deep=True)
        except yaml.YAMLError:
            return Var(None, line, tag=node.tag, file=self.file)
        return Var(data, line, file=self.file)

    def _size(self, node: yaml.Node) -> int:
        """Nodes in the value `node`, aliases counted each time they are used (bounded)."""
        size, pending = 0, [node]
        while pending:
            current = pending.pop()
            size += 1
            if size > MAX_NODES:
                break
            if isinstance(current, yaml.SequenceNode):
                pending += current.value
            elif isinstance(current, yaml.MappingNode):
                pending += [part for pair in current.value for part in pair]
        return size
