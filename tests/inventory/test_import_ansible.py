"""Kubespray-style Ansible inventories (INI and YAML) -> nodes and notices."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from khatui.errors import InputError
from khatui.inventory.ansible import import_ansible
from khatui.inventory.assemble import cluster_document
from khatui.inventory.result import ImportResult
from khatui.spec.validate import validate_data

FIXTURES = Path(__file__).parent / "fixtures"
SSH = {"user": "ubuntu", "identityFile": "~/.ssh/prod-eu.pem", "jumpHost": "jump@198.51.100.7:2200", "sudo": True}
CP = ["control-plane", "etcd"]

KUBESPRAY_NODES: list[dict[str, Any]] = [
    {"name": "master1", "address": "10.10.0.11", "roles": CP, "ssh": {**SSH, "host": "203.0.113.11"}},
    {"name": "master2", "address": "10.10.0.12", "roles": CP, "ssh": {**SSH, "host": "203.0.113.12"}},
    {"name": "master3", "address": "10.10.0.13", "roles": CP, "ssh": {**SSH, "host": "203.0.113.13"}},
    {"name": "worker1", "address": "10.10.0.21", "roles": ["worker"], "ssh": {**SSH, "host": "203.0.113.21"}},
    {"name": "worker2", "address": "10.10.0.22", "roles": ["worker"], "ssh": {**SSH, "host": "203.0.113.22"}},
    {"name": "worker3", "address": "10.10.0.23", "roles": ["worker"], "ssh": {**SSH, "port": 2222}},
]


def node_data(result: ImportResult) -> list[dict[str, Any]]:
    return [node.to_data() for node in result.nodes]


def notices(result: ImportResult) -> list[tuple[int | None, str]]:
    return [(n.line, n.message) for n in result.sorted_notices()]


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_kubespray_ini_becomes_nodes_with_roles_bastion_and_ssh_settings() -> None:
    result = import_ansible(str(FIXTURES / "kubespray.ini"))
    assert node_data(result) == KUBESPRAY_NODES


def test_kubespray_ini_reports_what_it_did_not_import_at_its_line() -> None:
    result = import_ansible(str(FIXTURES / "kubespray.ini"))
    etcd_name = "variable 'etcd_member_name' is not imported: khatui names each etcd member after its node"
    assert notices(result) == [
        (3, etcd_name),
        (4, etcd_name),
        (5, etcd_name),
        (31, "group 'calico_rr' means nothing to khatui: ignored (its hosts get no role from it)"),
    ]
    assert str(result.sorted_notices()[0]) == f"{FIXTURES / 'kubespray.ini'}:3: notice: {etcd_name}"


def test_hosts_yaml_gives_the_same_nodes_with_yaml_lines() -> None:
    result = import_ansible(str(FIXTURES / "hosts.yaml"))
    assert node_data(result) == KUBESPRAY_NODES
    assert [line for line, _ in notices(result)] == [7, 11, 15, 54]


def test_imported_kubespray_spec_is_valid_with_local_proxy_and_stacked_etcd() -> None:
    document = cluster_document(import_ansible(str(FIXTURES / "kubespray.ini")), "prod-eu")
    assert document["spec"]["loadBalancer"] == {"mode": "local-proxy"}
    assert document["spec"]["etcd"] == {"topology": "stacked"}
    report = validate_data(document)
    assert report.ok, report.problems
    assert report.problems == []


def test_unsupported_constructs_each_get_a_notice_at_their_line() -> None:
    result = import_ansible(str(FIXTURES / "unsupported.ini"))
    no_ip = (
        "host {0!r} has no IP address (ip, access_ip, ansible_host and its name are not IPs); a node address must "
        "be an IP and khatui resolves nothing over the network: write it in the spec or pass --address {0}=IP"
    )
    renamed = "host {0!r} is named {1!r} in the spec (a node name is a lowercase DNS label)"
    expected = [
        (3, "host range 'cp[1:3].lab.example' expanded to 3 hosts: cp1.lab.example, cp2.lab.example, cp3.lab.example"),
        (3, no_ip.format("cp1.lab.example")),
        (3, renamed.format("cp1.lab.example", "cp1")),
        (3, no_ip.format("cp2.lab.example")),
        (3, renamed.format("cp2.lab.example", "cp2")),
        (3, no_ip.format("cp3.lab.example")),
        (3, renamed.format("cp3.lab.example", "cp3")),
        (9, "host range 'node[01:02]' expanded to 2 hosts: node01, node02"),
        (
            9,
            "ansible_become_password is an inline secret and was NOT imported: keep it in an environment variable "
            "and name that variable in ssh.sudoPasswordEnv",
        ),
        (10, "host range not supported: range [1:x] mixes a letter and a number; no host imported from it"),
        (
            11,
            "ansible_password is an inline secret and was NOT imported: khatui logs in with SSH keys (ssh-agent or "
            "ssh.identityFile); if sudo needs this password, keep it in an environment variable and name that "
            "variable in ssh.sudoPasswordEnv",
        ),
        (11, renamed.format("10.0.5.40", "node-10-0-5-40")),
        (11, "ansible_become 'sometimes' is not a yes/no value; not imported"),
        (12, "host 'db1.lab.example': ip 'db1.lab.example' is not an IP address; not used as the node address"),
        (12, no_ip.format("db1.lab.example")),
        (12, renamed.format("db1.lab.example", "db1")),
        (14, "group 'calico-rr' means nothing to khatui: ignored (its hosts get no role from it)"),
        (15, "host 'rr1' is in none of kube_control_plane, etcd, kube_node: left out of the spec"),
        (18, "ansible_port '22x' is not a port number (1-65535); not imported"),
        (
            19,
            "ansible_user is a Jinja2 template ({{ lookup('env', 'USER') }}); khatui does not evaluate templates: "
            "not imported",
        ),
        (20, "variable 'node_labels' is not imported (khatui has no use for it)"),
        (27, "section [all:weird] has an unknown type (Ansible rejects it); its lines are skipped"),
        (
            None,
            "no ansible_user for node01, node02, node-10-0-5-40, db1: the spec uses khatui's default user 'root' "
            "(Ansible would log in as your local user); set ssh.user if that is not right",
        ),
    ]
    assert notices(result) == expected


def test_unsupported_inventory_keeps_old_group_names_and_never_copies_secrets() -> None:
    result = import_ansible(str(FIXTURES / "unsupported.ini"))
    by_name = {node.name: node.to_data() for node in result.nodes}
    assert list(by_name) == ["cp1", "cp2", "cp3", "node01", "node02", "node-10-0-5-40", "db1"]
    # kube-master is the old control-plane group; [etcd:children] kube-master makes them etcd members.
    assert by_name["cp1"] == {
        "name": "cp1",
        "address": "cp1.lab.example",
        "roles": CP,
        "ssh": {"user": "admin", "sudo": True},
    }
    assert by_name["node01"] == {"name": "node01", "address": "10.0.5.99", "roles": ["worker"]}
    assert by_name["node-10-0-5-40"] == {"name": "node-10-0-5-40", "address": "10.0.5.40", "roles": ["worker"]}
    text = repr(node_data(result))
    assert "hunter2" not in text and "s3cret" not in text


def test_unresolved_hostnames_make_the_spec_fail_at_the_node_address() -> None:
    document = cluster_document(import_ansible(str(FIXTURES / "unsupported.ini")), "lab")
    report = validate_data(document)
    assert not report.ok
    assert [(p.field, p.message) for p in report.problems] == [
        (f"spec.nodes[{i}].address", f"'{host}' is not a valid IPv4 or IPv6 address")
        for i, host in ((0, "cp1.lab.example"), (1, "cp2.lab.example"), (2, "cp3.lab.example"), (6, "db1.lab.example"))
    ]


def test_variable_precedence_follows_ansible(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "inventory.ini",
        """\
