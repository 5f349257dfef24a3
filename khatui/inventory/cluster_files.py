"""What the importers of other installers' cluster files (k0sctl, KubeKey) share.

Both describe hosts as YAML mappings with an SSH address, an optional private address and SSH
settings, and cluster settings at known paths; both must report every key they do not carry over.
The rules are the same as for the other importers: a node address is an IP (never resolved), a
node name is a DNS label, a non-root user gets sudo, and a setting enters the spec only when the
spec's own model accepts it (`khatui.inventory.settings`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from khatui.inventory.naming import dns_label, node_address_problem, node_name
from khatui.inventory.result import ImportedNode, ImportResult, SSHValues
from khatui.inventory.settings import Where, put
from khatui.inventory.yamltree import Value
from khatui.spec.nodes import Role

_LOGIN = "khatui logs in with SSH keys (ssh-agent or ssh.identityFile)"


def report_keys(value: Value, known: Iterable[str], result: ImportResult, secrets: Iterable[str] = ()) -> None:
    """A notice for every key of mapping `value` that is not in `known`; `secrets` are never repeated."""
    known, secrets = set(known), set(secrets)
    for key, item in value.pairs():
        if key in secrets:
            result.notice(item.line, f"{item.path} is an inline secret and was NOT imported: {_LOGIN}")
        elif key not in known:
            result.notice(item.line, f"{item.path} is not imported (khatui has no such setting)")


def metadata_name(root: Value, result: ImportResult) -> None:
    """The cluster's name from metadata.name, as a DNS label."""
    metadata = root.get("metadata")
    name = text(metadata.get("name")) if metadata is not None else None
    if name is not None:
        result.name = dns_label(name) or None


def text(value: Value | None) -> str | None:
    """The text of an optional scalar; None (and '' ) when absent."""
    return (value.text() or None) if value is not None else None


def setting(
    result: ImportResult, value: Value | None, section: str, key: str, convert: Callable[[str], object] = str
) -> None:
    """Put optional scalar `value` into spec.`section`.`key` (checked by the spec's model)."""
    found = text(value)
    if value is not None and found is not None:
        put(result, Where(value.path, value.line), section, key, convert(found))


def kubernetes_version(version: str) -> str:
    """`1.31.4` or `v1.31.4+k0s.0` -> `v1.31.4` (k0s versions are the Kubernetes version plus a suffix)."""
    bare = version.partition("+")[0]
    return bare if bare.startswith("v") else f"v{bare}"


def node(
    result: ImportResult,
    where: Value,
    name: str | None,
    connect: str,
    private: str | None,
    roles: list[Role],
    ssh: SSHValues,
) -> ImportedNode:
    """A node reached at `connect`, whose cluster address is `private` when given, else `connect`."""
    address = None
    for candidate in (private, connect):
        if candidate is None:
            continue
        reason = node_address_problem(candidate)
        if reason is None:
            address = candidate
            break
        result.notice(where.line, f"{where.path}: {reason}; not used as the node address")
    if address is None:
        address = private or connect
        result.notice(
            where.line,
            f"{where.path} has no IP address; a node address must be an IP and khatui resolves nothing "
            "over the network: write it in the spec",
        )
    spec_name = node_name(name or address)
    if name is not None and spec_name != name:
        result.notice(where.line, f"{where.path}: {name!r} is named {spec_name!r} in the spec (a lowercase DNS label)")
    ssh.host = connect if connect != address else None
    ssh.sudo = True if ssh.user not in (None, "root") else None
    return ImportedNode(spec_name, address, roles, ssh)
