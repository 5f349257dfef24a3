"""From YAML text or data to a checked `Cluster`, with every problem found on the way.

Three layers, each adding problems rather than stopping: the shape (pydantic: types, unknown
fields, required fields), the cross-field rules (`rules.check`), and the operator's machine
(identity files exist and are private, CA files to import exist). When the shape is wrong the other
two still run, on a copy with stand-ins for the wrong values (`khatui.spec.repair`), skipping what
reads those. YAML that cannot be read at all raises `InputError` instead: there is nothing to point
at but the file.
"""

from __future__ import annotations

import difflib
import os
import stat
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path as FilePath
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from khatui.boundedread import read_regular
from khatui.errors import InputError
from khatui.spec import rules
from khatui.spec.cluster import Cluster
from khatui.spec.mirrorkey import KEY_LIMIT, key_problem
from khatui.spec.problems import Path, Problem, error, has_errors, sort_problems
from khatui.spec.repair import data_path, repair
from khatui.spec.yamlio import LoadedYAML, load_file

FILE_READS: tuple[Path, ...] = (
    (*rules.NODE, "ssh", "identityFile"),
    (*rules.NODE, "ssh", "jumpIdentityFile"),
    ("spec", "pki", "ca"),
    ("spec", "install", "packages", "mirror", "key"),
)
"""What `check_files` reads, for skipping it like a rule when one of those is unusable."""

_SECRET_KEYS = {
    "password": "sudoPasswordEnv",
    "sudopassword": "sudoPasswordEnv",
    "passphrase": "keyPassphraseEnv",
    "keypassphrase": "keyPassphraseEnv",
    "secret": "secretRef",
    "key": "secretRef",
    "usersecret": "secretRef",
    "userkey": "secretRef",
    "token": "an environment variable",
}


@dataclass
class Report:
    """The outcome of validating one spec: the cluster (when its shape is right) and all problems."""

    cluster: Cluster | None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when there is a cluster and no error (warnings allowed)."""
        return self.cluster is not None and not has_errors(self.problems)


def validate_data(data: Any, loaded: LoadedYAML | None = None, base_dir: str | None = None) -> Report:
    """Validate parsed data. With `loaded`, problems get file and line; with `base_dir`, files are checked."""
    unusable: list[Path] = []
    try:
        cluster: Cluster | None = Cluster.model_validate(data)
        checked = cluster
        problems: list[Problem] = []
    except ValidationError as exc:
        cluster = None
        problems = [_translate(err, data) for err in exc.errors()]
        repaired = repair(data, exc.errors())
        checked, unusable = (repaired.cluster, repaired.unusable) if repaired else (None, [])
    if checked is not None:
        problems += rules.check(checked, unusable)
        reads_unusable = any(rules.touches(read, path) for read in FILE_READS for path in unusable)
        if base_dir is not None and not reads_unusable:
            problems += check_files(checked, base_dir)
    if loaded is not None:
        problems = [p.located(loaded.source, loaded.line_of(p.path)) for p in problems]
    return Report(cluster, sort_problems(problems))


def validate_file(path: str, check_local_files: bool = True) -> Report:
    """Load and validate a spec file. Unreadable YAML raises `InputError`."""
    loaded = load_file(path)
    base = str(FilePath(path).resolve().parent) if check_local_files else None
    return validate_data(loaded.data, loaded, base)


def resolve_local_path(value: str, base_dir: str) -> FilePath:
    """A path from the spec as the operator's machine sees it: '~' expanded, relative to the spec."""
    path = FilePath(os.path.expanduser(value))
    return path if path.is_absolute() else FilePath(base_dir) / path


