"""Which Ansible variables khatui imports, and what it says about each one it does not.

Kept apart from the importer so the list of known variables reads as a table: the SSH settings
that map onto the spec, the inline secrets that must never be copied into it, and hints for the
Kubespray variables whose meaning lives elsewhere in a khatui spec.
"""

from __future__ import annotations

import re

from khatui.inventory.ansible_tree import Var
from khatui.inventory.naming import looks_like_ip, node_address_problem
from khatui.inventory.result import ImportResult

HOST = ("ansible_host", "ansible_ssh_host")
USER = ("ansible_user", "ansible_ssh_user")
PORT = ("ansible_port", "ansible_ssh_port")
KEY = ("ansible_ssh_private_key_file", "ansible_private_key_file")
BECOME = ("ansible_become",)
NODE_IP = ("ip", "access_ip")
"""Kubespray's node address (`ip`: where services bind) and the address other nodes use (`access_ip`)."""
SETTINGS: dict[str, tuple[str, str]] = {
    "kube_proxy_mode": ("kubeProxy", "mode"),
    "kube_service_addresses": ("controlPlane", "serviceCIDR"),
    "kube_pods_subnet": ("controlPlane", "podCIDR"),
    "dns_domain": ("controlPlane", "dnsDomain"),
    "kube_version": ("controlPlane", "kubernetesVersion"),
    "kube_apiserver_port": ("controlPlane", "apiPort"),
    "etcd_deployment_type": ("etcd", "runAs"),
    "etcd_data_dir": ("etcd", "dataDir"),
    "PROXY_MODE": ("kubeProxy", "mode"),
    "SERVICE_CIDR": ("controlPlane", "serviceCIDR"),
    "CLUSTER_CIDR": ("controlPlane", "podCIDR"),
    "CLUSTER_DNS_DOMAIN": ("controlPlane", "dnsDomain"),
}
"""Cluster-wide variables (Kubespray's group_vars names, then kubeasz's hosts file) -> spec section, key."""
EXTERNAL_LB = "loadbalancer_apiserver"
"""Kubespray's external load balancer: a mapping with `address` and `port`."""
LOCAL_LB = ("loadbalancer_apiserver_localhost", "loadbalancer_apiserver_type")
"""Kubespray's proxy on every node (on unless localhost is false) and its kind (nginx or haproxy)."""
VIP = ("EX_APISERVER_VIP",)
VIP_PORT = ("EX_APISERVER_PORT",)
"""kubeasz's VIP and haproxy port, written on each host of its ex-lb group."""
MEMBER_NAME = ("NODE_NAME",)
"""kubeasz's etcd member name, written on each etcd host."""
IMPORTED = frozenset(
    HOST
    + USER
    + PORT
    + KEY
    + BECOME
    + NODE_IP
    + tuple(SETTINGS)
    + (EXTERNAL_LB,)
    + LOCAL_LB
    + VIP
    + VIP_PORT
    + MEMBER_NAME
)

_SUDO_ENV = "keep it in an environment variable and name that variable in ssh.sudoPasswordEnv"
_LOGIN = f"khatui logs in with SSH keys (ssh-agent or ssh.identityFile); if sudo needs this password, {_SUDO_ENV}"
SECRETS = {
    "ansible_password": _LOGIN,
    "ansible_ssh_pass": _LOGIN,
    "ansible_ssh_password": _LOGIN,
    "ansible_become_password": _SUDO_ENV,
    "ansible_become_pass": _SUDO_ENV,
    "ansible_sudo_pass": _SUDO_ENV,
    "ansible_sudo_password": _SUDO_ENV,
}
"""Inline secrets: reported as NOT imported, with where the secret belongs instead."""

HINTS = {
    "ansible_become_user": "khatui always becomes root with sudo",
    "ansible_become_method": "khatui becomes root with sudo (ssh.sudo)",
    "ansible_connection": "khatui always connects over SSH",
    "ansible_ssh_common_args": "extra ssh arguments are not carried over; a bastion belongs in ssh.jumpHost",
    "ansible_ssh_extra_args": "extra ssh arguments are not carried over; a bastion belongs in ssh.jumpHost",
    "ansible_python_interpreter": "khatui does not run Python on the nodes",
    "etcd_member_name": "khatui names each etcd member after its node",
    "apiserver_loadbalancer_domain_name": "khatui reaches an external load balancer at loadbalancer_apiserver.address",
    "loadbalancer_apiserver_port": "khatui's local proxy listens on spec.loadBalancer.port (7443 by default)",
    "kube_network_plugin": "khatui installs no network plugin (the spec has no network section yet); "
    "install this one after the rollout",
    "CLUSTER_NETWORK": "khatui installs no network plugin (the spec has no network section yet); "
    "install this one after the rollout",
    "container_manager": "khatui runs containerd (spec.install)",
    "CONTAINER_RUNTIME": "khatui runs containerd (spec.install)",
    "LB_ROLE": "keepalived on the lb nodes elects the VIP holder by itself",
    "cluster_name": "the DNS domain is spec.controlPlane.dnsDomain (from dns_domain); the name is metadata.name",
}
"""Variables khatui does not import but has something specific to say about."""

