"""The machines of the cluster: where they are, how to reach them over SSH, what they run."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field, field_validator

from khatui.spec.addresses import NodeAddress
from khatui.spec.base import Host, Name, Port, SpecModel, UserName, check_host, check_user

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
_HOP = re.compile(r"(?:(?P<user>[^@]*)@)?(?P<host>\[[^\]]*\]|[^:\[\]]*)(?::(?P<port>[0-9]{1,5}))?")
_ALIAS = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,252}")
MAX_HOPS = 8


def _env_name(value: str) -> str:
    if not _ENV_NAME.fullmatch(value):
        # Never repeat the value: the usual mistake is the secret itself in this field.
        raise ValueError(
            "is not an environment variable name (letters, digits and '_'): give the name of the variable "
            "that holds the secret, never the secret itself"
        )
    return value


def _jump_host(value: str) -> str:
    hops = value.split(",")
    if len(hops) > MAX_HOPS:
        raise ValueError(f"{len(hops)} jump hosts; at most {MAX_HOPS} hops")
    for hop in hops:
        _hop(hop)
    return value


def _hop(hop: str) -> None:
    """One `[user@]host[:port]`: a user name, an ~/.ssh/config alias, DNS name or IP ([IPv6]), a port."""
    shape = f"{hop!r} is not a jump host: write [user@]host[:port], hops separated by ','"
    match = _HOP.fullmatch(hop)
    if match is None:
        raise ValueError(shape)
    if match["user"] is not None:
        try:
            check_user(match["user"])
        except ValueError:
            raise ValueError(f"{shape}; {match['user']!r} is not a user name") from None
    host = match["host"]
    if host.startswith("["):
        inner = host[1:-1]
        if ":" not in inner:
            raise ValueError(f"{shape}; only an IPv6 address goes in brackets")
        check_host(inner)
    elif not _ALIAS.fullmatch(host):
        # A host starting with '-' would be read by ssh as an option.
        raise ValueError(f"{shape}; {host!r} is not a host name or address")
    elif host.replace(".", "").isdigit():
        check_host(host)
    if match["port"] is not None and not 1 <= int(match["port"]) <= 65535:
        raise ValueError(f"{shape}; port {match['port']} is not between 1 and 65535")


EnvName = Annotated[str, AfterValidator(_env_name)]
JumpHost = Annotated[str, AfterValidator(_jump_host)]


class Role(StrEnum):
    """What a node runs; a node may hold several roles."""

    ETCD = "etcd"
    CONTROL_PLANE = "control-plane"
    WORKER = "worker"
    LB = "lb"


class SSHSettings(SpecModel):
    """How khatui reaches a node over SSH."""

    user: UserName = "root"
    """Login user on the node."""
    port: Port = 22
    """SSH port on the node."""
    host: Host | None = None
    """Where to connect when it is not the node's address (an ~/.ssh/config alias, a NAT address)."""
    identity_file: str | None = None
    """Private key file; relative paths are taken from the spec file's folder, '~' is expanded.
    Without it, ssh-agent and ~/.ssh/config decide."""
    known_hosts_file: str | None = None
    """A known_hosts file to check this node's host key against, besides ~/.ssh/known_hosts and the
    keys khatui pinned (relative to the spec file's folder; '~' is expanded)."""
    jump_host: JumpHost | None = None
    """Bastion to go through, as [user@]host[:port] (OpenSSH ProxyJump syntax; hops separated by ',')."""
    jump_identity_file: str | None = None
    """Private key file for the jump hosts (every hop); relative paths are taken from the spec file's
    folder, '~' is expanded. Without it, the hops are offered identityFile, then ssh-agent and
    ~/.ssh/config decide."""
    sudo: bool = False
    """Run privileged commands with sudo (needed when the user is not root)."""
    sudo_password_env: EnvName | None = None
    """Name of the environment variable that holds the sudo password (never the password itself)."""


class Node(SpecModel):
    """One machine of the cluster."""

    name: Name
    """Node name: the hostname Kubernetes and etcd will know it by (a DNS label)."""
    address: NodeAddress
    """The node's IPv4 or IPv6 address on the cluster network; etcd and the apiserver listen on it."""
    roles: list[Role] = Field(min_length=1)
    """What the node runs: any of etcd, control-plane, worker, lb."""
    ssh: SSHSettings = SSHSettings()
    """How to reach the node."""

    @field_validator("roles")
    @classmethod
    def _roles_unique(cls, roles: list[Role]) -> list[Role]:
        if len(set(roles)) != len(roles):
            raise ValueError("a role is listed twice")
        return roles

    def has(self, role: Role) -> bool:
        """True if the node holds `role`."""
        return role in self.roles
