"""kubectl stand-in: `kubectl apply -f FILE|DIR`, client-side apply as kubectl does it.

Every YAML document is read first; one without apiVersion, kind or metadata.name refuses the whole
set, applying nothing (stricter than kubectl, which would apply the others). Then, per object in
file order: its kind is mapped through discovery read once at the start (so a CR applied with its
CRD in one run fails as with the real kubectl: `ensure CRDs are installed first`); a missing object
is created with the `kubectl.kubernetes.io/last-applied-configuration` annotation, an existing one
is patched with the difference from its last applied configuration (a JSON merge patch: kubectl's
strategic merge would merge lists by key), unchanged when there is none. Requests carry
`fieldValidation=Strict`, kubectl's default `--validate=strict`. Errors are collected, the others
applied, and kubectl exits 1 at the end.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from .kubectl_api import Api, Discovery, KubectlError, Mapping, ServerError

SUFFIXES = (".yaml", ".yml", ".json")
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
MERGE_PATCH = "application/merge-patch+json"
STRICT = "?fieldValidation=Strict"


def files_of(path: str) -> list[Path]:
    """The file `path`, or the manifest files directly in the directory `path`, sorted."""
    target = Path(path)
    if target.is_dir():
        return sorted(p for p in target.iterdir() if p.is_file() and p.suffix in SUFFIXES)
    if not target.is_file():
        raise KubectlError(f'the path "{path}" does not exist')
    return [target]


def read_objects(files: list[Path]) -> list[tuple[str, dict[str, Any]]]:
    """(file, object) of every document; `KubectlError` listing every invalid one."""
    objects: list[tuple[str, dict[str, Any]]] = []
    problems: list[str] = []
    for file in files:
        try:
            documents = list(yaml.safe_load_all(file.read_text()))
        except (OSError, yaml.YAMLError) as exc:
            problems.append(f'error parsing "{file}": {exc}')
            continue
        for index, doc in enumerate(documents, 1):
            if doc is None:
                continue
            items = doc.get("items") if isinstance(doc, dict) and doc.get("kind") == "List" else [doc]
            for item in items if isinstance(items, list) else [items]:
                missing = _missing(item)
                if missing or not isinstance(item, dict):
                    problems.append(f'error validating "{file}" (document {index}): {", ".join(missing)} not set')
                else:
                    objects.append((str(file), item))
    if problems:
        raise KubectlError("\n".join(problems) + "\nnothing was applied (khatui lab stand-in)")
    return objects


def _missing(item: Any) -> list[str]:
    if not isinstance(item, dict):
        return ["apiVersion", "kind", "metadata.name"]
    name = (item.get("metadata") or {}).get("name") if isinstance(item.get("metadata"), dict) else None
    return [key for key, value in (("apiVersion", item.get("apiVersion")), ("kind", item.get("kind")),
                                   ("metadata.name", name)) if not value]  # fmt: skip


def resource(item: dict[str, Any]) -> str:
    """kubectl's `kind.group` of an object (`deployment.apps`, `configmap`)."""
    group = str(item["apiVersion"]).rpartition("/")[0]
    return str(item["kind"]).lower() + (f".{group}" if group else "")


def three_way(last: Any, new: Any) -> Any:
    """The merge patch from the last applied configuration to the new one (None deletes a field
    the last one set and the new one drops); {} when nothing changed."""
    if not isinstance(last, dict) or not isinstance(new, dict):
        return new
    patch: dict[str, Any] = {key: None for key in last if key not in new}
    for key, value in new.items():
        if key not in last:
            patch[key] = value
        elif last[key] != value:
            patch[key] = three_way(last[key], value) if isinstance(value, dict) else value
    return patch


def namespace_of(mapping: Mapping, item: dict[str, Any], flag: str | None) -> str | None:
    """Where a namespaced object goes: its own namespace, else -n, else default."""
    if not mapping.namespaced:
        return None
    own = item["metadata"].get("namespace")
    if flag and own and own != flag:
        raise KubectlError(
            f'the namespace from the provided object "{own}" does not match the namespace "{flag}". '
            f"You must pass '--namespace={own}' to perform this operation."
        )
    return str(own or flag or "default")


def apply_one(api: Api, mapping: Mapping, namespace: str | None, item: dict[str, Any], source: str) -> str:
    """Create or patch one object; the verb kubectl prints (created, configured, unchanged)."""
    config = json.loads(json.dumps(item))
    annotations = {k: v for k, v in (config["metadata"].get("annotations") or {}).items() if k != LAST_APPLIED}
    config["metadata"].pop("annotations", None)
    if annotations:
        config["metadata"]["annotations"] = annotations
    if namespace:
        config["metadata"]["namespace"] = namespace
    applied = json.dumps(config, sort_keys=True, separators=(",", ":"))
    body = json.loads(applied)
    body["metadata"].setdefault("annotations", {})[LAST_APPLIED] = applied + "\n"
    name = str(item["metadata"]["name"])
    reply = api("GET", mapping.path(namespace, name))
    if reply.status == 404:
        created = api("POST", mapping.path(namespace) + STRICT, body)
        if created.status != 201:
            raise ServerError(created, f'error when creating "{source}": ')
        return "created"
    if reply.status != 200:
        raise ServerError(reply, f'error when retrieving current configuration of "{source}": ')
    annotations = (reply.body.get("metadata") or {}).get("annotations") or {}
    try:
        last = json.loads(annotations.get(LAST_APPLIED) or "{}")
    except ValueError:
        last = {}
    patch = three_way(last, config)
    if not patch:
        return "unchanged"
    patch.setdefault("metadata", {}).setdefault("annotations", {})[LAST_APPLIED] = applied + "\n"
    patched = api("PATCH", mapping.path(namespace, name) + STRICT, patch, content_type=MERGE_PATCH)
    if patched.status != 200:
        raise ServerError(patched, f'error when patching "{source}": ')
    return "configured"


def apply(api: Api, path: str, namespace: str | None, say: Any = print) -> list[str]:
    """`kubectl apply -f PATH`: apply every object, `say` each result; the errors (empty: success)."""
    objects = read_objects(files_of(path))
    if not objects:
        raise KubectlError("no objects passed to apply")
    discovery = Discovery(api)
    for api_version in dict.fromkeys(str(item["apiVersion"]) for _, item in objects):
        discovery.version(api_version)  # read once, before anything is applied
    errors = []
    for source, item in objects:
        mapping = discovery.kind(str(item["apiVersion"]), str(item["kind"]))
        name = item["metadata"]["name"]
        if mapping is None:
            errors.append(f'error: resource mapping not found for name: "{name}" namespace: '
                          f'"{item["metadata"].get("namespace") or namespace or ""}" from "{source}": no matches for '
                          f'kind "{item["kind"]}" in version "{item["apiVersion"]}"\nensure CRDs are installed first')  # fmt: skip
            continue
        try:
            verb = apply_one(api, mapping, namespace_of(mapping, item, namespace), item, source)
        except ServerError as error:
            errors.append(str(error))
            continue
        say(f"{resource(item)}/{name} {verb}")
    return errors
