"""The Kubernetes schemas the apiserver stand-in validates against, trimmed at install time.

The stand-ins run with a node's /usr/bin/python3 (no kubernetes-validate there), so the host, where
khatui's own dependency kubernetes-validate is installed, takes that package's strict definitions
of the cluster's minor version and keeps only what validation reads (types, properties, required,
additionalProperties, items, $ref, oneOf, group-version-kind, format): about 300 kB per version
instead of 4 MB, generated for the one version installed instead of committed for every version.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

KEPT = ("type", "required", "$ref", "format", "x-kubernetes-group-version-kind", "x-kubernetes-preserve-unknown-fields")
"""Keys of a schema node validation reads; `properties`, `items`, `additionalProperties`, `oneOf` recurse."""


class SchemaVersionError(Exception):
    """kubernetes-validate has no schemas for the requested Kubernetes version."""


def trim(node: Any) -> Any:
    """A schema node without descriptions and the keys validation does not read."""
    if not isinstance(node, dict):
        return node
    kept: dict[str, Any] = {key: node[key] for key in KEPT if key in node}
    if isinstance(node.get("properties"), dict):
        kept["properties"] = {name: trim(child) for name, child in node["properties"].items()}
    for key in ("items", "additionalProperties"):
        if key in node:
            kept[key] = trim(node[key])
    if isinstance(node.get("oneOf"), list):
        kept["oneOf"] = [trim(child) for child in node["oneOf"]]
    return kept


def schemas_for(version: str) -> bytes:
    """The trimmed strict definitions of Kubernetes `version` ('v1.31.4') as compact JSON."""
    minor = ".".join(version.lstrip("v").split(".")[:2])
    folder = resources.files("kubernetes_validate") / "kubernetes-json-schema" / f"v{minor}.0-local-strict"
    try:
        definitions = json.loads((folder / "_definitions.json").read_text())["$defs"]
    except (OSError, KeyError, ValueError):
        raise SchemaVersionError(f"kubernetes-validate has no schemas for Kubernetes {version}") from None
    trimmed = {name: trim(node) for name, node in definitions.items()}
    return json.dumps({"version": f"v{minor}", "definitions": trimmed}, separators=(",", ":"), sort_keys=True).encode()
