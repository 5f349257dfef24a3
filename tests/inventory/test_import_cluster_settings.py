"""Cluster settings other installers keep in their inventories: a kubeasz `hosts` file, Kubespray's
group_vars; and a jump host's own key (ssh-config ProxyJump hops, the Ansible bastion)."""

from __future__ import annotations

from pathlib import Path

from khatui.inventory.ansible import import_ansible
from khatui.inventory.assemble import cluster_document
from khatui.inventory.result import ImportResult
from khatui.inventory.ssh_config import Selection, import_ssh_config
from khatui.spec.validate import validate_data

FIXTURES = Path(__file__).parent / "fixtures"
KUBEASZ = FIXTURES / "kubeasz" / "hosts"
KUBESPRAY = FIXTURES / "kubespray-sample"


def messages(result: ImportResult) -> list[str]:
    return [str(notice) for notice in result.sorted_notices()]


def test_kubeasz_hosts_file_gives_vip_proxy_mode_cidrs_dns_domain_and_member_names() -> None:
    result = import_ansible(str(KUBEASZ))
    document = cluster_document(result, "kubeasz")
    spec = document["spec"]
    assert [(n["name"], n["address"], n["roles"]) for n in spec["nodes"]] == [
        ("etcd1", "192.168.122.100", ["control-plane", "etcd"]),
        ("etcd2", "192.168.122.101", ["control-plane", "etcd"]),
        ("etcd3", "192.168.122.102", ["control-plane", "etcd"]),
        ("node-192-168-122-105", "192.168.122.105", ["worker"]),
        ("node-192-168-122-103", "192.168.122.103", ["worker"]),
        ("node-192-168-122-200", "192.168.122.200", ["lb"]),
        ("node-192-168-122-201", "192.168.122.201", ["lb"]),
    ]
    assert spec["loadBalancer"] == {"mode": "haproxy-keepalived", "vip": "192.168.122.250", "port": 8443}
    assert spec["kubeProxy"] == {"mode": "ipvs"}
    assert spec["controlPlane"] == {
        "serviceCIDR": "10.68.0.0/16",
        "podCIDR": "172.20.0.0/16",
        "dnsDomain": "cluster.local",
    }
    report = validate_data(document)
    assert report.ok, report.problems


def test_kubeasz_reports_what_it_does_not_map_at_its_line() -> None:
    found = messages(import_ansible(str(KUBEASZ)))
    assert (
        f"{KUBEASZ}:5: notice: host '192.168.122.100' is named 'etcd1' in the spec after its NODE_NAME "
        "(khatui names each etcd member after its node)"
    ) in found
    assert (
        f"{KUBEASZ}:26: notice: variable 'LB_ROLE' is not imported: keepalived on the lb nodes elects the VIP "
        "holder by itself"
    ) in found
    assert any(m.startswith(f"{KUBEASZ}:35: notice: variable 'CLUSTER_NETWORK' is not imported") for m in found)
    assert f"{KUBEASZ}:47: notice: variable 'NODE_PORT_RANGE' is not imported (khatui has no use for it)" in found
    assert not any("SERVICE_CIDR" in m or "EX_APISERVER_VIP" in m or "PROXY_MODE" in m for m in found)


def test_kubespray_group_vars_are_read_and_mapped() -> None:
    result = import_ansible(str(KUBESPRAY / "inventory.ini"))
    spec = cluster_document(result, "sample")["spec"]
    assert spec["loadBalancer"] == {"mode": "external", "address": "10.3.0.100", "port": 8443}
    assert spec["kubeProxy"] == {"mode": "ipvs"}
    assert spec["etcd"] == {"topology": "stacked", "runAs": "static-pod", "dataDir": "/var/lib/etcd"}
    assert spec["controlPlane"] == {
        "kubernetesVersion": "v1.31.4",
        "serviceCIDR": "10.233.0.0/18",
        "podCIDR": "10.233.64.0/18",
        "apiPort": 6443,
        "dnsDomain": "cluster.local",  # dns_domain: "{{ cluster_name }}" names another variable
    }
    # ansible_user and ansible_become from group_vars/all/all.yml reach the nodes (k8s_cluster is implied).
    assert spec["nodes"][0]["ssh"] == {"user": "ubuntu", "host": "95.54.0.12", "sudo": True}
    assert validate_data(cluster_document(result, "sample")).ok


