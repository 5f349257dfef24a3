"""Stand-in for kubectl: `apply -f`, `get lease`, `version`; anything else is refused by name.

`apply -f PATH` (a file, or the *.yaml/*.yml/*.json files of a directory, in name order) parses
every YAML document and refuses the whole set, applying nothing, when one lacks apiVersion, kind or
metadata.name (stricter than kubectl, which would apply the others). It then checks the kubeconfig's
server answers /healthz over TLS verified with the kubeconfig's CA, as its user, and records the
objects in this node's APPLIED file, printing `kind.group/name created|configured|unchanged` as
kubectl does: the apiserver stand-in stores no such objects.

`get lease` answers from this node (see `kubectl_lease`).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import yaml

from .common import parse_flags, version
from .kubeclient import ClientError, load_kubeconfig, request
from .kubectl_lease import get_leases

APPLIED = Path("/var/lib/khatui-lab-standin/kubectl-applied.json")
SUFFIXES = (".yaml", ".yml", ".json")
BOOLEANS = frozenset({"client", "help", "h"})
COMMANDS = {
    "apply": {"kubeconfig", "namespace", "n", "f", "filename", "v"},
    "get": {"kubeconfig", "namespace", "n", "v"},
    "version": {"kubeconfig", "client", "v"},
}
CLUSTER_SCOPED = frozenset({
    "Namespace", "Node", "PersistentVolume", "ClusterRole", "ClusterRoleBinding", "StorageClass", "CSIDriver",
    "CSINode", "CustomResourceDefinition", "PriorityClass", "APIService", "IngressClass", "RuntimeClass",
    "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "VolumeSnapshotClass",
})  # fmt: skip


class KubectlError(Exception):
    """kubectl fails with this message (exit code 1)."""


def main(argv: list[str]) -> int:
    """Run kubectl with `argv`."""
    try:
        flags, positional = parse_flags(argv, BOOLEANS)
        if not positional or "help" in flags or "h" in flags:
            raise KubectlError("khatui lab stand-in for kubectl: supports apply -f, get lease, version only")
        command = positional[0]
        if command not in COMMANDS:
            raise KubectlError(
                f'unknown command "{command}" for "kubectl" (khatui lab stand-in: apply, get lease, version)'
            )
        unknown = sorted(set(flags) - COMMANDS[command])
        if unknown:
            raise KubectlError(
                f"unknown flag: --{unknown[0]} (khatui lab stand-in: kubectl {command} does not support it)"
            )
        if command == "version":
            return show_version(flags)
        if command == "get":
            kubeconfig(flags)  # kubectl needs one; the answer itself comes from this node
            return get_leases(positional[1:], flags.get("namespace") or flags.get("n") or "default")
        return apply(flags, positional[1:])
    except (KubectlError, ClientError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def kubeconfig(flags: dict[str, str]) -> str:
    """--kubeconfig, else $KUBECONFIG's first file, else ~/.kube/config."""
    path = flags.get("kubeconfig") or (os.environ.get("KUBECONFIG") or "").split(":")[0]
    path = path or os.path.expanduser("~/.kube/config")
    if not Path(path).is_file():
        raise KubectlError(f"kubeconfig {path}: no such file (pass --kubeconfig; khatui lab stand-in)")
    return path


def show_version(flags: dict[str, str]) -> int:
    """`kubectl version [--client]`."""
    print(f"Client Version: {version()}\nKustomize Version: v5.4.2")
    if "client" not in flags:
        reply = request(load_kubeconfig(kubeconfig(flags)), "GET", "/version", wait=10)
        server = reply.body.get("gitVersion") if isinstance(reply.body, dict) else None
        if reply.status != 200 or not server:
            raise KubectlError(f"the server answered /version with HTTP {reply.status}: {reply.message}")
        print(f"Server Version: {server}")
    return 0


def files_of(path: str) -> list[Path]:
    """The file `path`, or the manifest files directly in the directory `path`, sorted."""
    target = Path(path)
    if target.is_dir():
        return sorted(p for p in target.iterdir() if p.is_file() and p.suffix in SUFFIXES)
    if not target.is_file():
        raise KubectlError(f'the path "{path}" does not exist')
    return [target]


def read_objects(files: list[Path]) -> list[tuple[str, dict[str, Any]]]:
    """(source, object) of every document; `KubectlError` listing every invalid one."""
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
                    objects.append((f"{file}#{index}", item))
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


def apply(flags: dict[str, str], rest: list[str]) -> int:
    """`kubectl apply -f PATH`."""
    if rest:
        raise KubectlError(f"unexpected arguments {' '.join(rest)} (kubectl apply takes -f PATH)")
    path = flags.get("f") or flags.get("filename")
    if not path:
        raise KubectlError("must specify one of -f and -k")
    objects = read_objects(files_of(path))
    if not objects:
        raise KubectlError("no objects passed to apply")
    namespace = flags.get("namespace") or flags.get("n")
    config = load_kubeconfig(kubeconfig(flags))
    reply = request(config, "GET", "/healthz")
    if reply.status != 200:
        raise KubectlError(f"the API server at {config.server} is not healthy: HTTP {reply.status}: {reply.message}")
    try:
        applied: dict[str, Any] = json.loads(APPLIED.read_text())
    except (OSError, ValueError):
        applied = {}
    lines = []
    for _source, item in objects:
        own = item["metadata"].get("namespace")
        if item["kind"] in CLUSTER_SCOPED:
            where = ""
        elif namespace and own and own != namespace:
            raise KubectlError(
                f'the namespace from the provided object "{own}" does not match the namespace "{namespace}". '
                f"You must pass '--namespace={own}' to perform this operation."
            )
        else:
            where = str(own or namespace or "default")
        key = f"{resource(item)}/{where}/{item['metadata']['name']}"
        digest = hashlib.sha256(json.dumps(item, sort_keys=True).encode()).hexdigest()
        before = applied.get(key) or {}
        verb = "created" if not before else "unchanged" if before.get("digest") == digest else "configured"
        stamp = before.get("applied") if verb == "unchanged" else _now()
        applied[key] = {"digest": digest, "object": item, "applied": stamp}
        lines.append(f"{resource(item)}/{item['metadata']['name']} {verb}")
    APPLIED.parent.mkdir(parents=True, exist_ok=True)
    temporary = APPLIED.with_suffix(".tmp")
    temporary.write_text(json.dumps(applied, indent=2, sort_keys=True) + "\n")
    temporary.replace(APPLIED)
    print("\n".join(lines))
    return 0


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
