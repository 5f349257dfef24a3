"""Shared building blocks of the spec models: the base config and constrained scalar types.

All models forbid unknown fields (a typo must never be silently ignored) and use camelCase keys in
YAML, like Kubernetes objects, while Python code uses snake_case attribute names.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class SpecModel(BaseModel):
    """Base of every spec model: camelCase aliases, unknown fields forbidden, frozen values."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        use_attribute_docstrings=True,
        validate_default=True,
        # Schemas are built on first use: `khatui --help` and the first frame of the wizard do not wait.
        defer_build=True,
    )


_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_DNS_NAME = re.compile(r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$")
_DURATION = re.compile(r"^([1-9][0-9]{0,6})([hd])$")
_VERSION = re.compile(r"^v?[0-9]+\.[0-9]+\.[0-9]+$")


def _dns_label(value: str) -> str:
    if not _DNS_LABEL.match(value):
        raise ValueError(
            f"{value!r} is not a valid name: use lowercase letters, digits and '-', "
            "at most 63 characters, starting and ending with a letter or digit"
        )
    return value


def _dns_name(value: str) -> str:
    if not _DNS_NAME.match(value):
        raise ValueError(f"{value!r} is not a valid DNS name (lowercase labels separated by dots)")
    return value


def _host(value: str) -> str:
    """An IP address or a DNS name."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        if not _DNS_NAME.match(value.lower()):
            raise ValueError(f"{value!r} is neither an IP address nor a DNS name") from None
    return value


def _absolute_path(value: str) -> str:
    if not value.startswith("/") or "\0" in value:
        raise ValueError(f"{value!r} is not an absolute path")
    return value


def _duration(value: str) -> str:
    if not _DURATION.match(value):
        raise ValueError(f"{value!r} is not a duration: write hours like '43800h' or days like '1825d'")
    return value


def _version(value: str) -> str:
    if not _VERSION.match(value):
        raise ValueError(f"{value!r} is not a version like 'v1.31.4' or '3.5.16'")
    return value


def duration_hours(value: str) -> int:
    """Hours in a validated duration string ('43800h' -> 43800, '10d' -> 240)."""
    match = _DURATION.match(value)
    if match is None:
        raise ValueError(f"{value!r} is not a duration")
    count, unit = int(match.group(1)), match.group(2)
    return count * 24 if unit == "d" else count


Port = Annotated[int, Field(ge=1, le=65535)]
Name = Annotated[str, AfterValidator(_dns_label)]
DNSName = Annotated[str, AfterValidator(_dns_name)]
Host = Annotated[str, AfterValidator(_host)]
AbsolutePath = Annotated[str, AfterValidator(_absolute_path)]
Duration = Annotated[str, AfterValidator(_duration)]
Version = Annotated[str, AfterValidator(_version)]