def test_kubespray_group_vars_report_the_network_plugin_and_summarise_the_rest() -> None:
    found = messages(import_ansible(str(KUBESPRAY / "inventory.ini")))
    cluster_vars = KUBESPRAY / "group_vars" / "k8s_cluster" / "k8s-cluster.yml"
    assert any(
        m.startswith(f"{cluster_vars}:11: notice: variable 'kube_network_plugin' is not imported") for m in found
    )
    assert (
        f"{cluster_vars}: notice: 4 variables are not imported (khatui has no use for them): "
        "kube_config_dir, kube_script_dir, kube_network_node_prefix, dns_mode"
    ) in found


def test_a_group_var_the_spec_refuses_is_a_notice_at_its_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "all.yml").write_text(
        "kube_pods_subnet: 10.233.64.0/33\nkube_proxy_mode: userspace\netcd_deployment_type: docker\n"
    )
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("[kube_control_plane]\ncp1 ip=10.0.0.1\n[etcd]\ncp1\n")
    result = import_ansible(str(inventory))
    assert "controlPlane" not in result.settings and "kubeProxy" not in result.settings
    found = messages(result)
    where = tmp_path / "group_vars" / "all.yml"
    assert any(
        m.startswith(f"{where}:1: notice: kube_pods_subnet '10.233.64.0/33' cannot be spec.controlPlane.podCIDR")
        for m in found
    )
    assert any(
        m.startswith(f"{where}:2: notice: kube_proxy_mode 'userspace' cannot be spec.kubeProxy.mode") for m in found
    )
    assert (
        f"{where}:3: notice: etcd_deployment_type 'docker' is not imported: khatui runs etcd as a systemd unit "
        "(host) or a static pod (kubeadm)"
    ) in found


def test_vault_encrypted_and_unmatched_vars_files_are_reported(tmp_path: Path) -> None:
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "all.yml").write_text("$ANSIBLE_VAULT;1.1;AES256\n6162\n")
    (tmp_path / "group_vars" / "webservers.yml").write_text("x: 1\n")
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("[kube_control_plane]\ncp1 ip=10.0.0.1\n")
    found = messages(import_ansible(str(inventory)))
    assert (
        f"{tmp_path / 'group_vars' / 'all.yml'}: notice: encrypted with Ansible Vault; khatui cannot read it: not imported"
        in found
    )
    assert f"{tmp_path / 'group_vars' / 'webservers.yml'}: notice: names no group of the inventory; not read" in found


def test_proxyjump_hop_keeps_its_own_identity_file(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text(
        "Host bastion\n  HostName 198.51.100.7\n  User jump\n  Port 2200\n  IdentityFile ~/.ssh/bastion_key\n"
        "Host cp1\n  HostName 10.0.0.11\n  IdentityFile ~/.ssh/node_key\n  ProxyJump bastion\n"
    )
    ssh = import_ssh_config(str(config), Selection(control_plane=["cp1"])).nodes[0].ssh
    assert ssh.to_data() == {
        "identityFile": "~/.ssh/node_key",
        "jumpHost": "jump@198.51.100.7:2200",
        "jumpIdentityFile": "~/.ssh/bastion_key",
    }


def test_ansible_bastion_keeps_its_own_key(tmp_path: Path) -> None:
    inventory = tmp_path / "hosts.ini"
    inventory.write_text(
        "[kube_control_plane]\ncp1 ip=10.0.0.1 ansible_ssh_private_key_file=~/.ssh/node\n[etcd]\ncp1\n"
        "[bastion]\nbastion ansible_host=198.51.100.7 ansible_ssh_private_key_file=~/.ssh/bastion\n"
    )
    ssh = import_ansible(str(inventory)).nodes[0].ssh
    assert (ssh.identity_file, ssh.jump_host, ssh.jump_identity_file) == (
        "~/.ssh/node",
        "198.51.100.7",
        "~/.ssh/bastion",
    )
