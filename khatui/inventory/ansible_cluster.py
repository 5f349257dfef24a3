"""Cluster settings from Ansible variables: Kubespray's group_vars and kubeasz's hosts file.

Both installers keep cluster-wide settings as variables every host sees (Kubespray in
group_vars/k8s_cluster and group_vars/all, kubeasz in [all:vars]), so they are read from the
effective variables of the first control plane. kubeasz writes its load balancer on each host of
its `ex-lb` group instead, so the VIP is read from the first of them and a different value on
another is reported. Each value is checked by the spec's own model (`khatui.inventory.settings`)
and kept, or reported at its line; the table of names is `ansible_vars.SETTINGS`.
"""

from __future__ import annotations

from collections.abc import Callable

from khatui.inventory import ansible_vars as av
from khatui.inventory.ansible_tree import Inventory
from khatui.inventory.result import ImportResult
from khatui.inventory.settings import Where, put, put_load_balancer

CONVERT: dict[str, Callable[[str], str]] = {
    "dnsDomain": lambda text: text.removesuffix("."),  # kubeasz writes the root's dot: cluster.local.
    "kubernetesVersion": lambda text: text if text.startswith("v") else f"v{text}",
}
ETCD_RUN_AS = {"host": "systemd", "kubeadm": "static-pod"}
"""Kubespray's etcd_deployment_type -> spec.etcd.runAs (docker and containerd have no counterpart)."""


def read_settings(inventory: Inventory, result: ImportResult, control_plane: str | None, lb: list[str]) -> None:
    """Fill `result.settings` and `result.load_balancer` from the variables of the inventory."""
    if control_plane is not None:
        reader = av.VarReader(inventory.effective_vars(control_plane), result)
        for name, (section, key) in av.SETTINGS.items():
            _setting(reader, name, section, key)
        _kubespray_load_balancer(reader, result)
    if lb:
        _kubeasz_load_balancer(inventory, lb, result)


def _where(reader: av.VarReader, names: tuple[str, ...]) -> Where:
    return Where(reader.first(names), reader.line(names), reader.file(names))


def _setting(reader: av.VarReader, name: str, section: str, key: str) -> None:
    text = reader.text((name,))
    if text is None:
        return
    if key == "runAs":
        if text not in ETCD_RUN_AS:
            reader.notice(
                (name,),
                f"{name} {text!r} is not imported: khatui runs etcd as a systemd unit (host) or a static pod (kubeadm)",
            )
            return
        text = ETCD_RUN_AS[text]
    value: object = int(text) if key == "apiPort" and text.isdigit() else CONVERT.get(key, str)(text)
    put(reader.result, _where(reader, (name,)), section, key, value)


def _kubespray_load_balancer(reader: av.VarReader, result: ImportResult) -> None:
    external = reader.variables.get(av.EXTERNAL_LB)
    where = _where(reader, (av.EXTERNAL_LB,))
    if external is not None and isinstance(external.value, dict):
        address, port = external.value.get("address"), external.value.get("port", 6443)
        put_load_balancer(result, where, {"mode": "external", "address": address, "port": port})
        return
    if external is not None and external.value is not None:
        reader.notice((av.EXTERNAL_LB,), f"{av.EXTERNAL_LB} must be a mapping with address and port; not imported")
    localhost, kind = av.LOCAL_LB
    if reader.boolean((localhost,)) is False:
        reader.notice(
            (localhost,),
            f"{localhost} is false and no {av.EXTERNAL_LB} is given: the spec uses a local proxy on every node",
        )
    implementation = reader.text((kind,))
    if implementation is not None:
        put_load_balancer(result, _where(reader, (kind,)), {"mode": "local-proxy", "implementation": implementation})


def _kubeasz_load_balancer(inventory: Inventory, lb: list[str], result: ImportResult) -> None:
    readers = [av.VarReader(inventory.effective_vars(host), result, host=host) for host in lb]
    first = readers[0]
    vip = first.text(av.VIP)
    if vip is None:
        return
    for other in readers[1:]:
        if other.text(av.VIP) not in (None, vip):
            other.notice(av.VIP, f"host {other.host!r}: {av.VIP[0]} differs from {lb[0]!r}'s {vip}; {vip} is used")
    data: dict[str, object] = {"mode": "haproxy-keepalived", "vip": vip}
    port = first.port(av.VIP_PORT)
    if port is not None:
        data["port"] = port
    put_load_balancer(result, _where(first, av.VIP), data)