[kube_control_plane]
cp1 ansible_host=10.0.0.1
[etcd:children]
kube_control_plane
[kube_node]
w1 ansible_host=10.0.0.2
w2 ansible_host=10.0.0.3 ansible_user=special ansible_become=no
[k8s_cluster:children]
kube_control_plane
kube_node
[k8s_cluster:vars]
ansible_user=cluster
ansible_port=2200
[kube_node:vars]
ansible_user=core
[all:vars]
ansible_user=everyone
ansible_become=True
""",
    )
    users = {node.name: (node.ssh.user, node.ssh.port, node.ssh.sudo) for node in import_ansible(path).nodes}
    # all < k8s_cluster < kube_node (deeper groups win) < host variables.
    assert users == {"cp1": ("cluster", 2200, True), "w1": ("core", 2200, True), "w2": ("special", 2200, False)}


def test_ip_wins_over_access_ip_and_ansible_host(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "hosts.ini",
        """\
[kube_control_plane]
a ansible_host=192.0.2.1 access_ip=10.0.0.21 ip=10.0.0.11
b ansible_host=192.0.2.2 access_ip=10.0.0.22
c ansible_host=10.0.0.13 ansible_ssh_user=legacy
d:2222 ansible_host=fe80::1
[etcd:children]
kube_control_plane
""",
    )
    nodes = {node.name: node.to_data() for node in import_ansible(path).nodes}
    assert nodes["a"]["address"] == "10.0.0.11" and nodes["a"]["ssh"]["host"] == "192.0.2.1"
    assert nodes["b"]["address"] == "10.0.0.22" and nodes["b"]["ssh"]["host"] == "192.0.2.2"
    assert nodes["c"] == {"name": "c", "address": "10.0.0.13", "roles": CP, "ssh": {"user": "legacy"}}
    assert nodes["d"] == {"name": "d", "address": "fe80::1", "roles": CP, "ssh": {"port": 2222}}


def test_yaml_vault_values_and_odd_keys_are_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "hosts.yml",
        """\
