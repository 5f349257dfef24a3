"""group_vars/ and host_vars/ beside an inventory file, read the way Ansible reads them.

Kubespray keeps nearly every cluster setting there (`inventory/mycluster/group_vars/k8s_cluster/
k8s-cluster.yml`), so an import that skipped them would miss what matters. For a group or host
NAME, Ansible reads `group_vars/NAME` (no extension, .yml, .yaml or .json) and every such file
below a folder `group_vars/NAME/`, in sorted order with hidden files skipped; a later file overrides
an earlier one. Their variables override what the inventory file gives the same group or host (a
simplification: Ansible also ranks group_vars/all above every group variable of the inventory file).
An entry naming no group or host, and a vault-encrypted file, are reported; broken YAML is an
`InputError`. Folders are walked without following symlinks, to a bounded depth and file count.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import yaml

from khatui.errors import InputError
from khatui.inventory.ansible_tree import Inventory, Var
from khatui.inventory.ansible_yaml import compose, parse_vars
from khatui.inventory.reading import read_text
from khatui.inventory.result import ImportResult

EXTENSIONS = ("", ".yml", ".yaml", ".json")
MAX_DEPTH = 8
MAX_FILES = 512
"""Bound on the variable files read in all (Kubespray's sample has about 30)."""
_VAULT = "$ANSIBLE_VAULT;"


def read_vars_dirs(folder: Path, inventory: Inventory, result: ImportResult) -> None:
    """Merge the group_vars and host_vars files found in `folder` into `inventory`."""
    budget = [MAX_FILES]
    for kind, owners in (("group_vars", inventory.groups), ("host_vars", inventory.hosts)):
        base = folder / kind
        if not base.is_dir():
            continue
        for entry in sorted(os.scandir(base), key=lambda e: e.name):
            if entry.name.startswith("."):
                continue
            name = entry.name if entry.is_dir(follow_symlinks=False) else _stem(entry.name)
            if name is None:
                continue
            if name not in owners:
                what = "group" if kind == "group_vars" else "host"
                result.notice(None, f"names no {what} of the inventory; not read", entry.path)
                continue
            for path in _files(Path(entry.path), 0, budget, result):
                owners[name].vars.update(_read(path, result))


def _stem(file_name: str) -> str | None:
    """The group or host a variables file is for, or None when its extension is not one Ansible reads."""
    stem, dot, extension = file_name.rpartition(".")
    if not dot:
        return file_name
    return stem if f".{extension.lower()}" in EXTENSIONS else None


def _files(path: Path, depth: int, budget: list[int], result: ImportResult) -> Iterator[Path]:
    """The variable files at `path` (a file, or a folder walked in sorted order), within the budget."""
    if not path.is_dir() or path.is_symlink():
        if budget[0] <= 0:
            result.notice(None, f"more than {MAX_FILES} variable files; the rest are not read", str(path))
            return
        budget[0] -= 1
        yield path
        return
    if depth >= MAX_DEPTH:
        result.notice(None, f"folders nested more than {MAX_DEPTH} deep; not read", str(path))
        return
    for entry in sorted(os.scandir(path), key=lambda e: e.name):
        if not entry.name.startswith(".") and (entry.is_dir(follow_symlinks=False) or _stem(entry.name)):
            yield from _files(Path(entry.path), depth + 1, budget, result)


def _read(path: Path, result: ImportResult) -> dict[str, Var]:
    text = read_text(str(path), "Ansible variables file")
    if text.lstrip().startswith(_VAULT):
        result.notice(None, "encrypted with Ansible Vault; khatui cannot read it: not imported", str(path))
        return {}
    root = compose(text, str(path), "Ansible variables file")
    if root is not None and not isinstance(root, yaml.MappingNode):
        raise InputError(f"{path}:{root.start_mark.line + 1}: a variables file must map variable names to values")
    return parse_vars(root, str(path), result)
