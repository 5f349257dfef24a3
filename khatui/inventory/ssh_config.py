"""Import hosts of an OpenSSH client config (`~/.ssh/config`) as khatui nodes.

An ssh config says how to reach hosts, not what they run, so the operator picks the cluster's
hosts and their roles (`Selection`). Each chosen alias becomes a node with the values ssh itself
would use for it: HostName, User, Port, the first IdentityFile and ProxyJump (its hops resolved
through the same file, as ssh resolves them). The node address is HostName when it is an IP, or
the address the operator gives; DNS names are never resolved here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from khatui.errors import InputError
from khatui.inventory.naming import looks_like_ip, node_address_problem, node_name
from khatui.inventory.result import ImportedNode, ImportResult, SSHValues
from khatui.inventory.ssh_config_parse import Option, SSHConfig, is_wildcard, matches, parse_config
from khatui.inventory.ssh_keywords import KEYWORDS
from khatui.spec.nodes import Role

IMPORTED = frozenset({"hostname", "user", "port", "identityfile", "proxyjump"})


@dataclass
class Selection:
    """Which aliases become nodes, with which roles.

    Names may be aliases or ssh-style patterns (`k8s-*`). A selected alias without any role becomes
    a worker; when no `etcd` list is given, the control planes are the etcd members (stacked etcd).
    """

    hosts: Sequence[str] = ()
    control_plane: Sequence[str] = ()
    etcd: Sequence[str] = ()
    worker: Sequence[str] = ()
    lb: Sequence[str] = ()
    addresses: Mapping[str, str] = field(default_factory=dict)
    """Alias -> IP, for aliases whose HostName is a DNS name."""


def import_ssh_config(path: str, selection: Selection) -> ImportResult:
    """Read the config at `path` and build the selected nodes; bad names are an `InputError`."""
    result = ImportResult(path)
    config = parse_config(path, result)
    aliases = config.aliases()
    if not aliases:
        raise InputError(f"{path}: no Host entry names a concrete host (only wildcards, or no Host lines at all)")
    resolve = _Resolver(path, aliases)
    chosen = resolve.all(
        [*selection.hosts, *selection.control_plane, *selection.etcd, *selection.worker, *selection.lb]
    )
    if not chosen:
        raise InputError(
            f"{path}: choose the cluster's hosts with --hosts (patterns like 'k8s-*' work) or the role flags; "
            f"the file defines: {', '.join(aliases)}"
        )
    resolve.all(list(selection.addresses))
    roles = {
        Role.CONTROL_PLANE: resolve.all(selection.control_plane),
        Role.ETCD: resolve.all(selection.etcd or selection.control_plane),
        Role.WORKER: resolve.all(selection.worker),
        Role.LB: resolve.all(selection.lb),
    }
    addresses = {resolve.one(name): ip for name, ip in selection.addresses.items()}
    for alias in aliases:
        if alias in chosen:
            node_roles = [role for role, members in roles.items() if alias in members] or [Role.WORKER]
            result.nodes.append(_node(config, alias, node_roles, addresses.get(alias), result))
    names = [node.name for node in result.nodes if node.ssh.user is None]
    if names:
        result.notice(
            None,
            f"no User for {', '.join(names)}: the spec uses khatui's default user 'root' "
            "(ssh would log in as your local user); set ssh.user if that is not right",
        )
    return result


class _Resolver:
    """Names from the command line -> aliases of the file; a name matching nothing is an `InputError`."""

    def __init__(self, path: str, aliases: list[str]) -> None:
        self.path = path
        self.aliases = aliases
        self.by_name: dict[str, list[str]] = {}
        for alias in aliases:
            self.by_name.setdefault(alias.lower(), []).append(alias)

    def one(self, name: str) -> str:
        found = self.all([name])
        return next(iter(found))

    def all(self, names: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for name in names:
            # A plain name is looked up (ssh compares names case-insensitively); a pattern is matched.
            hits = (
                [a for a in self.aliases if matches(a, (name,))]
                if is_wildcard(name)
                else self.by_name.get(name.lower(), [])
            )
            if not hits:
                kind = "pattern" if is_wildcard(name) else "Host"
                raise InputError(f"{self.path}: no {kind} {name!r} in the file (hosts: {', '.join(self.aliases)})")
            found.update(hits)
        return found


def _first(options: list[Option], keyword: str) -> Option | None:
    return next((option for option in options if option.keyword == keyword), None)


def _value(option: Option | None, result: ImportResult, alias: str, allowed: str = "h") -> str | None:
    """The option's single argument with ssh's %-tokens expanded (`%h` -> `alias`, `%%` -> `%`).

    Tokens in `allowed` are understood; any other token means the value depends on ssh's runtime,
    so it is reported and not imported.
    """
    if option is None or not option.args:
        return None
    text = option.args[0]
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "%" and index + 1 < len(text):
            token = text[index + 1]
            if token == "%":
                out.append("%")
            elif token == "h" and "h" in allowed:
                out.append(alias)
            elif token == "d" and "d" in allowed:
                out.append("~")
            else:
                result.notice(
                    option.line,
                    f"{option.name} {text!r} uses %{token}, which khatui cannot expand; not imported",
                    option.file,
                )
                return None
            index += 2
            continue
        out.append(char)
        index += 1
    return "".join(out)


def _node(config: SSHConfig, alias: str, roles: list[Role], address: str | None, result: ImportResult) -> ImportedNode:
    options = config.options_for(alias)
    hostname = _value(_first(options, "hostname"), result, alias) or alias
    user = _value(_first(options, "user"), result, alias, allowed="")
    port = _port(_first(options, "port"), result)
    identity = _identity(options, hostname, result)
    jump, jump_identity = _jump(config, _first(options, "proxyjump"), alias, result)
    _report_unused(options, result)
    if address is None and looks_like_ip(hostname):
        reason = node_address_problem(hostname)
        if reason is None:
            address = hostname
        else:
            where = _first(options, "hostname") or config.host_line(alias)
            result.notice(where.line, f"host {alias!r}: {reason}; not used as the node address", where.file)
    if address is None:
        address = hostname
        where = _first(options, "hostname") or config.host_line(alias)
        result.notice(
            where.line,
            f"host {alias!r}: {hostname!r} is not an IP address; a node address must be an IP and khatui "
            f"resolves nothing over the network: pass --address {alias}=IP",
            where.file,
        )
    name = node_name(alias)
    if name != alias:
        line = config.host_line(alias)
        result.notice(
            line.line, f"host {alias!r} is named {name!r} in the spec (a node name is a lowercase DNS label)", line.file
        )
    ssh = SSHValues(
        user=user,
        port=port,
        host=hostname if hostname != address else None,
        identity_file=identity,
        jump_host=jump,
        jump_identity_file=jump_identity,
        # ssh configs say nothing about privileges; khatui needs root, so a non-root user uses sudo.
        sudo=True if user not in (None, "root") else None,
    )
    return ImportedNode(name, address, roles, ssh)


def _port(option: Option | None, result: ImportResult) -> int | None:
    if option is None or not option.args:
        return None
    text = option.args[0]
    if text.isdigit() and 1 <= int(text) <= 65535:
        return int(text)
    result.notice(option.line, f"Port {text!r} is not a port number (1-65535); not imported", option.file)
    return None


def _identity(options: list[Option], hostname: str, result: ImportResult) -> str | None:
    files = [o for o in options if o.keyword == "identityfile" and o.args and o.args[0].lower() != "none"]
    if not files:
        return None
    # In IdentityFile, %h is the remote host name (after HostName), and %d the home folder.
    first = _value(files[0], result, hostname, allowed="hd")
    for extra in files[1:]:
        result.notice(
            extra.line,
            f"IdentityFile {extra.args[0]} is not imported: a node has one identity file, the first that applies "
            f"({first or files[0].args[0]}); ssh-agent can offer the others",
            extra.file,
        )
    return first


def _jump(config: SSHConfig, option: Option | None, alias: str, result: ImportResult) -> tuple[str | None, str | None]:
    """ProxyJump with each hop's alias resolved through the config, as ssh resolves it, and the
    hops' own IdentityFile (a node has one key for all its hops: the first hop's that has one)."""
    value = _value(option, result, alias)
    if value is None or value.lower() == "none":
        return None, None
    hops = []
    keys: list[str] = []
    for hop in value.split(","):
        user, _, rest = hop.strip().removeprefix("ssh://").rpartition("@")
        host, port = _host_port(rest)
        options = config.options_for(host)
        hostname = _value(_first(options, "hostname"), result, host) or host
        user = user or _value(_first(options, "user"), result, host, allowed="") or ""
        port = port or str(_port(_first(options, "port"), result) or "")
        shown = f"[{hostname}]" if ":" in hostname else hostname
        hops.append(f"{user + '@' if user else ''}{shown}{':' + port if port and port != '22' else ''}")
        key = _identity(options, hostname, result)
        if key is not None and key not in keys:
            keys.append(key)
    if len(keys) > 1 and option is not None:
        result.notice(
            option.line,
            f"the jump hosts use different IdentityFiles; khatui offers {keys[0]} to every hop, "
            "ssh-agent can offer the others",
            option.file,
        )
    return ",".join(hops), keys[0] if keys else None


def _host_port(text: str) -> tuple[str, str]:
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        return host, rest.removeprefix(":")
    if text.count(":") == 1:
        host, _, port = text.partition(":")
        return host, port
    return text, ""


def _report_unused(options: list[Option], result: ImportResult) -> None:
    seen: set[str] = set()
    for option in options:
        if option.keyword in IMPORTED:
            continue
        if option.keyword == "proxycommand":
            message = "ProxyCommand is not imported; a bastion belongs in ssh.jumpHost (ProxyJump syntax)"
        elif option.keyword in seen:
            continue
        elif option.keyword in KEYWORDS:
            message = f"option {option.name} is not imported (a khatui node has no such setting)"
        else:
            # Not repeated: a file pulled in by Include may hold anything, secrets included.
            message = "this line does not start with an OpenSSH keyword; not imported"
        seen.add(option.keyword)
        result.notice(option.line, message, option.file)
