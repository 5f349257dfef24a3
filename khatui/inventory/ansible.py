"""Import a Kubespray-style or kubeasz Ansible inventory (INI or YAML) as khatui nodes and settings.

Kubespray's groups carry the roles: `kube_control_plane` (formerly `kube-master`, kubeasz's
`kube_master`), `etcd` and `kube_node`, and kubeasz's `ex-lb` gives the lb role; `k8s_cluster` only
gathers them, and a host of the `bastion` group becomes every node's SSH jump host. The node
address follows Kubespray's own precedence: `ip` (where the services bind), then `access_ip`, then
`ansible_host`, and the host name only when it is itself an IP. An etcd host with kubeasz's
`NODE_NAME` is named after it (khatui names each etcd member after its node). The group_vars and
host_vars beside the inventory are read too, for cluster settings (`ansible_cluster`). Everything
else is reported as a notice where it was written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml

from khatui.errors import InputError
from khatui.inventory import ansible_vars as av
from khatui.inventory.ansible_cluster import read_settings
from khatui.inventory.ansible_dirs import read_vars_dirs
from khatui.inventory.ansible_ini import parse_ini
from khatui.inventory.ansible_tree import ALL, UNGROUPED, Inventory
from khatui.inventory.ansible_yaml import compose, parse_yaml
from khatui.inventory.naming import looks_like_ip, node_address_problem, node_name
from khatui.inventory.reading import read_text
from khatui.inventory.result import ImportedNode, ImportResult, SSHValues
from khatui.spec.nodes import Role

ROLE_GROUPS: dict[str, Role] = {
    "kube_control_plane": Role.CONTROL_PLANE,
    "kube-master": Role.CONTROL_PLANE,
    "kube_master": Role.CONTROL_PLANE,
    "kube-controlplane": Role.CONTROL_PLANE,
    "etcd": Role.ETCD,
    "kube_node": Role.WORKER,
    "kube-node": Role.WORKER,
    "ex-lb": Role.LB,
    "ex_lb": Role.LB,
}
"""Kubespray groups and the role they give, old spellings included."""
CONTROL_PLANE_GROUPS = [group for group, role in ROLE_GROUPS.items() if role is Role.CONTROL_PLANE]
BASTION = "bastion"
K8S_CLUSTER = frozenset({"k8s_cluster", "k8s-cluster"})
GATHERING_GROUPS = frozenset({ALL, UNGROUPED, *K8S_CLUSTER})
"""Groups that only collect other groups: meaningful to Ansible, silent for khatui."""
WHAT = "Ansible inventory"
SHOWN_NAMES = 6
"""Variable names a per-file notice lists before '...'."""


def import_ansible(path: str, addresses: Mapping[str, str] | None = None, lb_hosts: Sequence[str] = ()) -> ImportResult:
    """Read the inventory at `path` into nodes and notices.

    `addresses` gives the IP of hosts the inventory names only by hostname; `lb_hosts` get the lb
    role (Kubespray has no lb group). Both name inventory hosts; an unknown name is an `InputError`,
    as is a file that is not an inventory or holds no host with a Kubespray role.
    """
    text = read_text(path, WHAT)
    result = ImportResult(path)
    inventory = read_inventory(text, path, result)
    _add_k8s_cluster(inventory)
    read_vars_dirs(Path(path).parent, inventory, result)
    addresses = dict(addresses or {})
    for name in [*addresses, *lb_hosts]:
        if name not in inventory.hosts:
            raise InputError(
                f"{path}: no host {name!r} in the inventory (hosts: {', '.join(inventory.hosts) or 'none'})"
            )
    _report_structure(inventory, result)
    jump_host, bastion, bastion_key = _jump_host(inventory, result)
    for host in inventory.hosts.values():
        roles = {role for group, role in ROLE_GROUPS.items() if host.name in inventory.members(group)}
        roles |= {Role.LB} if host.name in lb_hosts else set()
        if not roles:
            if host.name != bastion:
                result.notice(
                    host.line,
                    f"host {host.name!r} is in none of kube_control_plane, etcd, kube_node: left out of the spec",
                )
            continue
        node = _node(inventory, host.name, sorted(roles, key=list(Role).index), addresses, result)
        node.ssh.jump_host = jump_host if host.name != bastion else None
        if node.ssh.jump_host and bastion_key != node.ssh.identity_file:
            node.ssh.jump_identity_file = bastion_key
        result.nodes.append(node)
    if not result.nodes:
        raise InputError(f"{path}: no host is in kube_control_plane, etcd or kube_node; is this a Kubespray inventory?")
    _report_default_user(result)
    control_planes = [name for group in CONTROL_PLANE_GROUPS for name in inventory.members(group)]
    lb = [name for group in ("ex-lb", "ex_lb") for name in inventory.members(group)]
    read_settings(inventory, result, control_planes[0] if control_planes else None, lb)
    return result


def read_inventory(text: str, path: str, result: ImportResult) -> Inventory:
    """Parse `text` as YAML or INI: by extension, else YAML when it reads as a mapping of groups."""
    suffix = Path(path).suffix.lower()
    if suffix in (".yml", ".yaml", ".json"):
        return parse_yaml(compose(text, path), result)
    if suffix not in (".ini", ".cfg", ".txt"):
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except (yaml.YAMLError, RecursionError):
            root = None
        if isinstance(root, yaml.MappingNode) and _looks_like_groups(root):
            return parse_yaml(root, result)
    return parse_ini(text, result)


def _add_k8s_cluster(inventory: Inventory) -> None:
    """The group `k8s_cluster`, as Kubespray's playbooks make it when the inventory does not (its
    group_vars/k8s_cluster then apply to the control planes and nodes)."""
    if K8S_CLUSTER & set(inventory.groups):
        return
    for child in ("kube_control_plane", "kube_node", "calico_rr"):
        if child in inventory.groups:
            inventory.add_child("k8s_cluster", child, None)


def _looks_like_groups(root: yaml.MappingNode) -> bool:
    """True when every top-level value is a group (a mapping, or empty) and at least one is a mapping."""
    values = [value for _, value in root.value]
    empty = [v for v in values if isinstance(v, yaml.ScalarNode) and v.tag == "tag:yaml.org,2002:null"]
    mappings = [v for v in values if isinstance(v, yaml.MappingNode)]
    return bool(mappings) and len(mappings) + len(empty) == len(values)


def _report_structure(inventory: Inventory, result: ImportResult) -> None:
    """Notices for groups and variables khatui does not use.

    A variables file (group_vars) holds hundreds of settings of the other installer: those khatui
    has nothing specific to say about get one notice per file, not one each.
    """
    unused: dict[str, list[str]] = {}
    variables = [*(g.vars for g in inventory.groups.values()), *(h.vars for h in inventory.hosts.values())]
    for group in inventory.groups.values():
        if group.name not in ROLE_GROUPS and group.name not in GATHERING_GROUPS and group.name != BASTION:
            result.notice(
                group.line, f"group {group.name!r} means nothing to khatui: ignored (its hosts get no role from it)"
            )
    for owned in variables:
        for name, var in owned.items():
            if var.file is not None and av.plainly_unused(name):
                unused.setdefault(var.file, []).append(name)
            else:
                av.report_unused(name, var, result)
    for file, names in unused.items():
        shown = ", ".join(names[:SHOWN_NAMES]) + (", ..." if len(names) > SHOWN_NAMES else "")
        what = f"{len(names)} variables are not imported (khatui has no use for them)"
        if len(names) == 1:
            what = "1 variable is not imported (khatui has no use for it)"
        result.notice(None, f"{what}: {shown}", file)


def _jump_host(inventory: Inventory, result: ImportResult) -> tuple[str | None, str | None, str | None]:
    """(`[user@]host[:port]` of the bastion, its inventory name, its key file), or Nones."""
    hosts = inventory.members(BASTION) if BASTION in inventory.groups else []
    if not hosts:
        return None, None, None
    if len(hosts) > 1:
        result.notice(
            inventory.groups[BASTION].line,
            f"{len(hosts)} hosts in the bastion group; the first, {hosts[0]!r}, is every node's jump host",
        )
    reader = av.VarReader(inventory.effective_vars(hosts[0]), result)
    host = reader.text(av.HOST) or hosts[0]
    user, port = reader.text(av.USER), reader.port(av.PORT)
    hop = f"[{host}]" if ":" in host else host
    jump = f"{user + '@' if user else ''}{hop}{f':{port}' if port and port != 22 else ''}"
    return jump, hosts[0], reader.text(av.KEY)


def _node(
    inventory: Inventory, name: str, roles: list[Role], addresses: Mapping[str, str], result: ImportResult
) -> ImportedNode:
    host = inventory.hosts[name]
    reader = av.VarReader(inventory.effective_vars(name), result, host=name)
    # Without ansible_host, Ansible connects to the inventory name itself; khatui does the same.
    connect_to = reader.text(av.HOST) or name
    address = addresses.get(name) or reader.ip(av.NODE_IP)
    if address is None and looks_like_ip(connect_to):
        reason = node_address_problem(connect_to)
        if reason is None:
            address = connect_to
        else:
            message = f"host {name!r}: {reason}; not used as the node address"
            if reader.line(av.HOST) is None:
                result.notice(host.line, message)
            else:
                reader.notice(av.HOST, message)
    if address is None:
        address = connect_to
        result.notice(
            host.line,
            f"host {name!r} has no IP address (ip, access_ip, ansible_host and its name are not IPs); "
            "a node address must be an IP and khatui resolves nothing over the network: "
            f"write it in the spec or pass --address {name}=IP",
        )
    member = reader.text(av.MEMBER_NAME) if Role.ETCD in roles else None
    spec_name = node_name(member or name)
    if member is not None:
        result.notice(
            reader.line(av.MEMBER_NAME),
            f"host {name!r} is named {spec_name!r} in the spec after its {av.MEMBER_NAME[0]} "
            "(khatui names each etcd member after its node)",
            reader.file(av.MEMBER_NAME),
        )
    elif spec_name != name:
        result.notice(
            host.line, f"host {name!r} is named {spec_name!r} in the spec (a node name is a lowercase DNS label)"
        )
    ssh = SSHValues(
        user=reader.text(av.USER),
        port=reader.port(av.PORT),
        host=connect_to if connect_to != address else None,
        identity_file=reader.text(av.KEY),
        sudo=reader.boolean(av.BECOME),
    )
    return ImportedNode(spec_name, address, roles, ssh)


def _report_default_user(result: ImportResult) -> None:
    names = [node.name for node in result.nodes if node.ssh.user is None]
    if names:
        result.notice(
            None,
            f"no ansible_user for {', '.join(names)}: the spec uses khatui's default user 'root' "
            "(Ansible would log in as your local user); set ssh.user if that is not right",
        )