all:
  vars:
    ansible_user: !vault |
      $ANSIBLE_VAULT;1.1;AES256
      6162
  children:
    kube_control_plane:
      hosts:
        cp1: {ip: 10.0.0.1}
      labels: [a]
    etcd:
      children:
        kube_control_plane:
""",
    )
    result = import_ansible(path)
    assert notices(result)[:2] == [
        (3, "ansible_user is tagged !vault (an Ansible Vault value?) and cannot be read; not imported"),
        (
            10,
            "key 'labels' in group 'kube_control_plane' is not one of hosts, vars, children; "
            "ignored (Ansible skips it too)",
        ),
    ]
    # Without ansible_host, Ansible connects to the inventory name: so does khatui (ssh.host).
    assert node_data(result) == [{"name": "cp1", "address": "10.0.0.1", "roles": CP, "ssh": {"host": "cp1"}}]


def test_format_is_detected_from_content_without_an_extension(tmp_path: Path) -> None:
    yaml_path = write(
        tmp_path, "yaml-inventory", "all:\n  children:\n    kube_control_plane:\n      hosts:\n        10.0.0.1:\n"
    )
    ini_path = write(tmp_path, "ini-inventory", "10.0.0.2\n\n[kube_node]\n10.0.0.2\n")
    assert node_data(import_ansible(yaml_path)) == [
        {"name": "node-10-0-0-1", "address": "10.0.0.1", "roles": ["control-plane"]}
    ]
    assert node_data(import_ansible(ini_path)) == [
        {"name": "node-10-0-0-2", "address": "10.0.0.2", "roles": ["worker"]}
    ]


def test_lb_hosts_and_address_overrides(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "inv.ini",
        "[kube_control_plane]\ncp1.lab\n[etcd:children]\nkube_control_plane\n[haproxy]\nlb1 ansible_host=10.0.0.9\n",
    )
    result = import_ansible(path, addresses={"cp1.lab": "10.0.0.1"}, lb_hosts=["lb1"])
    assert node_data(result) == [
        {"name": "cp1", "address": "10.0.0.1", "roles": CP, "ssh": {"host": "cp1.lab"}},
        {"name": "lb1", "address": "10.0.0.9", "roles": ["lb"]},
    ]
    with pytest.raises(InputError, match="no host 'lb9' in the inventory"):
        import_ansible(path, lb_hosts=["lb9"])


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("hosts.ini", "[webservers]\nweb1\n", "no host is in kube_control_plane, etcd or kube_node"),
        ("hosts.yaml", "all:\n  hosts:\n    a: b: c\n", "hosts.yaml:3: not a valid YAML inventory"),
        ("hosts.yaml", "- a\n- b\n", "the top level of a YAML inventory must map group names"),
        ("hosts.ini", "   \n", "the file is empty"),
    ],
)
def test_unusable_inventories_are_input_errors(tmp_path: Path, name: str, text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        import_ansible(write(tmp_path, name, text))
