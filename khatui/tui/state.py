"""The wizard's single source of truth: the spec being edited, as YAML-shaped data, always validated.

Screens never hold answers of their own: every edit goes through `WizardState.set`, which writes the
value at its YAML path and re-validates the whole document with the core's `validate_data`. Screens
then show the problems under the paths they own. Keeping the data YAML-shaped (camelCase keys,
plain values) rather than as `Cluster` models means a half-typed answer (an address without its last
digits) is kept and explained instead of being rejected, and back/next can never lose it. What the
wizard writes is `to_yaml` of the validated `Cluster`: the same text `khatui plan/apply` read.

The spec models load on the first validation, read or write, not with this module: the start
screen shows without them (`warm_up` loads them in the background after the first frame).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path as FilePath
from typing import TYPE_CHECKING, Any

from khatui.errors import InputError
from khatui.localfs import Folder
from khatui.spec import API_VERSION, KIND
from khatui.spec.problems import Path, Problem, Severity

if TYPE_CHECKING:
    from khatui.spec.cluster import Cluster
    from khatui.spec.validate import Report

NEW_CLUSTER: dict[str, Any] = {
    "apiVersion": API_VERSION,
    "kind": KIND,
    "metadata": {"name": "my-cluster"},
    "spec": {"nodes": [], "loadBalancer": {"mode": "local-proxy"}},
}
"""A new cluster: no nodes yet, the load balancer that needs no extra machine."""

Owner = Callable[[Path], bool]
"""Says whether a problem's path belongs to a screen."""


def under(*prefixes: Path) -> Owner:
    """An owner of every path starting with one of `prefixes`."""
    return lambda path: any(path[: len(prefix)] == prefix for prefix in prefixes)


def get_path(data: Any, path: Path, default: Any = None) -> Any:
    """The value at `path` in nested dicts and lists, or `default`."""
    current = data
    for part in path:
        in_dict = isinstance(current, dict) and isinstance(part, str) and part in current
        in_list = isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)
        if in_dict or in_list:
            current = current[part]
        else:
            return default
    return current


def set_path(data: dict[str, Any], path: Path, value: Any) -> None:
    """Write `value` at `path`, creating mappings on the way; `None` removes the key (the default applies)."""
    current: Any = data
    for part in path[:-1]:
        if isinstance(current, list) and isinstance(part, int):
            current = current[part]
            continue
        child = current.get(part)
        if not isinstance(child, dict | list):
            if value is None:
                return
            child = {}
            current[part] = child
        current = child
    last = path[-1]
    if isinstance(current, list) and isinstance(last, int):
        current[last] = value
    elif value is None:
        current.pop(last, None)
    else:
        current[last] = value


