"""YAML text for rendered files: stable key order, block style, multi-line strings as `|` blocks.

Key order is the order the renderer builds dicts in (kind and metadata first, like kubectl shows),
never sorted: the golden files then read like the upstream manifests they follow. libyaml's C
dumper is used because a 500-node spec renders thousands of documents (see benchmarks/).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import yaml

_Base: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_Base):  # type: ignore[valid-type,misc]
    """Safe dumper that writes multi-line strings as literal blocks."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def dump(document: Mapping[str, Any]) -> str:
    """One YAML document."""
    text: str = yaml.dump(dict(document), Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=10_000)
    return text


def dump_all(documents: Iterable[Mapping[str, Any]]) -> str:
    """Several YAML documents, each introduced by `---`."""
    return "".join(f"---\n{dump(document)}" for document in documents)
