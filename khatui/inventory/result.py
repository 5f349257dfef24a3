"""What an importer hands back: spec-shaped nodes plus a notice for everything not carried over.

Nodes are kept as plain values rather than validated `Node` models on purpose: an imported host
often lacks something the spec requires (an IP address when the inventory only has a hostname), and
the operator is better served by a written spec with the gap pointed out than by no spec at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from khatui.spec.nodes import Role

ROLE_ORDER = (Role.CONTROL_PLANE, Role.ETCD, Role.WORKER, Role.LB)
"""The order roles are written in, whatever order the inventory gave them."""


@dataclass(frozen=True)
class Notice:
    """Something in the input that was not imported as is, with where it was written."""

    file: str
    line: int | None
    """1-based line in `file`; None when the notice is about the file or several places."""
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: notice: {self.message}"


@dataclass
class SSHValues:
    """The SSH settings an importer found; None means 'not given, let the spec default decide'."""

    user: str | None = None
    port: int | None = None
    host: str | None = None
    identity_file: str | None = None
    jump_host: str | None = None
    jump_identity_file: str | None = None
    sudo: bool | None = None

    def to_data(self) -> dict[str, Any]:
        """The settings in the spec's YAML key names, unset ones left out."""
        pairs = (
            ("user", self.user),
            ("port", self.port),
            ("host", self.host),
            ("identityFile", self.identity_file),
            ("jumpHost", self.jump_host),
            ("jumpIdentityFile", self.jump_identity_file),
            ("sudo", self.sudo),
        )
        return {key: value for key, value in pairs if value is not None}


@dataclass
class ImportedNode:
    """One host of the inventory as a spec node.

    Invariant: `name` is what the node will be called in the spec; `address` is an IP address when
    the importer could find one, otherwise the best name it had (the spec then rejects it, pointing
    at the node, and a notice says why).
    """

    name: str
    address: str
    roles: list[Role]
    ssh: SSHValues = field(default_factory=SSHValues)

    def to_data(self) -> dict[str, Any]:
        """The node as spec data (YAML key names)."""
        roles = [str(role) for role in ROLE_ORDER if role in self.roles]
        data: dict[str, Any] = {"name": self.name, "address": self.address, "roles": roles}
        ssh = self.ssh.to_data()
        if ssh:
            data["ssh"] = ssh
        return data


@dataclass
class ImportResult:
    """Everything one import produced, from the file `source`."""

    source: str
    nodes: list[ImportedNode] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Cluster settings by spec section (`controlPlane`, `kubeProxy`, ...), YAML key names, each
    value already accepted by the spec's model (`khatui.inventory.settings` puts them here)."""
    load_balancer: dict[str, Any] | None = None
    """spec.loadBalancer when the input describes one; None leaves the choice to `assemble`."""
    name: str | None = None
    """The cluster's name when the input gives one (a DNS label)."""
    _seen: set[Notice] = field(default_factory=set, repr=False, compare=False)

    def notice(self, line: int | None, message: str, file: str | None = None) -> None:
        """Record a notice (once: the same message at the same place is not repeated)."""
        item = Notice(file or self.source, line, message)
        if item not in self._seen:
            self._seen.add(item)
            self.notices.append(item)

    def sorted_notices(self) -> list[Notice]:
        """Notices by file and line; file-level notices (no line) last within their file."""
        order = {name: index for index, name in enumerate(dict.fromkeys(n.file for n in self.notices))}
        return sorted(self.notices, key=lambda n: (order[n.file], n.line is None, n.line or 0))
