"""kubectl stand-in: `get`, `wait` and `delete` over the API, printed as kubectl prints them.

`get TYPE [NAME...] [-n NS | -A] [-l SELECTOR] [-o json|yaml|name|wide]` prints kubectl's table:
nodes as NAME STATUS ROLES AGE VERSION (STATUS from the Ready condition: Ready, NotReady, or
Unknown without one; `,SchedulingDisabled` when cordoned), Deployments as NAME READY UP-TO-DATE
AVAILABLE AGE, namespaces as NAME STATUS AGE, anything else as NAME AGE. (The real kubectl asks the
server for these tables; the stand-in builds the same columns itself.) `wait --for=condition=C[=V]
TYPE/NAME... [--timeout=30s]` polls once a second; `delete TYPE NAME...` and `delete -f FILE`.
"""

from __future__ import annotations

import datetime
import json
import re
import sys
import time
import urllib.parse
from typing import Any

import yaml

from .kubectl_api import Api, Discovery, KubectlError, Mapping, ServerError
from .kubectl_apply import files_of, read_objects

DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def age(timestamp: str | None, now: datetime.datetime | None = None) -> str:
    """An object's age as kubectl prints it (`42s`, `5m`, `3h`, `2d`)."""
    if not timestamp:
        return "<unknown>"
    then = datetime.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    seconds = max(0, int(((now or datetime.datetime.now(datetime.UTC)) - then).total_seconds()))
    for limit, unit, size in ((120, "s", 1), (10800, "m", 60), (172800, "h", 3600)):
        if seconds < limit:
            return f"{seconds // size}{unit}"
    return f"{seconds // 86400}d"


def node_status(node: dict[str, Any]) -> str:
    """STATUS of `kubectl get nodes`: the Ready condition, and SchedulingDisabled when cordoned."""
    conditions = (node.get("status") or {}).get("conditions") or []
    ready = next((c for c in conditions if c.get("type") == "Ready"), None)
    text = "Unknown" if ready is None else "Ready" if ready.get("status") == "True" else "NotReady"
    return text + (",SchedulingDisabled" if (node.get("spec") or {}).get("unschedulable") else "")


def _row(mapping: Mapping, obj: dict[str, Any]) -> list[str]:
    meta, status = obj.get("metadata") or {}, obj.get("status") or {}
    created = age(meta.get("creationTimestamp"))
    if mapping.kind == "Node" and not mapping.group:
        prefix = "node-role.kubernetes.io/"
        labels = meta.get("labels") or {}
        roles = {k[len(prefix) :] for k in labels if k.startswith(prefix) and k[len(prefix) :]}
        roles |= {str(labels["kubernetes.io/role"])} if labels.get("kubernetes.io/role") else set()
        version = str((status.get("nodeInfo") or {}).get("kubeletVersion") or "")
        return [meta["name"], node_status(obj), ",".join(sorted(roles)) or "<none>", created, version]
    if mapping.kind == "Deployment":
        wanted = (obj.get("spec") or {}).get("replicas", 1)
        ready = f"{status.get('readyReplicas', 0)}/{wanted}"
        return [meta["name"], ready, str(status.get("updatedReplicas", 0)), str(status.get("availableReplicas", 0)),
                created]  # fmt: skip
    if mapping.kind == "Namespace" and not mapping.group:
        return [meta["name"], str(status.get("phase", "")), created]
    return [meta["name"], created]


def _header(mapping: Mapping) -> list[str]:
    if mapping.kind == "Node" and not mapping.group:
        return ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    if mapping.kind == "Deployment":
        return ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    if mapping.kind == "Namespace" and not mapping.group:
        return ["NAME", "STATUS", "AGE"]
    return ["NAME", "AGE"]


