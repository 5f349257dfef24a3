"""Cluster settings an importer found, checked against the spec's own models before they are kept.

A value from another installer's files goes into the spec only when the spec accepts it: each one
is validated with the model of its section (`ControlPlane`, `KubeProxy`, `Etcd`, `PKI`) or with the
load balancer union, so a value the spec would refuse becomes a notice at the line the operator
wrote it, rather than an error at a line of a generated spec they never wrote.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from khatui.inventory.result import ImportResult
from khatui.spec.components import PKI, ControlPlane, Etcd, KubeProxy
from khatui.spec.loadbalancer import LoadBalancer

SECTIONS: dict[str, type[BaseModel]] = {
    "controlPlane": ControlPlane,
    "kubeProxy": KubeProxy,
    "etcd": Etcd,
    "pki": PKI,
}
"""The spec sections an importer may fill in, with the model that checks them."""
_LOAD_BALANCER: TypeAdapter[Any] = TypeAdapter(LoadBalancer)


@dataclass(frozen=True)
class Where:
    """Where a value was written: its name in the input, and file and line for the notice."""

    name: str
    line: int | None
    file: str | None = None


def put(result: ImportResult, where: Where, section: str, key: str, value: object) -> bool:
    """Keep `value` as spec.`section`.`key` if the spec accepts it, else say why not; True if kept."""
    problem = _problem(lambda: SECTIONS[section].model_validate({key: value}))
    if problem is not None:
        result.notice(
            where.line, f"{where.name} {value!r} cannot be spec.{section}.{key}: {problem}; not imported", where.file
        )
        return False
    result.settings.setdefault(section, {})[key] = value
    return True


def put_load_balancer(result: ImportResult, where: Where, data: dict[str, Any]) -> bool:
    """Keep `data` as spec.loadBalancer if the spec accepts it, else say why not; True if kept."""
    problem = _problem(lambda: _LOAD_BALANCER.validate_python(data))
    if problem is not None:
        result.notice(where.line, f"{where.name} cannot be spec.loadBalancer ({problem}); not imported", where.file)
        return False
    result.load_balancer = data
    return True


def _problem(check: Any) -> str | None:
    """The first validation message of `check()`, or None when it passes."""
    try:
        check()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        return f"{field}: {message}" if field else message
    return None
