"""Fields generated from a spec model: the labels are the YAML keys, the tooltips the field docs.

The spec models already say everything a form needs (type, default, allowed values, documentation),
so the load balancer modes and the eight storage backends get their forms from the models rather
than from a hand-kept copy that could drift from what `khatui validate` accepts.
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from khatui.spec.problems import Path
from khatui.tui.state import format_value, get_path
from khatui.tui.widgets.field import BoundField, ChoiceField, FlagField, TextField


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """(the type inside `X | None`, whether None is allowed)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return annotation, False


def _choices(annotation: Any) -> list[str] | None:
    if typing.get_origin(annotation) is typing.Literal:
        return [str(a) for a in typing.get_args(annotation)]
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return [str(member.value) for member in annotation]
    return None


def model_fields(
    model: type[BaseModel], base: Path, data: Any, skip: frozenset[str] = frozenset(), label_prefix: str = ""
) -> Iterator[BoundField]:
    """A field for every settable key of `model` at `base` (keys in `skip` left out), values from `data`."""
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key in skip:
            continue
        annotation, optional = _unwrap(info.annotation)
        path = (*base, key)
        value = get_path(data, path)
        label = f"{label_prefix}{key}"
        default = None if info.default is PydanticUndefined else info.default
        field: BoundField
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from model_fields(annotation, path, data, label_prefix=f"{label}.")
            continue
        choices = _choices(annotation)
        if annotation is bool:
            field = FlagField(label, path, value, default=bool(default))
        elif choices is not None:
            shown = value if value is not None else (str(getattr(default, "value", default)) if default else None)
            field = ChoiceField(label, path, [(c, c) for c in choices], shown, blank="(default)" if optional else None)
        else:
            kind: typing.Literal["text", "int", "list"] = "text"
            if annotation is int:
                kind = "int"
            elif typing.get_origin(annotation) is list:
                kind = "list"
            if info.is_required():
                hint = "required"
            elif default in (None, []):
                hint = "optional"
            else:
                hint = f"{format_value(default)} (default)"
            field = TextField(label, path, value, kind=kind, placeholder=hint)
        if info.description:
            field.tooltip = info.description
        yield field
