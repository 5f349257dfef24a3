"""kube-apiserver stand-in: strict decoding of an object against its kind's schema.

The real apiserver decodes a body into the Go type of its kind; with `fieldValidation=Strict`
(what kubectl sends by default since 1.27, `--validate=strict`) a field the type lacks fails the
request, and a value of the wrong JSON type always does. The stand-in walks the trimmed
OpenAPI definitions of the cluster's version (written beside it at install time, see
`khatui_lab.standins_schemas`) and words its refusals as the real decoder does:

- `json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32`
- `strict decoding error: unknown field "spec.foo", unknown field "spec.template.spec.containers[0].bar"`

A field the schema marks required and the object lacks, outside `status`, is reported as the
validation error the real apiserver's hand-written validation gives for it (`spec.selector:
Required value`): the schemas' `required` lists are the Go fields without omitempty, which that
validation requires too outside status (where it checks little: a kubelet's partial nodeInfo passes).
It checks much more (names, label syntax, ...), which the stand-in does not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEMAS = Path(__file__).with_name("schemas.json")
"""Written by `install_standins` for the cluster's version (absent in a source checkout)."""
GO_SCALARS = {"string": "string", "boolean": "bool", "number": "float64", "integer": "int64"}
JSON_NAMES = {str: "string", bool: "bool", int: "number", float: "number", list: "array", dict: "object"}


@dataclass
class Findings:
    """What decoding one object found: the first type error, unknown fields, missing required ones."""

    type_error: str | None = None
    unknown: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return {str: "string", float: "number", list: "array", dict: "object"}.get(type(value), "null")


def _types(node: dict[str, Any]) -> set[str]:
    """The non-null JSON types a schema node allows (its `type` is a name or a list of names)."""
    declared = node.get("type") or []
    return {declared} - {"null"} if isinstance(declared, str) else set(declared) - {"null"}


def _fits(value: Any, types: set[str]) -> bool:
    actual = _json_type(value)
    return not types or actual in types or (actual == "integer" and "number" in types)


class Schemas:
    """The definitions of one Kubernetes version, by name and by group/version/kind."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.version = str(data.get("version", ""))
        self.definitions: dict[str, Any] = data["definitions"]
        self.by_kind: dict[tuple[str, str, str], str] = {}
        for name, node in self.definitions.items():
            for gvk in node.get("x-kubernetes-group-version-kind") or []:
                self.by_kind[(str(gvk["group"]), str(gvk["version"]), str(gvk["kind"]))] = name

    @classmethod
    def load(cls, path: Path = SCHEMAS) -> Schemas:
        """The schemas installed beside the stand-in; OSError/ValueError when absent or unreadable."""
        return cls(json.loads(path.read_text()))

    def _resolve(self, node: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        ref = node.get("$ref")
        if isinstance(ref, str):
            name = ref.rsplit("/", 1)[-1]
            return self.definitions.get(name, {}), name
        return node, None

    def go_type(self, node: dict[str, Any]) -> str:
        """How Go names the type a schema node decodes into (`int32`, `v1.Container`, `[]string`)."""
        node, name = self._resolve(node)
        if name is not None and "properties" in node:
            return ".".join(name.split(".")[-2:])
        types = _types(node)
        if "array" in types:
            return "[]" + self.go_type(node.get("items") or {})
        if "object" in types:
            values = node.get("additionalProperties")
            return "map[string]" + (self.go_type(values) if isinstance(values, dict) else "interface {}")
        if "integer" in types and node.get("format") in ("int32", "int64"):
            return str(node["format"])
        return next((GO_SCALARS[t] for t in ("string", "boolean", "integer", "number") if t in types), "interface {}")

    def decode(self, obj: dict[str, Any], definition: str) -> Findings:
        """Decode `obj` as definition `definition` (see the module docstring)."""
        found = Findings()
        self._walk(obj, {"$ref": f"#/$defs/{definition}"}, [], [], "", found)
        return found

    def _walk(self, value: Any, node: dict[str, Any], path: list[str], plain: list[str], owner: str,
              found: Findings) -> None:  # fmt: skip
        node, name = self._resolve(node)
        owner = name.rsplit(".", 1)[-1] if name and "properties" in node else owner
        if value is None or found.type_error:
            return
        alternatives = node.get("oneOf")
        types = _types(node)
        if isinstance(alternatives, list):
            types = {t for alt in alternatives for t in _types(alt)}
        if not _fits(value, types):
            where = ".".join(plain)
            found.type_error = (f"json: cannot unmarshal {JSON_NAMES.get(type(value), 'value')} into Go struct field "
                                f"{owner}.{where} of type {self.go_type(node)}")  # fmt: skip
            return
        if isinstance(value, dict):
            self._walk_object(value, node, path, plain, owner, found)
        elif isinstance(value, list) and isinstance(node.get("items"), dict):
            for index, item in enumerate(value):
                self._walk(item, node["items"], [*path[:-1], f"{path[-1] if path else ''}[{index}]"], plain, owner,
                           found)  # fmt: skip

    def _walk_object(self, value: dict[str, Any], node: dict[str, Any], path: list[str], plain: list[str],
                     owner: str, found: Findings) -> None:  # fmt: skip
        properties = node.get("properties")
        extra = node.get("additionalProperties")
        for key, child in value.items():
            if isinstance(properties, dict) and key in properties:
                self._walk(child, properties[key], [*path, key], [*plain, key], owner, found)
            elif isinstance(extra, dict):
                self._walk(child, extra, [*path, key], [*plain, key], owner, found)
            elif extra is False and not node.get("x-kubernetes-preserve-unknown-fields"):
                found.unknown.append(".".join([*path, key]))
        for key in node.get("required") or []:
            if value.get(key) is None:
                found.missing.append(".".join([*path, key]))

    def decode_kind(self, kind: Any, obj: dict[str, Any]) -> Findings:
        """Decode `obj` as a served kind: its built-in definition, or its CRD's openAPIV3Schema."""
        if kind.custom is None:
            return self.decode(obj, str(kind.definition))
        found = Findings()
        root = custom_schema(kind.custom)
        properties = root.setdefault("properties", {})
        properties.update(apiVersion={"type": "string"}, kind={"type": "string"},
                          metadata={"$ref": "#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"})  # fmt: skip
        self._walk(obj, root, [], [], kind.kind, found)
        return found


def custom_schema(node: Any) -> dict[str, Any]:
    """A CRD's structural schema in the built-in definitions' terms: an object with properties and
    neither additionalProperties nor x-kubernetes-preserve-unknown-fields has no other fields (the
    real apiserver prunes them, or refuses them under strict validation), int-or-string is a oneOf."""
    if not isinstance(node, dict):
        return {}
    out: dict[str, Any] = {key: node[key] for key in ("type", "required", "x-kubernetes-preserve-unknown-fields")
                           if key in node}  # fmt: skip
    if node.get("x-kubernetes-int-or-string"):
        out = {"oneOf": [{"type": "string"}, {"type": "integer"}]}
    if isinstance(node.get("properties"), dict):
        out["properties"] = {name: custom_schema(child) for name, child in node["properties"].items()}
    if isinstance(node.get("items"), dict):
        out["items"] = custom_schema(node["items"])
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        out["additionalProperties"] = custom_schema(extra)
    elif "properties" in node and not node.get("x-kubernetes-preserve-unknown-fields") and extra is not True:
        out["additionalProperties"] = False
    return out
