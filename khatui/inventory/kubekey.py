"""Import a KubeKey cluster config (`config-sample.yaml`, apiVersion kubekey.kubesphere.io/v1alpha2).

`spec.hosts` are the machines (name, address, internalAddress as the node address, port, user,
privateKeyPath; a password is reported, never copied); `spec.roleGroups` gives the roles (etcd,
control-plane or the older master, worker), host ranges like `node[1:3]` included. The
controlPlaneEndpoint maps onto spec.loadBalancer: internalLoadbalancer haproxy is KubeKey's proxy
on every node (local-proxy), kube-vip a VIP at `address`, and no internal LB with an address an
external load balancer. kubernetes.version, proxyMode, clusterName (the DNS domain),
apiserverCertExtraSans, etcd.type and network.kubePodsCIDR/kubeServiceCIDR map too; everything
else is reported where it was written.
"""

from __future__ import annotations

from khatui.errors import InputError
from khatui.inventory import cluster_files as cf
from khatui.inventory import hostrange
from khatui.inventory.reading import read_text
from khatui.inventory.result import ImportResult, SSHValues
from khatui.inventory.settings import Where, put, put_load_balancer
from khatui.inventory.yamltree import Value, document
from khatui.spec.nodes import Role

WHAT = "KubeKey cluster config"
ROLE_GROUPS = {
    "etcd": Role.ETCD,
    "control-plane": Role.CONTROL_PLANE,
    "master": Role.CONTROL_PLANE,
    "worker": Role.WORKER,
}
ETCD_TYPES = {"kubekey": "systemd", "kubeadm": "static-pod"}
"""KubeKey's etcd.type -> spec.etcd.runAs (KubeKey runs its own etcd as a systemd service)."""
_HOST_KEYS = ("name", "address", "internalAddress", "port", "user", "privateKeyPath")


def import_kubekey(path: str) -> ImportResult:
    """Read the KubeKey config at `path`; a wrong shape is an `InputError` naming file, line and field."""
    root = document(read_text(path, WHAT), path, WHAT, "kubekey.kubesphere.io")
    result = ImportResult(path)
    cf.metadata_name(root, result)
    spec = root.get("spec")
    hosts = spec.get("hosts") if spec is not None else None
    if spec is None or hosts is None or not hosts.items():
        raise InputError(f"{path}: spec.hosts lists no host; is this a {WHAT}?")
    roles = _roles(spec.get("roleGroups"), [cf.text(h.get("name")) for h in hosts.items()], result)
    for host in hosts.items():
        name_value = host.get("name")
        if name_value is None:
            raise host.fail("name is missing")
        name = name_value.text()
        if not roles.get(name):
            result.notice(host.line, f"{host.path}: host {name!r} is in no roleGroup: left out of the spec")
            continue
        address = host.get("address") or host.get("internalAddress")
        if address is None:
            raise host.fail("address is missing")
        cf.report_keys(host, _HOST_KEYS, result, secrets=("password",))
        port = host.get("port")
        ssh = SSHValues(
            user=cf.text(host.get("user")),
            port=port.port() if port is not None else None,
            identity_file=cf.text(host.get("privateKeyPath")),
        )
        private = cf.text(host.get("internalAddress"))
        ordered = [role for role in Role if role in roles[name]]
        result.nodes.append(cf.node(result, host, name, address.text(), private, ordered, ssh))
    _endpoint(spec.get("controlPlaneEndpoint"), result)
    _cluster(spec, result)
    return result


def _roles(groups: Value | None, names: list[str | None], result: ImportResult) -> dict[str, set[Role]]:
    if groups is None:
        raise InputError(f"{result.source}: spec.roleGroups is missing; KubeKey gives every host its roles there")
    roles: dict[str, set[Role]] = {}
    for group, members in groups.pairs():
        if group not in ROLE_GROUPS:
            result.notice(members.line, f"{members.path} is not imported (khatui has no such role)")
            continue
        unknown: list[str] = []
        for member in members.items():
            try:
                expanded = hostrange.expand(member.text())
            except hostrange.RangeError as exc:
                raise member.fail(str(exc)) from None
            for name in expanded:
                if name in names:
                    roles.setdefault(name, set()).add(ROLE_GROUPS[group])
                else:
                    unknown.append(name)
        if unknown:
            shown = ", ".join(unknown[:6]) + (", ..." if len(unknown) > 6 else "")
            result.notice(members.line, f"{members.path} names hosts that spec.hosts does not list: {shown}")
    return roles


def _endpoint(endpoint: Value | None, result: ImportResult) -> None:
    if endpoint is None:
        return
    cf.report_keys(endpoint, ("internalLoadbalancer", "domain", "address", "port"), result)
    kind = cf.text(endpoint.get("internalLoadbalancer"))
    address = cf.text(endpoint.get("address"))
    port = endpoint.get("port")
    where = Where(endpoint.path, endpoint.line)
    domain = endpoint.get("domain")
    if domain is not None:
        result.notice(
            domain.line, f"{domain.path} is not imported: khatui reaches the API at the load balancer's address"
        )
    if kind == "haproxy":
        put_load_balancer(result, where, {"mode": "local-proxy", "implementation": "haproxy"})
    elif kind == "kube-vip":
        put_load_balancer(result, where, {"mode": "kube-vip", "vip": address})
    elif kind is not None:
        result.notice(
            endpoint.line, f"{endpoint.path}.internalLoadbalancer {kind!r} is not haproxy or kube-vip; not imported"
        )
    elif address is not None:
        data = {"mode": "external", "address": address, "port": port.port() if port is not None else 6443}
        put_load_balancer(result, where, data)


def _cluster(spec: Value, result: ImportResult) -> None:
    kubernetes = spec.get("kubernetes")
    if kubernetes is not None:
        cf.report_keys(kubernetes, ("version", "proxyMode", "clusterName", "apiserverCertExtraSans"), result)
        cf.setting(result, kubernetes.get("version"), "controlPlane", "kubernetesVersion", cf.kubernetes_version)
        cf.setting(result, kubernetes.get("proxyMode"), "kubeProxy", "mode")
        cf.setting(result, kubernetes.get("clusterName"), "controlPlane", "dnsDomain")
        sans = kubernetes.get("apiserverCertExtraSans")
        if sans is not None:
            put(result, Where(sans.path, sans.line), "pki", "extraSANs", [item.text() for item in sans.items()])
    etcd = spec.get("etcd")
    kind = etcd.get("type") if etcd is not None else None
    if etcd is not None:
        cf.report_keys(etcd, ("type",), result)
    if kind is not None and kind.text() in ETCD_TYPES:
        put(result, Where(kind.path, kind.line), "etcd", "runAs", ETCD_TYPES[kind.text()])
    elif kind is not None:
        result.notice(kind.line, f"{kind.path} {kind.text()!r} is not imported: khatui runs the etcd of its nodes")
    network = spec.get("network")
    if network is not None:
        cf.report_keys(network, ("plugin", "kubePodsCIDR", "kubeServiceCIDR"), result)
        cf.setting(result, network.get("kubePodsCIDR"), "controlPlane", "podCIDR")
        cf.setting(result, network.get("kubeServiceCIDR"), "controlPlane", "serviceCIDR")
        plugin = network.get("plugin")
        if plugin is not None:
            result.notice(
                plugin.line,
                f"{plugin.path} {plugin.text()!r} is not imported: khatui installs no network plugin "
                "(the spec has no network section yet); install it after the rollout",
            )
    cf.report_keys(spec, ("hosts", "roleGroups", "controlPlaneEndpoint", "kubernetes", "etcd", "network"), result)
