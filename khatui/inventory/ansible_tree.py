"""An Ansible inventory as Ansible itself sees it: groups, hosts, variables; no khatui meaning yet.

The INI and YAML readers both fill this one shape, so the questions that depend on Ansible's rules
and not on the file format (which groups a host belongs to, which value of a variable wins) are
answered once, here. Every variable remembers the line it was written on so that anything khatui
cannot use is reported where the operator wrote it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

ALL = "all"
UNGROUPED = "ungrouped"


@dataclass(frozen=True)
class Var:
    """One variable definition."""

    value: object
    line: int | None
    tag: str | None = None
    """A YAML tag khatui cannot read (e.g. `!vault`); `value` is then None."""
    file: str | None = None
    """The file it was written in when that is not the inventory itself (a group_vars file)."""


@dataclass
class Group:
    """A group: its own hosts, its child groups and its variables, in file order."""

    name: str
    line: int | None
    hosts: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    vars: dict[str, Var] = field(default_factory=dict)


@dataclass
class Host:
    """A host and the variables written on it (merged over every place it is listed)."""

    name: str
    line: int | None
    vars: dict[str, Var] = field(default_factory=dict)


@dataclass
class Inventory:
    """Groups and hosts by name, in the order they first appear."""

    groups: dict[str, Group] = field(default_factory=dict)
    hosts: dict[str, Host] = field(default_factory=dict)
    _members: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)
    """Memo of `members`, emptied whenever a host or child group is added."""

    def __post_init__(self) -> None:
        self.group(ALL, None)

    def group(self, name: str, line: int | None) -> Group:
        """The group `name`, declared at `line` if it is new."""
        if name not in self.groups:
            self.groups[name] = Group(name, line)
        elif self.groups[name].line is None:
            self.groups[name].line = line
        return self.groups[name]

    def add_host(self, group: str, name: str, line: int | None, variables: dict[str, Var]) -> None:
        """List host `name` in `group`, with the variables given there (later ones win, as in Ansible)."""
        self._members.clear()
        host = self.hosts.setdefault(name, Host(name, line))
        host.vars.update(variables)
        members = self.group(group, line).hosts
        if name not in members:
            members.append(name)

    def add_child(self, parent: str, child: str, line: int | None) -> None:
        """Make `child` a child group of `parent`."""
        self._members.clear()
        self.group(child, line)
        children = self.group(parent, line).children
        if child not in children and child != parent:
            children.append(child)

    def members(self, name: str) -> list[str]:
        """Hosts of group `name` and of all its descendants, in inventory order."""
        found = self._member_set(name)
        return [host for host in self.hosts if host in found]

    def _member_set(self, name: str) -> frozenset[str]:
        if name not in self._members:
            if name == ALL:
                self._members[name] = frozenset(self.hosts)
            else:
                self._members[name] = frozenset(h for g in self._descendants(name) for h in g.hosts)
        return self._members[name]

    def effective_vars(self, host: str) -> dict[str, Var]:
        """The variables Ansible would give `host`.

        Group variables apply from the shallowest group to the deepest (ties by group name, as
        Ansible sorts them), then the host's own variables override them all.
        """
        groups = [g for g in self.groups.values() if host in self._member_set(g.name)]
        depth = self._depths()
        merged: dict[str, Var] = {}
        for group in sorted(groups, key=lambda g: (depth.get(g.name, 1), g.name)):
            merged.update(group.vars)
        merged.update(self.hosts[host].vars)
        return merged

    def _descendants(self, name: str) -> Iterator[Group]:
        seen: set[str] = set()
        pending = [name]
        while pending:
            current = pending.pop()
            if current in seen or current not in self.groups:
                continue
            seen.add(current)
            yield self.groups[current]
            pending += self.groups[current].children

    def _depths(self) -> dict[str, int]:
        """Distance of each group from `all` (the longest path, as Ansible counts it)."""
        parents: dict[str, list[str]] = {name: [] for name in self.groups}
        for group in self.groups.values():
            for child in group.children:
                parents.setdefault(child, []).append(group.name)
        depth: dict[str, int] = {ALL: 0}

        def visit(name: str, path: frozenset[str]) -> int:
            if name in depth:
                return depth[name]
            above = [p for p in parents.get(name, []) if p not in path and p != ALL]
            value = 1 + max((visit(p, path | {name}) for p in above), default=0)
            depth[name] = value
            return value

        for name in self.groups:
            visit(name, frozenset())
        return depth