def check_files(cluster: Cluster, base_dir: str) -> list[Problem]:
    """Problems with local files the spec names: SSH identity files, CA files to import, the
    package mirror's key (it must be an OpenPGP public key)."""
    problems: list[Problem] = []
    for index, node in enumerate(cluster.spec.nodes):
        for key, value in (("identityFile", node.ssh.identity_file), ("jumpIdentityFile", node.ssh.jump_identity_file)):
            if value:
                problems += _file_problems(("spec", "nodes", index, "ssh", key), value, base_dir, private=True)
    for name in ("etcd", "kubernetes", "frontProxy"):
        source = getattr(cluster.spec.pki.ca, "front_proxy" if name == "frontProxy" else name)
        if source.mode == "import":
            for key, value, private in (("certFile", source.cert_file, False), ("keyFile", source.key_file, True)):
                problems += _file_problems(("spec", "pki", "ca", name, key), value, base_dir, private)
    mirror = cluster.spec.install.packages.mirror
    if mirror is not None:
        where: Path = ("spec", "install", "packages", "mirror", "key")
        problems += _file_problems(where, mirror.key, base_dir, private=False) or _key_problems(
            where, mirror.key, base_dir
        )
    return problems


def _key_problems(where: Path, value: str, base_dir: str) -> list[Problem]:
    path = resolve_local_path(value, base_dir)
    try:
        problem = key_problem(read_regular(str(path), KEY_LIMIT, "package mirror key"))
    except InputError as exc:
        return [error(where, str(exc))]
    return [error(where, f"{path}: {problem}")] if problem else []


def _file_problems(where: Path, value: str, base_dir: str, private: bool) -> list[Problem]:
    path = resolve_local_path(value, base_dir)
    try:
        info = path.stat()
    except OSError as exc:
        return [error(where, f"{path}: {exc.strerror.lower() if exc.strerror else 'cannot be read'}")]
    if not stat.S_ISREG(info.st_mode):
        return [error(where, f"{path} is not a regular file")]
    if private and info.st_mode & 0o077:
        mode = stat.S_IMODE(info.st_mode)
        return [
            error(
                where, f"{path} has permissions {mode:04o}, wider than 0600; ssh refuses such keys (chmod 600 {path})"
            )
        ]
    return []


def _translate(err: ErrorDetails, data: Any) -> Problem:
    """A pydantic error -> a Problem with a YAML path and a message an operator can act on."""
    path = data_path(err["loc"], data)
    kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    if kind == "extra_forbidden":
        key = str(path[-1])
        reference = _SECRET_KEYS.get(key.lower().replace("_", "").replace("-", ""))
        if reference:
            return error(
                path,
                f"secrets are never written in the spec; give {reference} instead (a reference to where the secret is kept)",
            )
        close = difflib.get_close_matches(key, _field_names(), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return error(path, f"unknown field {key!r}{hint}")
    if kind == "missing":
        return error(path, "required field is missing")
    if kind == "union_tag_invalid":
        tags = ctx.get("expected_tags", "")
        return error((*path, ctx.get("discriminator", "").strip("'")), f"{ctx.get('tag')!r} is not one of: {tags}")
    if kind == "union_tag_not_found":
        return error((*path, ctx.get("discriminator", "").strip("'")), "required field is missing")
    message = err["msg"].removeprefix("Value error, ")
    if kind != "value_error" and not isinstance(value, (dict, list)) and not _names_a_secret(path):
        message += f" (got {value!r})"
    return error(path, message)


def _names_a_secret(path: Path) -> bool:
    """True for a field that names where a secret is kept (`*Env`, `secretRef`): its value may be the secret."""
    keys = [str(part) for part in path if isinstance(part, str)]
    return bool(keys) and (keys[-1].endswith("Env") or "secretRef" in keys)


@cache
def _field_names() -> list[str]:
    """Every YAML key any spec model accepts, for 'did you mean' hints."""
    names: set[str] = set()
    pending: list[type[BaseModel]] = [Cluster]
    seen: set[type[BaseModel]] = set()
    while pending:
        model = pending.pop()
        if model in seen:
            continue
        seen.add(model)
        for name, info in model.model_fields.items():
            names.add(info.alias or name)
        pending += _submodels(model)
    return sorted(names)


def _submodels(model: type[BaseModel]) -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = []
    for info in model.model_fields.values():
        stack: list[Any] = [info.annotation]
        while stack:
            tp = stack.pop()
            if isinstance(tp, type) and issubclass(tp, BaseModel):
                found.append(tp)
            stack += list(getattr(tp, "__args__", ()))
            stack += list(getattr(tp, "__metadata__", ()))
            origin = getattr(tp, "__origin__", None)
            if origin is not None:
                stack.append(origin)
    return [m for m in found if isinstance(m, type)]
