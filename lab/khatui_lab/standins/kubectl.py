"""Stand-in for kubectl: `apply -f`, `get`, `wait`, `delete`, `version`; anything else is refused by name.

Every command but `version --client` talks to the kubeconfig's server (HTTPS verified with its CA,
as its user): the apiserver stand-ins store the objects (see `kubectl_apply`, `kubectl_get`).
`get lease` alone answers from this node (see `kubectl_lease`): nothing in the lab renews leases.
Errors print as kubectl prints them: `error: ...`, or `Error from server (NotFound): ...`; exit 1.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from .common import parse_flags, version
from .kubeclient import ClientError, Reply, load_kubeconfig, request
from .kubectl_api import Api, KubectlError
from .kubectl_apply import apply
from .kubectl_get import delete, get, wait
from .kubectl_lease import RESOURCES as LEASES
from .kubectl_lease import get_leases

BOOLEANS = frozenset({"client", "help", "h", "A", "all-namespaces", "ignore-not-found"})
COMMON = {"kubeconfig", "namespace", "n", "v"}
COMMANDS = {
    "apply": COMMON | {"f", "filename", "validate"},
    "get": COMMON | {"A", "all-namespaces", "o", "output", "l", "selector"},
    "wait": COMMON | {"for", "timeout"},
    "delete": COMMON | {"f", "filename", "ignore-not-found"},
    "version": {"kubeconfig", "client", "v"},
}


def main(argv: list[str]) -> int:
    """Run kubectl with `argv`."""
    try:
        flags, positional = parse_flags(argv, BOOLEANS)
        if not positional or "help" in flags or "h" in flags:
            raise KubectlError("khatui lab stand-in for kubectl: supports apply -f, get, wait, delete, version")
        command = positional[0]
        if command not in COMMANDS:
            raise KubectlError(
                f'unknown command "{command}" for "kubectl" (khatui lab stand-in: apply, get, wait, delete, version)'
            )
        unknown = sorted(set(flags) - COMMANDS[command])
        if unknown:
            raise KubectlError(
                f"unknown flag: --{unknown[0]} (khatui lab stand-in: kubectl {command} does not support it)"
            )
        return run(command, flags, positional[1:])
    except (KubectlError, ClientError) as exc:
        text = str(exc)
        print(text if text.startswith("Error from server") else f"error: {text}", file=sys.stderr)
        return 1


def run(command: str, flags: dict[str, str], args: list[str]) -> int:
    """One kubectl command with its flags and arguments."""
    if command == "version":
        return show_version(flags)
    namespace = flags.get("namespace") or flags.get("n")
    if command == "get" and args and args[0] in LEASES:
        kubeconfig(flags)  # kubectl needs one; the answer itself comes from this node
        return get_leases(args, namespace or "default")
    api = client(flags)
    if command == "get":
        everywhere = "A" in flags or "all-namespaces" in flags
        output = flags.get("o") or flags.get("output") or ""
        return get(api, args, namespace or "default", everywhere, output, flags.get("l") or flags.get("selector") or "")
    if command == "wait":
        if not flags.get("for"):
            raise KubectlError("--for must be specified")
        return wait(api, args, namespace or "default", flags["for"], flags.get("timeout", "30s"))
    path = flags.get("f") or flags.get("filename")
    if command == "delete":
        return delete(api, args, namespace, path, "ignore-not-found" in flags)
    if args:
        raise KubectlError(f"unexpected arguments {' '.join(args)} (kubectl apply takes -f PATH)")
    if not path:
        raise KubectlError("must specify one of -f and -k")
    if flags.get("validate", "strict") not in ("strict", "true"):
        raise KubectlError("khatui lab stand-in: kubectl apply validates strictly (--validate=strict) only")
    errors = apply(api, path, namespace)
    for error in errors:
        print(error, file=sys.stderr)
    return 1 if errors else 0


def kubeconfig(flags: dict[str, str]) -> str:
    """--kubeconfig, else $KUBECONFIG's first file, else ~/.kube/config."""
    path = flags.get("kubeconfig") or (os.environ.get("KUBECONFIG") or "").split(":")[0]
    path = path or os.path.expanduser("~/.kube/config")
    if not Path(path).is_file():
        raise KubectlError(f"kubeconfig {path}: no such file (pass --kubeconfig; khatui lab stand-in)")
    return path


def client(flags: dict[str, str]) -> Api:
    """Requests to the kubeconfig's server."""
    config = load_kubeconfig(kubeconfig(flags))

    def api(method: str, path: str, body: Any = None, content_type: str | None = None) -> Reply:
        return request(config, method, path, body, content_type=content_type)

    return api


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
