"""The machines of the cluster: where they are, how to reach them over SSH, what they run."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field, IPvAnyAddress, field_validator

from khatui.spec.base import Host, Name, Port, SpecModel

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_JUMP = re.compile(r"^(?:[A-Za-z0-9._-]+@)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::[0-9]{1,5})?$")


def _env_name(value: str) -> str:
    if not _ENV_NAME.match(value):
        raise ValueError(
            f"{value!r} is not an environment variable name: give the name of the variable "
            "that holds the secret, never the secret itself"
        )
    return value


def _jump_host(value: str) -> str:
    for hop in value.split(","):
        if not _JUMP.match(hop):
            raise ValueError(f"{hop!r} is not a jump host: write [user@]host[:port], hops separated by ','")
    return value


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

    user: str = "root"
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
    sudo: bool = False
    """Run privileged commands with sudo (needed when the user is not root)."""
    sudo_password_env: EnvName | None = None
    """Name of the environment variable that holds the sudo password (never the password itself)."""


class Node(SpecModel):
    """One machine of the cluster."""

    name: Name
    """Node name: the hostname Kubernetes and etcd will know it by (a DNS label)."""
    address: IPvAnyAddress
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
