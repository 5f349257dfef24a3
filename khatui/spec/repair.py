"""Stand-ins for the values of a spec that have the wrong shape, so the cross-field rules still run.

The rules need a typed `Cluster`, and one wrong value makes pydantic refuse the whole document.
Rather than skip every rule then, validation removes each value pydantic refused (its default
takes over; a broken list item is dropped; the few required parts with no default get a fixed
stand-in), validates again, and repeats until the document validates or nothing more can be
removed. Every path replaced this way is returned as unusable, and `rules.check` skips each rule
that reads one, so no rule ever reports on a stand-in. Everything here works on a copy.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from khatui.spec.cluster import Cluster
from khatui.spec.problems import Path

MAX_ROUNDS = 25
"""Each round removes at least one value; a document needing more is too broken to be worth it."""
STAND_INS: dict[Path, Any] = {
    ("metadata",): {"name": "unnamed"},
    ("metadata", "name"): "unnamed",
    ("spec", "loadBalancer"): {"mode": "local-proxy"},
}
"""Required values without a default: what stands in for them (rules reading them are skipped)."""


@dataclass(frozen=True)
class Repaired:
    """A cluster built from what could be used, and the paths whose written value was not."""

    cluster: Cluster
    unusable: list[Path]


def data_path(loc: Sequence[int | str], data: Any) -> Path:
    """pydantic's error location, minus the union tags it inserts, so it names what the YAML says."""
    path: list[int | str] = []
    current = data
    for part in loc:
        if isinstance(current, dict) and part not in current and part in (current.get("mode"), current.get("backend")):
            continue
        path.append(part)
        if isinstance(current, dict):
            current = current.get(part)
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            current = current[part]
        else:
            current = None
    return tuple(path)


def repair(data: Any, errors: list[ErrorDetails]) -> Repaired | None:
    """A cluster from `data` with the values behind `errors` removed, or None when none can be built."""
    try:
        work = _unshared_copy(data)
    except RecursionError:
        return None
    unusable: list[Path] = []
    for _ in range(MAX_ROUNDS):
        removals: dict[Path, bool] = {}
        for err in errors:
            path = data_path(err["loc"], work)
            if err["type"] == "missing" and path not in STAND_INS:
                path = path[:-1]
            # An unknown key changes nothing the rules read: removing it leaves no stand-in.
            removals.setdefault(path, err["type"] != "extra_forbidden")
        for path in sorted(removals, key=_order, reverse=True):
            removed = _remove(work, path, unusable)
            if removed is None:
                return None
            if removals[path] or removed != path:
                unusable.append(removed)
        try:
            return Repaired(Cluster.model_validate(work), unusable)
        except ValidationError as exc:
            errors = exc.errors()
    return None


def _unshared_copy(data: Any) -> Any:
    """A copy of plain YAML data in which no two places share a list or dict (as YAML aliases make
    them share), so that removing a value in one place leaves the other alone."""
    if isinstance(data, dict):
        return {key: _unshared_copy(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_unshared_copy(item) for item in data]
    return data


def _order(path: Path) -> tuple[tuple[int, int, str], ...]:
    """Sort key putting later list items after earlier ones, so removing in reverse keeps indexes valid."""
    return tuple((1, part, "") if isinstance(part, int) else (0, 0, part) for part in path)


def _remove(work: Any, path: Path, unusable: list[Path]) -> Path | None:
    """Replace the value at `path` by its stand-in, or delete it: the path changed, None at the top."""
    if not path:
        return None
    parent = _get(work, path[:-1])
    key = path[-1]
    if path in STAND_INS and path not in unusable and isinstance(parent, dict):
        parent[key] = copy.deepcopy(STAND_INS[path])
        return path
    if isinstance(parent, dict) and key in parent:
        del parent[key]
        return path
    if isinstance(parent, list) and isinstance(key, int) and 0 <= key < len(parent):
        del parent[key]
        return path
    # Nothing at `path`: the value containing it is what fails.
    return _remove(work, path[:-1], unusable)


def _get(data: Any, path: Path) -> Any:
    current = data
    for part in path:
        if isinstance(current, dict):
            current = current.get(part)
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            current = current[part]
        else:
            return None
    return current
