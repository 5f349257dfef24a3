"""Shared building blocks of the spec models: the base config and constrained scalar types.

All models forbid unknown fields (a typo must never be silently ignored) and use camelCase keys in
YAML, like Kubernetes objects, while Python code uses snake_case attribute names. No string value
may hold a control character (a newline in a name becomes a second line in a unit file, a
certificate or haproxy.cfg), so the base model refuses them for every field at once, and every
pattern here is checked with `re.fullmatch` (Python's `$` also matches before a trailing newline).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from khatui.spec.addresses import Use, ip_for


def control_character(value: str) -> str | None:
    """The first control, format or line-separator character in `value` as 'U+000A', or None."""
    for char in value:
        if unicodedata.category(char) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            return f"U+{ord(char):04X}"
    return None


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

    @field_validator("*", mode="after")
    @classmethod
    def _one_line_of_text(cls, value: object) -> object:
        """Refuse control characters in every string field and in lists of strings."""
        texts = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        for index, text in enumerate(texts):
            found = control_character(text) if isinstance(text, str) else None
            if found:
                where = f"item {index} " if isinstance(value, list) else ""
                # The value is not repeated: it may be a secret written in the wrong field.
                raise ValueError(f"{where}contains a control character ({found}); a value is one line of plain text")
        return value


_LABEL = r"[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?"
_DNS_LABEL = re.compile(_LABEL)
_DNS_NAME = re.compile(rf"(?=.{{1,253}}\Z){_LABEL}(?:\.{_LABEL})*")
_NUMERIC = re.compile(r"[0-9.]+")
_DURATION = re.compile(r"([1-9][0-9]{0,6})([hd])")
_VERSION = re.compile(r"v?[0-9]{1,4}\.[0-9]{1,4}\.[0-9]{1,6}")
_USER = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,31}")
_HOST_PORT = re.compile(r"(?:\[(?P<v6>[^\]]*)\]|(?P<host>[^:\[\]]+))(?::(?P<port>[0-9]{1,5}))?")
_PATH = re.compile(r"/[A-Za-z0-9_./@+,=:-]{0,4095}")
_MOUNT_OPTION = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.,=:/+@-]{0,255}")
MAX_VALIDITY_HOURS = 100 * 365 * 24
"""Certificates may live at most 100 years (CAs twice that): X.509 dates end in 9999, Python's in 9999
too, and no sane PKI outlives its cluster by a century."""


def is_dns_label(value: str) -> bool:
    """True for a lowercase DNS label (RFC 1123), at most 63 characters."""
    return bool(_DNS_LABEL.fullmatch(value))


def _dns_label(value: str) -> str:
    if not is_dns_label(value):
        raise ValueError(
            f"{value!r} is not a valid name: use lowercase letters, digits and '-', "
            "at most 63 characters, starting and ending with a letter or digit"
        )
    return value


def _dns_name(value: str) -> str:
    if not is_dns_name(value):
        raise ValueError(f"{value!r} is not a valid DNS name (lowercase labels separated by dots)")
    return value


def is_dns_name(value: str) -> bool:
    """True for lowercase dot-separated DNS labels whose last label is not all digits (an IP is not a name)."""
    return bool(_DNS_NAME.fullmatch(value)) and not value.rsplit(".", 1)[-1].isdigit()


def check_host(value: str) -> str:
    """`value` if it is an IP address (any unicast one) or a DNS name (case-insensitive); else ValueError."""
    if ":" in value or _NUMERIC.fullmatch(value):
        ip_for(value, Use.HOST)
    elif not is_dns_name(value.lower()):
        raise ValueError(f"{value!r} is neither an IP address nor a DNS name")
    return value


def _host_port(value: str) -> str:
    """`host[:port]`, an IPv6 host in brackets: `10.0.0.6:6789`, `[fd00::6]:6789`, `mon1.example.com`."""
    match = _HOST_PORT.fullmatch(value)
    if match is None:
        raise ValueError(f"{value!r} is not host[:port] (write an IPv6 address in brackets: [fd00::6]:6789)")
    if match["v6"] is not None:
        if ":" not in match["v6"]:
            raise ValueError(f"{value!r}: only an IPv6 address goes in brackets")
        ip_for(match["v6"], Use.HOST)
    else:
        check_host(match["host"])
    if match["port"] is not None and not 1 <= int(match["port"]) <= 65535:
        raise ValueError(f"{value!r}: port {match['port']} is not between 1 and 65535")
    return value


def _absolute_path(value: str) -> str:
    if not _PATH.fullmatch(value):
        raise ValueError(
            f"{value!r} is not an absolute path of letters, digits and _ . / @ + , = : - "
            "(no spaces or shell and systemd specials such as $ % ; *)"
        )
    return value


def _duration(value: str) -> str:
    if not _DURATION.fullmatch(value):
        raise ValueError(f"{value!r} is not a duration: write hours like '43800h' or days like '1825d'")
    if duration_hours(value) > MAX_VALIDITY_HOURS:
        raise ValueError(
            f"{value!r} is longer than 100 years ({MAX_VALIDITY_HOURS}h, 36500d), the longest khatui issues"
        )
    return value


def _matching(pattern: re.Pattern[str], what: str) -> Callable[[str], str]:
    """A validator: the value itself when `pattern` matches all of it, else ValueError "'value' `what`"."""

    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(f"{value!r} {what}")
        return value

    return check


_version = _matching(_VERSION, "is not a version like 'v1.31.4' or '3.5.16'")
check_user = _matching(
    _USER, "is not a user name: 1 to 32 letters, digits, '_', '.' or '-', starting with a letter or '_'"
)
"""A POSIX-style login name (no leading '-', at most 32 long), for ssh.user and jump hosts."""
_mount_option = _matching(_MOUNT_OPTION, "is not a mount option like 'nfsvers=4.1' (no spaces, not starting with '-')")


def duration_hours(value: str) -> int:
    """Hours in a validated duration string ('43800h' -> 43800, '10d' -> 240)."""
    match = _DURATION.fullmatch(value)
    if match is None:
        raise ValueError(f"{value!r} is not a duration")
    count, unit = int(match.group(1)), match.group(2)
    return count * 24 if unit == "d" else count


Port = Annotated[int, Field(ge=1, le=65535)]
Name = Annotated[str, AfterValidator(_dns_label)]
DNSName = Annotated[str, AfterValidator(_dns_name)]
Host = Annotated[str, AfterValidator(check_host)]
HostPort = Annotated[str, AfterValidator(_host_port)]
AbsolutePath = Annotated[str, AfterValidator(_absolute_path)]
Duration = Annotated[str, AfterValidator(_duration)]
Version = Annotated[str, AfterValidator(_version)]
UserName = Annotated[str, AfterValidator(check_user)]
MountOption = Annotated[str, AfterValidator(_mount_option)]