def table(rows: list[list[str]]) -> str:
    """Columns padded as kubectl's printer pads them (three spaces between)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("   ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows)


def _fetch(api: Api, mapping: Mapping, namespace: str | None, names: list[str], selector: str) -> list[Any]:
    if names:
        found = []
        for name in names:
            reply = api("GET", mapping.path(namespace, name))
            if reply.status != 200:
                raise ServerError(reply)
            found.append(reply.body)
        return found
    query = "?labelSelector=" + urllib.parse.quote(selector) if selector else ""
    reply = api("GET", mapping.path(namespace) + query)
    if reply.status != 200:
        raise ServerError(reply)
    return list(reply.body.get("items") or [])


def get(api: Api, args: list[str], namespace: str, everywhere: bool, output: str, selector: str) -> int:
    """`kubectl get TYPE [NAME...]`."""
    if not args:
        raise KubectlError("You must specify the type of resource to get.")
    mapping = Discovery(api).resource(args[0])
    where = None if everywhere or not mapping.namespaced else namespace
    items = _fetch(api, mapping, where, args[1:], selector)
    if output in ("json", "yaml"):
        single = len(args) == 2
        doc = items[0] if single else {"apiVersion": "v1", "items": items, "kind": "List",
                                       "metadata": {"resourceVersion": ""}}  # fmt: skip
        print(json.dumps(doc, indent=4) if output == "json" else yaml.safe_dump(doc, sort_keys=True), end="\n")
        return 0
    if output == "name":
        print("\n".join(f"{mapping.singular}/{item['metadata']['name']}" for item in items))
        return 0
    if output not in ("", "wide"):
        raise KubectlError(f"unable to match a printer suitable for the output format \"{output}\", allowed formats "
                           "are: json,name,wide,yaml")  # fmt: skip
    if not items:
        print(f"No resources found in {where} namespace." if where else "No resources found", file=sys.stderr)
        return 0
    rows = [_row(mapping, item) for item in items]
    header = _header(mapping)
    if everywhere and mapping.namespaced:
        header = ["NAMESPACE", *header]
        rows = [[str(item["metadata"].get("namespace", "")), *row] for item, row in zip(items, rows, strict=True)]
    print(table([header, *rows]))
    return 0


def seconds(text: str) -> float:
    """A kubectl `--timeout` (`30s`, `5m`, `1h2m3s`, or bare seconds)."""
    if text.isdigit():
        return float(text)
    match = DURATION.match(text)
    if not text or match is None:
        raise KubectlError(f'invalid argument "{text}" for "--timeout" flag: time: invalid duration "{text}"')
    hours, minutes, secs = (int(g or 0) for g in match.groups())
    return float(hours * 3600 + minutes * 60 + secs)


def _targets(discovery: Discovery, args: list[str]) -> list[tuple[Mapping, str]]:
    if len(args) == 2 and "/" not in args[0]:
        return [(discovery.resource(args[0]), args[1])]
    targets = []
    for arg in args:
        typed, slash, name = arg.partition("/")
        if not slash or not name:
            raise KubectlError(f"arguments in resource/name form must have a single resource and name: {arg}")
        targets.append((discovery.resource(typed), name))
    return targets


def met(obj: dict[str, Any], wanted: str, value: str) -> bool:
    """kubectl's ConditionalWait check: the condition (names and values compared case-insensitively)
    has the value, and it is not older than the object's generation (observedGeneration)."""
    status = obj.get("status") or {}
    for condition in status.get("conditions") or []:
        if str(condition.get("type", "")).lower() != wanted.lower() or "status" not in condition:
            continue
        generation = (obj.get("metadata") or {}).get("generation")
        observed = condition.get("observedGeneration", status.get("observedGeneration"))
        if generation is not None and observed is not None and observed < generation:
            return False
        return str(condition["status"]).lower() == value.lower()
    return False


def wait(api: Api, args: list[str], namespace: str, condition: str, timeout: str) -> int:
    """`kubectl wait --for=condition=C[=V] TYPE/NAME...`: 0 when every one meets it in time
    (`--timeout=0` looks once: `condition not met for ...`)."""
    if not condition.startswith("condition="):
        raise KubectlError(f'unrecognized condition: "{condition}" (khatui lab stand-in: condition=... only)')
    wanted, _, value = condition[len("condition=") :].partition("=")
    limit = seconds(timeout or "30s")
    deadline = time.monotonic() + limit
    for mapping, name in _targets(Discovery(api), args):
        while True:
            reply = api("GET", mapping.path(namespace, name))
            if reply.status != 200:
                raise ServerError(reply)
            if met(reply.body, wanted, value or "True"):
                print(f"{mapping.singular}/{name} condition met")
                break
            if limit == 0:
                raise KubectlError(f"condition not met for {mapping.qualified}/{name}")
            if time.monotonic() >= deadline:
                raise KubectlError(f"timed out waiting for the condition on {mapping.resource}/{name}")
            time.sleep(1.0)
    return 0


def delete(api: Api, args: list[str], namespace: str | None, path: str | None, ignore_missing: bool) -> int:
    """`kubectl delete TYPE NAME...` or `kubectl delete -f PATH`."""
    discovery = Discovery(api)
    if path:
        targets = []
        for _source, item in read_objects(files_of(path)):
            mapping = discovery.kind(str(item["apiVersion"]), str(item["kind"]))
            if mapping is None:
                raise KubectlError(f'no matches for kind "{item["kind"]}" in version "{item["apiVersion"]}"')
            targets.append((mapping, str(item["metadata"]["name"]), item["metadata"].get("namespace") or namespace))
    else:
        if len(args) < 2:
            raise KubectlError("resource(s) were provided, but no name was specified")
        mapping = discovery.resource(args[0])
        targets = [(mapping, name, namespace) for name in args[1:]]
    code = 0
    for mapping, name, where in targets:
        reply = api("DELETE", mapping.path(where or "default", name))
        if reply.status == 404 and ignore_missing:
            continue
        if reply.status != 200:
            print(ServerError(reply), file=sys.stderr)
            code = 1
            continue
        print(f'{mapping.singular} "{name}" deleted')
    return code
