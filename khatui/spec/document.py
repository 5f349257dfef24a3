"""Cluster <-> YAML text: plain dumps for saving, and commented dumps that document every field.

The commented form is generated from the models' field docstrings, so `khatui init` can never
drift from what the spec accepts: a field added to a model shows up, documented, in the next
example. Optional fields that are unset appear as commented-out lines.
"""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import BaseModel

from khatui.spec.cluster import Cluster
from khatui.spec.yamlio import dump


def to_data(cluster: Cluster) -> dict[str, Any]:
    """Plain data in YAML's key names, unset optional fields left out."""
    return cluster.model_dump(mode="json", by_alias=True, exclude_none=True)


def to_yaml(cluster: Cluster) -> str:
    """The spec as plain YAML (what the wizard saves and `plan`/`apply` read)."""
    return dump(to_data(cluster))


def to_commented_yaml(cluster: Cluster, header: str = "") -> str:
    """The spec as YAML with every field's documentation above it."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    _emit_model(cluster, 0, lines)
    return "\n".join(lines) + "\n"


def _scalar(value: Any) -> str:
    text: str = yaml.safe_dump(value, default_flow_style=True, width=10_000).strip()
    return text.removesuffix("\n...").removesuffix(" ...").strip()


def _comment(text: str | None, indent: str, lines: list[str]) -> None:
    for line in (text or "").splitlines():
        lines.append(f"{indent}# {line.strip()}".rstrip())


def _emit_model(
    model: BaseModel, depth: int, lines: list[str], first_prefix: str | None = None, comments: bool = True
) -> None:
    """Emit the fields of `model` at `depth`; `first_prefix` replaces the indent of the first key ('- ').

    List items after the first are emitted without comments or unset fields: the first documents them.
    """
    indent = "  " * depth
    first = True
    for name, info in type(model).model_fields.items():
        key = info.alias or name
        value = getattr(model, name)
        if value is None and not comments:
            continue
        if comments:
            _comment(info.description, indent, lines)
        prefix = indent
        if first and first_prefix is not None:
            # The comment went above the '- '; the key itself sits after the dash.
            prefix = first_prefix
        first = False
        dumped = model.model_dump(mode="json", by_alias=True, include={name}).get(key)
        if value is None:
            lines.append(f"{prefix}# {key}:")
        elif isinstance(value, BaseModel):
            inner: list[str] = []
            _emit_model(value, depth + 1, inner, comments=comments)
            # A model with every field unset would read back as null: write it as an empty mapping.
            empty = all(line.lstrip().startswith("#") for line in inner)
            lines.append(f"{prefix}{key}: {{}}" if empty else f"{prefix}{key}:")
            lines.extend(inner)
        elif isinstance(value, list) and value and isinstance(value[0], BaseModel):
            lines.append(f"{prefix}{key}:")
            for index, item in enumerate(value):
                dash = "  " * (depth + 1) + "- "
                _emit_model(item, depth + 2, lines, first_prefix=dash, comments=comments and index == 0)
        else:
            lines.append(f"{prefix}{key}: {_scalar(dumped)}")