@dataclass
class WizardState:
    """The spec being edited, where it is saved, and its latest validation report."""

    data: dict[str, Any] = field(default_factory=lambda: copy.deepcopy(NEW_CLUSTER))
    path: FilePath | None = None
    """Where the spec is saved (None until the operator picks a file)."""
    dirty: bool = False
    """Edited since the last save."""
    _report: Report | None = field(default=None, init=False, repr=False)

    @property
    def report(self) -> Report:
        """The validation of the document as it is (computed on first use: the start screen and
        the first frame do not wait for the models)."""
        if self._report is None:
            self._report = self._validate(self.data)
        return self._report

    @report.setter
    def report(self, report: Report) -> None:
        self._report = report

    # -- reading --------------------------------------------------------------------------------
    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> WizardState:
        """Open a spec file (any problems in it are kept and shown, unreadable YAML raises `InputError`)."""
        from khatui.spec.yamlio import load_file

        loaded = load_file(str(path))
        return cls(loaded.data, FilePath(path))

    def get(self, path: Path, default: Any = None) -> Any:
        """The answer at `path`, or `default` when it is not given."""
        return get_path(self.data, path, default)

    @property
    def cluster(self) -> Cluster | None:
        """The validated cluster, when the document has the right shape."""
        return self.report.cluster

    @property
    def nodes(self) -> list[dict[str, Any]]:
        """The nodes as YAML-shaped mappings (never None)."""
        nodes = self.get(("spec", "nodes"))
        return nodes if isinstance(nodes, list) else []

    def problems(self, owner: Owner | None = None, errors_only: bool = False) -> list[Problem]:
        """Problems of the latest validation, those `owner` claims when given."""
        found = [p for p in self.report.problems if owner is None or owner(p.path)]
        return [p for p in found if p.severity is Severity.ERROR] if errors_only else found

    def problems_at(self, path: Path) -> list[Problem]:
        """Problems about `path` itself or anything inside it."""
        return [p for p in self.report.problems if p.path[: len(path)] == path]

    # -- editing --------------------------------------------------------------------------------
    def set(self, path: Path, value: Any) -> Report:
        """Write one answer and re-validate."""
        set_path(self.data, path, value)
        return self._changed()

    def replace(self, data: dict[str, Any]) -> Report:
        """Replace the whole document (an import, an opened file)."""
        self.data = data
        return self._changed()

    def trial(self, path: Path, value: Any) -> Report:
        """The report the document would have with `value` at `path`; the document is not changed."""
        data = copy.deepcopy(self.data)
        set_path(data, path, value)
        return self._validate(data)

    def trial_item(self, list_path: Path, index: int | None, item: Any) -> tuple[Report, Path]:
        """The report with `item` at `index` of the list at `list_path` (appended when None), and its path."""
        data = copy.deepcopy(self.data)
        items = get_path(data, list_path)
        if not isinstance(items, list):
            items = []
            set_path(data, list_path, items)
        if index is None or index >= len(items):
            items.append(item)
            index = len(items) - 1
        else:
            items[index] = item
        return self._validate(data), (*list_path, index)

    def put_item(self, list_path: Path, index: int | None, item: Any) -> int:
        """Store `item` at `index` of the list at `list_path` (appended when None); returns its index."""
        items = self.get(list_path)
        if not isinstance(items, list):
            items = []
            set_path(self.data, list_path, items)
        if index is None or index >= len(items):
            items.append(item)
            index = len(items) - 1
        else:
            items[index] = item
        self._changed()
        return index

    def append(self, path: Path, item: Any) -> int:
        """Append `item` to the list at `path`; returns its index."""
        items = self.get(path)
        if not isinstance(items, list):
            items = []
            set_path(self.data, path, items)
        items.append(item)
        self._changed()
        return len(items) - 1

    def remove(self, path: Path, index: int) -> None:
        """Remove item `index` of the list at `path`."""
        items = self.get(path)
        if isinstance(items, list) and 0 <= index < len(items):
            del items[index]
            self._changed()

    def _changed(self) -> Report:
        self.dirty = True
        self.report = self._validate(self.data)
        return self.report

    def _validate(self, data: dict[str, Any]) -> Report:
        from khatui.spec.validate import validate_data

        base = str(self.path.resolve().parent) if self.path is not None else None
        return validate_data(data, base_dir=base)

    # -- writing --------------------------------------------------------------------------------
    def to_yaml(self) -> str:
        """The spec as `khatui plan/apply` read it; a spec with shape errors is written as typed so far."""
        from khatui.spec.document import to_yaml
        from khatui.spec.yamlio import dump

        if self.cluster is not None:
            return to_yaml(self.cluster)
        return dump(self.data)

    def save(self, path: str | os.PathLike[str] | None = None) -> FilePath:
        """Write the spec to `path` (default: where it was opened or last saved); returns the file."""
        target = FilePath(path) if path is not None else self.path
        if target is None:
            raise InputError("choose a file to save the spec to")
        target = target.expanduser()
        # Through localfs: atomic, and never through a symlink at the file's name.
        with Folder.open(target.parent, create=True) as folder:
            folder.write({target.name: (self.to_yaml().encode("utf-8"), None)})
        self.path = target
        self.dirty = False
        self.report = self._validate(self.data)
        return target

    def suggested_path(self) -> FilePath:
        """Where to save when the operator has not said: `<cluster name>.yaml` in the current folder."""
        if self.path is not None:
            return self.path
        name = self.get(("metadata", "name")) or "cluster"
        return FilePath.cwd() / f"{name}.yaml"

    def canonical(self) -> None:
        """Replace the data by the validated cluster's plain form (after an import or open)."""
        from khatui.spec.document import to_data

        if self.cluster is not None:
            self.data = to_data(self.cluster)


def warm_up() -> None:
    """Load the spec models and build their validators, so that the first edit does not wait for
    them (the start screen calls this from a thread once it is on screen)."""
    from khatui.spec.validate import validate_data

    validate_data(copy.deepcopy(NEW_CLUSTER))


def parse_list(text: str) -> list[str]:
    """'a, b,,c' -> ['a', 'b', 'c'] (how list answers are typed)."""
    return [item.strip() for item in text.split(",") if item.strip()]


def format_value(value: Any) -> str:
    """An answer as the operator types it: lists comma-separated, missing as ''."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def owned_errors(problems: Iterable[Problem]) -> list[Problem]:
    """The errors among `problems`."""
    return [p for p in problems if p.severity is Severity.ERROR]
