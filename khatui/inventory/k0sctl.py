"""Import a k0sctl cluster file (`k0sctl.yaml`, apiVersion k0sctl.k0sproject.io/v1beta1).

Hosts become nodes: role `controller` is a control plane and etcd member (k0s runs etcd on its
controllers), `worker` a worker, `controller+worker` and `single` both. `ssh` (or `openSSH`) gives
address, user, port, keyPath and a `bastion` with its own address, user, port and keyPath; the
node address is `privateAddress` when given. From the embedded k0s config (`spec.k0s.config.spec`)
the network's podCIDR, serviceCIDR, clusterDomain and kubeProxy.mode, the API's sans and
externalAddress (an external load balancer) map onto the spec; the k0s version gives the
Kubernetes version. Everything else is reported where it was written.
"""

from __future__ import annotations

from khatui.errors import InputError
from khatui.inventory import cluster_files as cf
from khatui.inventory.reading import read_text
from khatui.inventory.result import ImportedNode, ImportResult, SSHValues
from khatui.inventory.settings import Where, put, put_load_balancer
from khatui.inventory.yamltree import Value, document
from khatui.spec.nodes import Role

WHAT = "k0sctl cluster file"
ROLES = {
    "controller": [Role.CONTROL_PLANE, Role.ETCD],
    "worker": [Role.WORKER],
    "controller+worker": [Role.CONTROL_PLANE, Role.ETCD, Role.WORKER],
    "single": [Role.CONTROL_PLANE, Role.ETCD, Role.WORKER],
}
_HOST_KEYS = ("role", "ssh", "openSSH", "privateAddress", "hostname")
_SSH_KEYS = ("address", "user", "port", "keyPath", "bastion")


def import_k0sctl(path: str) -> ImportResult:
    """Read the k0sctl file at `path`; a wrong shape is an `InputError` naming file, line and field."""
    root = document(read_text(path, WHAT), path, WHAT, "k0sctl.k0sproject.io")
    result = ImportResult(path)
    cf.metadata_name(root, result)
    spec = root.get("spec")
    hosts = spec.get("hosts") if spec is not None else None
    if spec is None or hosts is None or not hosts.items():
        raise InputError(f"{path}: spec.hosts lists no host; is this a {WHAT}?")
    for host in hosts.items():
        result.nodes.append(_node(host, result))
    k0s = spec.get("k0s")
    if k0s is not None:
        cf.report_keys(k0s, ("version", "config"), result)
        cf.setting(result, k0s.get("version"), "controlPlane", "kubernetesVersion", cf.kubernetes_version)
        config = k0s.get("config")
        inner = config.get("spec") if config is not None else None
        if inner is not None:
            _k0s_config(inner, result)
    cf.report_keys(spec, ("hosts", "k0s"), result)
    return result


def _node(host: Value, result: ImportResult) -> ImportedNode:
    role_value = host.get("role")
    role = cf.text(role_value) if role_value is not None else None
    if role_value is None or role not in ROLES:
        where = role_value or host
        raise where.fail(f"role {role!r} is not one of {', '.join(ROLES)}" if role else "role is missing")
    cf.report_keys(host, _HOST_KEYS, result)
    connection = host.get("ssh") or host.get("openSSH")
    if connection is None:
        raise host.fail("no ssh address (khatui reaches every node over SSH)")
    cf.report_keys(connection, _SSH_KEYS, result)
    address_value = connection.get("address")
    if address_value is None:
        raise connection.fail("address is missing")
    ssh = _ssh(connection)
    bastion = connection.get("bastion")
    if bastion is not None:
        cf.report_keys(bastion, ("address", "user", "port", "keyPath"), result)
        hop = _ssh(bastion)
        address = bastion.get("address")
        if address is None:
            raise bastion.fail("address is missing")
        shown = f"[{address.text()}]" if ":" in address.text() else address.text()
        port = f":{hop.port}" if hop.port not in (None, 22) else ""
        ssh.jump_host = f"{hop.user + '@' if hop.user else ''}{shown}{port}"
        ssh.jump_identity_file = hop.identity_file
    hostname = cf.text(host.get("hostname"))
    private = cf.text(host.get("privateAddress"))
    return cf.node(result, host, hostname, address_value.text(), private, ROLES[str(role)], ssh)


def _ssh(connection: Value) -> SSHValues:
    port = connection.get("port")
    return SSHValues(
        user=cf.text(connection.get("user")),
        port=port.port() if port is not None else None,
        identity_file=cf.text(connection.get("keyPath")),
    )


def _k0s_config(spec: Value, result: ImportResult) -> None:
    """The k0s ClusterConfig's spec: network and api."""
    network = spec.get("network")
    if network is not None:
        cf.setting(result, network.get("podCIDR"), "controlPlane", "podCIDR")
        cf.setting(result, network.get("serviceCIDR"), "controlPlane", "serviceCIDR")
        cf.setting(result, network.get("clusterDomain"), "controlPlane", "dnsDomain")
        provider = network.get("provider")
        if provider is not None:
            result.notice(
                provider.line,
                f"{provider.path} {provider.text()!r} is not imported: khatui installs no network plugin "
                "(the spec has no network section yet); install it after the rollout",
            )
        proxy = network.get("kubeProxy")
        if proxy is not None:
            cf.setting(result, proxy.get("mode"), "kubeProxy", "mode")
            cf.report_keys(proxy, ("mode",), result)
        cf.report_keys(network, ("podCIDR", "serviceCIDR", "clusterDomain", "provider", "kubeProxy"), result)
    api = spec.get("api")
    if api is not None:
        sans = api.get("sans")
        if sans is not None:
            put(result, Where(sans.path, sans.line), "pki", "extraSANs", [item.text() for item in sans.items()])
        external = api.get("externalAddress")
        if external is not None:
            port = api.get("port")
            data = {"mode": "external", "address": external.text(), "port": port.port() if port else 6443}
            put_load_balancer(result, Where(external.path, external.line), data)
        cf.report_keys(api, ("sans", "externalAddress", "port"), result)
    cf.report_keys(spec, ("network", "api"), result)
