"""Every validation rule, one row each: a change to a valid spec -> the problem it must produce.

Each row is checked through YAML text, so the file line is asserted too: the reported line must
hold the key the problem names (or, for a missing field, its parent).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from khatui.spec.problems import Severity
from khatui.spec.validate import validate_data
from khatui.spec.yamlio import dump, load_text


def base() -> dict[str, Any]:
    """A valid HA spec: 3 stacked control planes, 2 lb nodes with a VIP, a worker."""
    nodes = [{"name": f"cp{i}", "address": f"10.0.0.1{i}", "roles": ["control-plane", "etcd"]} for i in (1, 2, 3)]
    nodes += [{"name": f"lb{i}", "address": f"10.0.0.2{i}", "roles": ["lb"]} for i in (1, 2)]
    nodes += [{"name": "w1", "address": "10.0.0.31", "roles": ["worker"]}]
    return {
        "apiVersion": "khatui/v1",
        "kind": "Cluster",
        "metadata": {"name": "t"},
        "spec": {
            "nodes": nodes,
            "loadBalancer": {"mode": "haproxy-keepalived", "vip": "10.0.0.100"},
            "persistence": {
                "classes": [{"name": "nfs", "backend": "nfs", "server": "10.0.0.5", "path": "/x", "default": True}]
            },
        },
    }


def external_etcd(count: int) -> Callable[[dict[str, Any]], None]:
    def change(d: dict[str, Any]) -> None:
        spec = d["spec"]
        spec["etcd"] = {"topology": "external"}
        for node in spec["nodes"][:3]:
            node["roles"] = ["control-plane"]
        spec["nodes"] += [{"name": f"e{i}", "address": f"10.0.0.4{i}", "roles": ["etcd"]} for i in range(count)]

    return change


def setter(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A change that sets the dotted `path` (list indexes as numbers) to `value`."""

    def change(d: dict[str, Any]) -> None:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        target: Any = d
        for part in parents:
            target = target[part]
        target[last] = value

    return change