_REFERENCE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
MAX_REFERENCES = 8
"""Bound on a chain of variables naming variables (`a: "{{ b }}"`, `b: "{{ a }}"` ends here)."""
_TRUE = {"true", "yes", "on", "1", "y", "t"}
_FALSE = {"false", "no", "off", "0", "n", "f"}


def plainly_unused(name: str) -> bool:
    """True for a variable khatui neither imports nor has anything specific to say about."""
    return name not in IMPORTED and name not in SECRETS and name not in HINTS


def report_unused(name: str, var: Var, result: ImportResult) -> None:
    """Say why variable `name` (defined at `var.line`) is not imported; silent for imported ones."""
    if name in IMPORTED:
        return
    if name in SECRETS:
        result.notice(var.line, f"{name} is an inline secret and was NOT imported: {SECRETS[name]}", var.file)
    elif name in HINTS:
        result.notice(var.line, f"variable {name!r} is not imported: {HINTS[name]}", var.file)
    else:
        result.notice(var.line, f"variable {name!r} is not imported (khatui has no use for it)", var.file)


class VarReader:
    """Typed reads of one host's effective variables; unusable values become notices, never errors."""

    def __init__(self, variables: dict[str, Var], result: ImportResult, host: str | None = None) -> None:
        self.variables = variables
        self.result = result
        self.host = host
        """The host the variables belong to, named in notices (a group variable's line names no host)."""

    def text(self, names: tuple[str, ...], depth: int = 0) -> str | None:
        """The first of `names` that is set, as text; None when unset or unusable.

        A value that only names another variable (`{{ cluster_name }}`, as Kubespray's dns_domain
        does) is that variable's value; any other template is reported, never evaluated.
        """
        for name in names:
            var = self.variables.get(name)
            if var is None:
                continue
            reference = _REFERENCE.fullmatch(str(var.value)) if var.tag is None else None
            if reference and reference[1] in self.variables and depth < MAX_REFERENCES:
                return self.text((reference[1],), depth + 1)
            if var.tag is not None:
                self.result.notice(
                    var.line,
                    f"{name} is tagged {var.tag} (an Ansible Vault value?) and cannot be read; not imported",
                    var.file,
                )
                return None
            if var.value is None or var.value == "":
                return None
            if isinstance(var.value, dict | list):
                self.result.notice(
                    var.line, f"{name} must be a single value, not a {type(var.value).__name__}; not imported", var.file
                )
                return None
            text = str(var.value)
            if "{{" in text or "{%" in text:
                self.result.notice(
                    var.line,
                    f"{name} is a Jinja2 template ({text}); khatui does not evaluate templates: not imported",
                    var.file,
                )
                return None
            return text
        return None

    def port(self, names: tuple[str, ...]) -> int | None:
        """A port number from the first of `names` that is set."""
        text = self.text(names)
        if text is None:
            return None
        if text.isdigit() and 1 <= int(text) <= 65535:
            return int(text)
        self.notice(names, f"{self.first(names)} {text!r} is not a port number (1-65535); not imported")
        return None

    def boolean(self, names: tuple[str, ...]) -> bool | None:
        """A yes/no value, read as Ansible reads booleans ('yes', 'true', 1, ...)."""
        text = self.text(names)
        if text is None:
            return None
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        self.notice(names, f"{self.first(names)} {text!r} is not a yes/no value; not imported")
        return None

    def ip(self, names: tuple[str, ...]) -> str | None:
        """The first of `names` whose value is an IP address; set values that are not IPs are reported."""
        for name in names:
            text = self.text((name,))
            if text is None:
                continue
            reason = node_address_problem(text)
            if reason is None:
                return text
            who = f"host {self.host!r}: " if self.host else ""
            if not looks_like_ip(text):
                reason = f"{name} {text!r} is not an IP address"
            self.notice((name,), f"{who}{reason}; not used as the node address")
        return None

    def first(self, names: tuple[str, ...]) -> str:
        """The name among `names` that is set (the first one when none is)."""
        return next((name for name in names if name in self.variables), names[0])

    def line(self, names: tuple[str, ...]) -> int | None:
        """The line where the first set variable of `names` was written."""
        var = self.variables.get(self.first(names))
        return var.line if var else None

    def file(self, names: tuple[str, ...]) -> str | None:
        """The file the first set variable of `names` was written in (None: the inventory)."""
        var = self.variables.get(self.first(names))
        return var.file if var else None

    def notice(self, names: tuple[str, ...], message: str) -> None:
        """A notice at the place the first set variable of `names` was written."""
        self.result.notice(self.line(names), message, self.file(names))
