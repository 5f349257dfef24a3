"""A YAML document read as located values: every lookup knows its field path and line.

The k0sctl and KubeKey importers read a few known keys out of a larger document; a value of the
wrong shape must be reported as `FILE:LINE: spec.hosts[2].ssh.port: ...`, so values are kept as
composed YAML nodes (never constructed: an alias is a reference, not a copy) and wrapped with the
path that reached them. A wrong shape is an `InputError` with file, line and field.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from khatui.errors import InputError
from khatui.inventory.ansible_yaml import compose_all

_NULL = "tag:yaml.org,2002:null"


@dataclass(frozen=True)
class Value:
    """One value of the document at `path` (`spec.hosts[0].ssh`)."""

    node: yaml.Node
    path: str
    source: str

    @property
    def line(self) -> int:
        """1-based line of the value."""
        return int(self.node.start_mark.line) + 1

    def fail(self, message: str) -> InputError:
        """An `InputError` naming the file, line and field of this value."""
        return InputError(f"{self.source}:{self.line}: {self.path}: {message}")

    def get(self, key: str) -> Value | None:
        """The value under `key` of this mapping; None when absent or null."""
        for name, value in self.pairs():
            if name == key:
                return None if _is_null(value.node) else value
        return None

    def pairs(self) -> list[tuple[str, Value]]:
        """(key, value) of this mapping in file order."""
        if _is_null(self.node):
            return []
        if not isinstance(self.node, yaml.MappingNode):
            raise self.fail("must be a mapping")
        found = []
        for key, value in self.node.value:
            if not isinstance(key, yaml.ScalarNode):
                raise Value(key, self.path, self.source).fail("a key must be a plain value")
            path = f"{self.path}.{key.value}" if self.path else str(key.value)
            found.append((str(key.value), Value(value, path, self.source)))
        return found

    def items(self) -> list[Value]:
        """The items of this sequence."""
        if _is_null(self.node):
            return []
        if not isinstance(self.node, yaml.SequenceNode):
            raise self.fail("must be a list")
        return [Value(item, f"{self.path}[{index}]", self.source) for index, item in enumerate(self.node.value)]

    def text(self) -> str:
        """This scalar as text."""
        if not isinstance(self.node, yaml.ScalarNode) or _is_null(self.node):
            raise self.fail("must be a single value")
        return str(self.node.value)

    def port(self) -> int:
        """This scalar as a port number."""
        text = self.text()
        if not text.isdigit() or not 1 <= int(text) <= 65535:
            raise self.fail(f"{text!r} is not a port number (1-65535)")
        return int(text)


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == _NULL


def document(text: str, source: str, what: str, api_group: str) -> Value:
    """The document of `text` whose apiVersion is in `api_group` and whose kind is Cluster."""
    for root in compose_all(text, source, what):
        value = Value(root, "", source)
        if not isinstance(root, yaml.MappingNode):
            continue
        api, kind = value.get("apiVersion"), value.get("kind")
        if api is None or kind is None:
            continue
        if api.text().startswith(f"{api_group}/") and kind.text().lower() == "cluster":
            return value
    raise InputError(f"{source}: no document with apiVersion {api_group}/... and kind Cluster; is this a {what}?")