def deleter(path: str) -> Callable[[dict[str, Any]], None]:
    def change(d: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = d
        for part in parents:
            target = target[int(part) if part.isdigit() else part]
        del target[last]

    return change


def both(*changes: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def change(d: dict[str, Any]) -> None:
        for one in changes:
            one(d)

    return change


def identity_file(mode: int | None) -> Callable[[dict[str, Any]], None]:
    """Point cp1's identityFile at a key with `mode` (None: a file that does not exist)."""

    def change(d: dict[str, Any]) -> None:
        key = Path(os.environ["HOME"]) / "id_test"
        if mode is not None:
            key.write_text("not really a key\n")
            key.chmod(mode)
        d["spec"]["nodes"][0]["ssh"] = {"identityFile": str(key)}

    return change


def mirror_key(content: bytes | None, name: str = "mirror.key") -> Callable[[dict[str, Any]], None]:
    """Name a package mirror whose key file holds `content` (None: a file that does not exist)."""

    def change(d: dict[str, Any]) -> None:
        key = Path(os.environ["HOME"]) / name
        if content is not None:
            key.write_bytes(content)
        elif key.is_file():
            key.unlink()
        d["spec"]["install"] = {"packages": {"mirror": {"url": "http://mirror.local/debian", "key": str(key)}}}

    return change


@dataclass(frozen=True)
class Case:
    change: Callable[[dict[str, Any]], None]
    severity: Severity
    field: str
    message: str
    line_has: str


E, W = Severity.ERROR, Severity.WARNING
# fmt: off
CASES: dict[str, Case] = {
    "duplicate node name": Case(setter("spec.nodes.1.name", "cp1"), E, "spec.nodes[1].name", "duplicate node name 'cp1' (also spec.nodes[0])", "name: cp1"),
    "duplicate address": Case(setter("spec.nodes.2.address", "10.0.0.11"), E, "spec.nodes[2].address", "duplicate address 10.0.0.11 (also spec.nodes[0])", "address: 10.0.0.11"),
    "invalid IPv4": Case(setter("spec.nodes.0.address", "10.0.0.300"), E, "spec.nodes[0].address", "'10.0.0.300' is not a valid IPv4 or IPv6 address", "address"),
    "invalid IPv6": Case(setter("spec.nodes.0.address", "fd00::zz"), E, "spec.nodes[0].address", "not a valid IPv4 or IPv6 address", "address"),
    "unspecified address": Case(setter("spec.nodes.0.address", "0.0.0.0"), E, "spec.nodes[0].address", "0.0.0.0 cannot be a node address", "address"),
    "invalid CIDR": Case(setter("spec.controlPlane", {"podCIDR": "10.244.0.0/33"}), E, "spec.controlPlane.podCIDR", "not a valid IPv4 or IPv6 network", "podCIDR"),
    "invalid port": Case(setter("spec.nodes.0.ssh", {"port": 70000}), E, "spec.nodes[0].ssh.port", "less than or equal to 65535 (got 70000)", "port: 70000"),
    "port zero": Case(setter("spec.loadBalancer.port", 0), E, "spec.loadBalancer.port", "greater than or equal to 1", "port: 0"),
    "overlapping CIDRs": Case(setter("spec.controlPlane", {"podCIDR": "10.96.0.0/16"}), E, "spec.controlPlane.serviceCIDR", "service CIDR 10.96.0.0/12 overlaps pod CIDR 10.96.0.0/16", "controlPlane"),
    "service CIDR too large": Case(setter("spec.controlPlane", {"serviceCIDR": "10.0.0.0/8", "podCIDR": "192.168.0.0/16"}), E, "spec.controlPlane.serviceCIDR", "too large", "serviceCIDR"),
    "node inside pod CIDR": Case(setter("spec.controlPlane", {"podCIDR": "10.0.0.0/16", "serviceCIDR": "10.96.0.0/12"}), E, "spec.nodes[0].address", "lies inside the podCIDR", "address: 10.0.0.11"),
    "2 etcd members": Case(external_etcd(2), E, "spec.nodes", "2 etcd members: quorum is 2, so losing either stops etcd", "nodes:"),
    "4 etcd members": Case(external_etcd(4), E, "spec.nodes", "4 members: quorum is 3, tolerates 1 failure", "nodes:"),
    "HA with 1 control plane": Case(both(setter("spec.nodes.1.roles", ["worker"]), setter("spec.nodes.2.roles", ["worker"])), W, "spec.nodes", "there is 1 control-plane node", "nodes:"),
    "HA with 1 etcd member": Case(both(external_etcd(1)), W, "spec.nodes", "etcd has 1 members: quorum is 1, tolerates 0 failures", "nodes:"),
    "leader election off": Case(setter("spec.controlPlane", {"leaderElect": False}), E, "spec.controlPlane.leaderElect", "leader election cannot be off in an HA cluster", "leaderElect"),
    "VIP is a node address": Case(setter("spec.loadBalancer.vip", "10.0.0.21"), E, "spec.loadBalancer.vip", "the VIP 10.0.0.21 is the address of node 'lb1'", "vip"),
    "VIP outside subnet": Case(setter("spec.loadBalancer.vip", "10.9.0.100"), E, "spec.loadBalancer.vip", "outside the subnet 10.9.0.0/24 of the lb nodes lb1, lb2", "vip"),
    "VIP prefix too long": Case(setter("spec.loadBalancer.vipPrefixLength", 40), E, "spec.loadBalancer.vipPrefixLength", "/40 is not an IPv4 prefix length", "vipPrefixLength"),
    "kube-vip VIP outside CP subnet": Case(setter("spec.loadBalancer", {"mode": "kube-vip", "vip": "10.5.0.9"}), E, "spec.loadBalancer.vip", "of the control-plane nodes cp1, cp2, cp3", "vip"),
    "haproxy without lb nodes": Case(both(setter("spec.nodes.3.roles", ["worker"]), setter("spec.nodes.4.roles", ["worker"])), E, "spec.loadBalancer.mode", "no node has it", "mode"),
    "one lb node": Case(setter("spec.nodes.4.roles", ["worker"]), W, "spec.loadBalancer.mode", "the VIP cannot fail over", "mode"),
    "lb nodes unused": Case(setter("spec.loadBalancer", {"mode": "local-proxy"}), W, "spec.nodes", "nodes with the lb role (lb1, lb2) are unused", "nodes:"),
    "haproxy port clash on a master": Case(setter("spec.nodes.0.roles", ["control-plane", "etcd", "lb"]), E, "spec.loadBalancer.port", "equals the apiserver's port", "loadBalancer"),
    "unknown field": Case(setter("spec.nodes.0.adress", "x"), E, "spec.nodes[0].adress", "unknown field 'adress'; did you mean 'address'?", "adress"),
    "unknown top-level field": Case(setter("spek", {}), E, "spek", "unknown field 'spek'; did you mean 'spec'?", "spek"),
    "wrong type": Case(setter("spec.dns", {"replicas": "many"}), E, "spec.dns.replicas", "valid integer", "replicas"),
    "wrong type list": Case(setter("spec.nodes.0.roles", "etcd"), E, "spec.nodes[0].roles", "valid list", "roles"),
    "unknown role": Case(setter("spec.nodes.0.roles", ["master"]), E, "spec.nodes[0].roles[0]", "'etcd', 'control-plane', 'worker' or 'lb' (got 'master')", "- master"),
    "missing field": Case(deleter("spec.nodes.0.address"), E, "spec.nodes[0].address", "required field is missing", "name: cp1"),
    "missing load balancer": Case(deleter("spec.loadBalancer"), E, "spec.loadBalancer", "required field is missing", "spec:"),
    "unknown LB mode": Case(setter("spec.loadBalancer.mode", "f5"), E, "spec.loadBalancer.mode", "'f5' is not one of: 'external', 'haproxy-keepalived', 'kube-vip', 'local-proxy'", "mode: f5"),
    "missing VIP": Case(deleter("spec.loadBalancer.vip"), E, "spec.loadBalancer.vip", "required field is missing", "loadBalancer"),
    "wrong apiVersion": Case(setter("apiVersion", "khatui/v2"), E, "apiVersion", "Input should be 'khatui/v1' (got 'khatui/v2')", "apiVersion"),
    "wrong kind": Case(setter("kind", "Pod"), E, "kind", "Input should be 'Cluster'", "kind"),
    "identity file missing": Case(identity_file(None), E, "spec.nodes[0].ssh.identityFile", "no such file or directory", "identityFile"),
    "mirror key missing": Case(mirror_key(None), E, "spec.install.packages.mirror.key", "mirror.key: no such file or directory", "key"),
    "mirror key not a key": Case(mirror_key(b"deb http://x bookworm main\n"), E, "spec.install.packages.mirror.key", "not an OpenPGP public key", "key"),
    "mirror key a secret key packet": Case(mirror_key(bytes([0x95, 0x01, 0x00])), E, "spec.install.packages.mirror.key", "not an OpenPGP public key", "key"),
    "mirror key empty": Case(mirror_key(b""), E, "spec.install.packages.mirror.key", "not an OpenPGP public key", "key"),
    "mirror key a directory": Case(mirror_key(None, "."), E, "spec.install.packages.mirror.key", "is not a regular file", "key"),
    "mirror component with a blank": Case(setter("spec.install", {"packages": {"mirror": {"url": "http://m/d", "key": "k", "components": ["main contrib"]}}}), E, "spec.install.packages.mirror.components[0]", "should match pattern", "main contrib"),
    "identity file too open": Case(identity_file(0o644), E, "spec.nodes[0].ssh.identityFile", "has permissions 0644, wider than 0600", "identityFile"),
    "identity file group-readable": Case(identity_file(0o640), E, "spec.nodes[0].ssh.identityFile", "has permissions 0640", "identityFile"),
    "inline sudo password": Case(setter("spec.nodes.0.ssh", {"sudo": True, "sudoPassword": "hunter2"}), E, "spec.nodes[0].ssh.sudoPassword", "secrets are never written in the spec; give sudoPasswordEnv instead", "sudoPassword"),
    "password as env name": Case(setter("spec.nodes.0.ssh", {"sudo": True, "sudoPasswordEnv": "hunter2!"}), E, "spec.nodes[0].ssh.sudoPasswordEnv", "never the secret itself", "sudoPasswordEnv"),
    "inline ceph key": Case(setter("spec.persistence.classes", [{"name": "rbd", "backend": "ceph-rbd", "clusterId": "c", "monitors": ["10.0.0.6:6789"], "pool": "p", "key": "AQBxyz==", "secretRef": {"name": "s"}, "default": True}]), E, "spec.persistence.classes[0].key", "give secretRef instead", "key: AQBxyz=="),
    "not root without sudo": Case(setter("spec.nodes.0.ssh", {"user": "ops"}), W, "spec.nodes[0].ssh.sudo", "user 'ops' is not root and sudo is off", "ssh"),
    "stacked etcd on a non-master": Case(setter("spec.nodes.5.roles", ["worker", "etcd"]), E, "spec.nodes[5].roles", "topology 'stacked' runs etcd on control-plane nodes", "roles"),
    "stacked master without etcd": Case(setter("spec.nodes.0.roles", ["control-plane"]), E, "spec.nodes[0].roles", "every control-plane node is an etcd member", "roles"),
    "external etcd on a master": Case(setter("spec.etcd", {"topology": "external"}), E, "spec.nodes[0].roles", "topology 'external' puts etcd on nodes of its own", "roles"),
    "no control plane": Case(both(setter("spec.etcd", {"topology": "external"}), *(setter(f"spec.nodes.{i}.roles", ["etcd"]) for i in range(3))), E, "spec.nodes", "no node has the control-plane role", "nodes:"),
    "ipvs scheduler with iptables": Case(setter("spec.kubeProxy", {"mode": "iptables", "ipvsScheduler": "rr"}), E, "spec.kubeProxy.ipvsScheduler", "only applies to mode 'ipvs'", "ipvsScheduler"),
    "unknown ipvs scheduler": Case(setter("spec.kubeProxy", {"mode": "ipvs", "ipvsScheduler": "fastest"}), E, "spec.kubeProxy.ipvsScheduler", "(got 'fastest')", "ipvsScheduler"),
    "nftables on old Kubernetes": Case(both(setter("spec.controlPlane", {"kubernetesVersion": "v1.30.2"}), setter("spec.kubeProxy", {"mode": "nftables"})), E, "spec.kubeProxy.mode", "needs Kubernetes v1.31", "mode: nftables"),
    "Kubernetes too old": Case(setter("spec.controlPlane", {"kubernetesVersion": "v1.20.0"}), E, "spec.controlPlane.kubernetesVersion", "not supported", "kubernetesVersion"),
    "bad version": Case(setter("spec.controlPlane", {"kubernetesVersion": "latest"}), E, "spec.controlPlane.kubernetesVersion", "is not a version", "kubernetesVersion"),
    "two default classes": Case(setter("spec.persistence.classes", [{"name": "a", "backend": "aws-ebs", "default": True}, {"name": "b", "backend": "gce-pd", "default": True}]), E, "spec.persistence.classes[1].default", "more than one default StorageClass ('a' already is)", "default"),
    "no default class": Case(setter("spec.persistence.classes.0.default", False), W, "spec.persistence.classes", "no StorageClass is marked default", "classes"),
    "unknown storage backend": Case(setter("spec.persistence.classes.0.backend", "s3"), E, "spec.persistence.classes[0].backend", "'s3' is not one of", "backend: s3"),
    "GlusterFS on current Kubernetes": Case(setter("spec.persistence.classes", [{"name": "g", "backend": "glusterfs", "endpoints": ["10.0.0.8"], "volume": "vol0", "default": True}]), E, "spec.persistence.classes[0].backend", "GlusterFS cannot be provisioned on Kubernetes v1.26 or newer", "backend: glusterfs"),
    "local disk size not a binary quantity": Case(setter("spec.persistence.classes", [{"name": "l", "backend": "local", "paths": ["/mnt/d1"], "capacity": "100GB", "default": True}]), E, "spec.persistence.classes[0].capacity", "should match pattern", "capacity"),
    "local class without workers": Case(both(setter("spec.nodes.5.roles", ["lb"]), setter("spec.persistence.classes", [{"name": "disks", "backend": "local", "paths": ["/mnt/d1"], "default": True}])), W, "spec.persistence.classes[0].paths", "StorageClass 'disks' gets no volumes: local volumes are made on worker nodes", "paths"),
    "bad iSCSI IQN": Case(setter("spec.persistence.classes", [{"name": "i", "backend": "iscsi", "portal": "10.0.0.7:3260", "iqn": "not-an-iqn", "default": True}]), E, "spec.persistence.classes[0].iqn", "should match pattern", "iqn"),
    "CA import without files": Case(setter("spec.pki", {"ca": {"etcd": {"mode": "import"}}}), E, "spec.pki.ca.etcd", "mode 'import' needs both certFile and keyFile", "etcd"),
    "CA import file missing": Case(setter("spec.pki", {"ca": {"etcd": {"mode": "import", "certFile": "/nope/ca.crt", "keyFile": "/nope/ca.key"}}}), E, "spec.pki.ca.etcd.certFile", "no such file", "certFile"),
    "bad duration": Case(setter("spec.pki", {"validity": "5 years"}), E, "spec.pki.validity", "not a duration", "validity"),
    "etcd ports equal": Case(setter("spec.etcd", {"peerPort": 2379}), E, "spec.etcd.peerPort", "equals the client port", "peerPort"),
    "API port on etcd's": Case(setter("spec.controlPlane", {"apiPort": 2380}), E, "spec.controlPlane.apiPort", "clashes with etcd's ports", "apiPort"),
    "role twice": Case(setter("spec.nodes.0.roles", ["etcd", "etcd", "control-plane"]), E, "spec.nodes[0].roles", "a role is listed twice", "roles"),
    "bad node name": Case(setter("spec.nodes.0.name", "CP_1"), E, "spec.nodes[0].name", "'CP_1' is not a valid name", "name: CP_1"),
    "bad jump host": Case(setter("spec.nodes.0.ssh", {"jumpHost": "ops@bastion:22:33"}), E, "spec.nodes[0].ssh.jumpHost", "is not a jump host", "jumpHost"),
}
# fmt: on


@pytest.mark.parametrize("name", list(CASES))
def test_rule(name: str) -> None:
    case = CASES[name]
    data = copy.deepcopy(base())
    case.change(data)
    text = dump(data)
    loaded = load_text(text, "c.yaml")
    report = validate_data(loaded.data, loaded, base_dir=os.environ["HOME"])
    matches = [p for p in report.problems if p.field == case.field and case.message in p.message]
    assert matches, f"no problem at {case.field} with {case.message!r}; got:\n" + "\n".join(map(str, report.problems))
    problem = matches[0]
    assert problem.severity is case.severity
    assert problem.file == "c.yaml"
    assert problem.line is not None
    assert case.line_has in text.splitlines()[problem.line - 1]
    assert report.ok is (case.severity is Severity.WARNING and not any(p.severity is E for p in report.problems))


def test_base_is_clean() -> None:
    report = validate_data(base(), base_dir=os.environ["HOME"])
    assert report.ok and report.problems == []


def test_all_problems_at_once() -> None:
    data = base()
    data["spec"]["nodes"][1]["address"] = "10.0.0.300"
    data["spec"]["nodes"][2]["extra"] = 1
    data["spec"]["dns"] = {"replicas": "x"}
    report = validate_data(data)
    assert {p.field for p in report.problems} == {"spec.nodes[1].address", "spec.nodes[2].extra", "spec.dns.replicas"}


def test_ipv6_cluster_is_valid() -> None:
    data = base()
    for i, node in enumerate(data["spec"]["nodes"]):
        node["address"] = f"fd00:10::{i + 1:x}"
    data["spec"]["controlPlane"] = {"podCIDR": "fd00:244::/56", "serviceCIDR": "fd00:96::/112"}
    data["spec"]["loadBalancer"]["vip"] = "fd00:10::100"
    assert validate_data(data).problems == []


def test_rules_still_run_beside_shape_errors() -> None:
    """A wrong value elsewhere does not hide the rule problems of the rest of the spec."""
    data = base()
    data["spec"]["nodes"][5]["ssh"] = {"port": 0, "user": "ops;id"}
    data["spec"]["dns"] = {"replicas": "x"}
    data["spec"]["etcd"] = {"peerPort": 2379}
    data["spec"]["loadBalancer"]["vip"] = "10.0.0.11"
    data["spec"]["persistence"]["classes"][0]["default"] = False
    fields = {(p.field, p.severity) for p in validate_data(data).problems}
    assert fields == {
        ("spec.nodes[5].ssh.port", E),
        ("spec.nodes[5].ssh.user", E),
        ("spec.dns.replicas", E),
        ("spec.etcd.peerPort", E),
        ("spec.loadBalancer.vip", E),
        ("spec.persistence.classes", W),
    }


def test_rules_reading_a_wrong_value_are_skipped() -> None:
    """A stand-in is never judged: with the VIP unusable, no rule reports about the VIP or lb nodes."""
    data = base()
    data["spec"]["loadBalancer"]["vip"] = True
    problems = validate_data(data).problems
    assert [(p.field, p.message) for p in problems] == [
        ("spec.loadBalancer.vip", "an IP address is written as text like 10.0.0.11, not as a yes/no value")
    ]
