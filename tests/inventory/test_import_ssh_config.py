"""OpenSSH client configs -> nodes, with ssh's own first-match-wins resolution."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from khatui.errors import InputError
from khatui.inventory.assemble import cluster_document
from khatui.inventory.result import ImportResult
from khatui.inventory.ssh_config import Selection, import_ssh_config
from khatui.inventory.ssh_config_parse import matches, split_line
from khatui.spec.validate import validate_data

FIXTURES = Path(__file__).parent / "fixtures"
LAB = str(FIXTURES / "lab_ssh_config")
JUMP = "jump@198.51.100.7:2200"
LAB_ROLES = Selection(control_plane=["cp1", "cp2", "cp3"], worker=["w1", "w2", "nfs1"], addresses={"w2": "10.0.1.22"})


@pytest.fixture(autouse=True)
def fixture_home(monkeypatch: pytest.MonkeyPatch) -> None:
    """Relative Include paths are taken from ~/.ssh: point ~ at the fixtures' home."""
    monkeypatch.setenv("HOME", str(FIXTURES / "home"))


def node_data(result: ImportResult) -> list[dict[str, Any]]:
    return [node.to_data() for node in result.nodes]


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "config"
    path.write_text(text)
    return str(path)


def test_lab_config_nodes_follow_first_match_wins() -> None:
    result = import_ssh_config(LAB, LAB_ROLES)
    admin = {"user": "admin", "port": 22, "jumpHost": JUMP, "sudo": True}
    cp = ["control-plane", "etcd"]
    assert node_data(result) == [
        # From the Included conf.d/storage.conf (lowercase keywords).
        {
            "name": "nfs1",
            "address": "10.0.2.5",
            "roles": ["worker"],
            "ssh": {**admin, "identityFile": "~/.ssh/storage_key"},
        },
        # The first IdentityFile wins; %d is the home folder. `Match host cp*` never applies (User nobody).
        {"name": "cp1", "address": "10.0.0.11", "roles": cp, "ssh": {**admin, "identityFile": "~/.ssh/lab_ed25519"}},
        # `User = root` comes before `Host * !bastion`'s `User admin`; root needs no sudo.
        {"name": "cp2", "address": "10.0.0.12", "roles": cp, "ssh": {"user": "root", "port": 22, "jumpHost": JUMP}},
        {"name": "cp3", "address": "10.0.0.13", "roles": cp, "ssh": admin},
        {"name": "w1", "address": "10.0.1.21", "roles": ["worker"], "ssh": admin},
        {"name": "w2", "address": "10.0.1.22", "roles": ["worker"], "ssh": {**admin, "host": "w2.lab.example"}},
    ]


def test_lab_config_notices() -> None:
    result = import_ssh_config(LAB, LAB_ROLES)
    storage = FIXTURES / "home" / ".ssh" / "conf.d" / "storage.conf"
    assert [(n.line, n.message) for n in result.sorted_notices()] == [
        (2, f"Include conf.d/*.conf: read {storage}"),
        (
            12,
            "IdentityFile ~/.ssh/id_rsa is not imported: a node has one identity file, the first that applies "
            "(~/.ssh/lab_ed25519); ssh-agent can offer the others",
        ),
        (
            26,
            "Host patterns 10.0.1.*, web-?, !bastion: a wildcard is not a host, so no node is imported for it "
            "(its options still apply to the hosts it matches)",
        ),
        (
            29,
            "Match is not supported: the options up to the next Host or Match line are not imported",
        ),
        (
            34,
            "Host pattern !bastion: a wildcard is not a host, so no node is imported for it "
            "(its options still apply to the hosts it matches)",
        ),
        (37, "option ForwardAgent is not imported (a khatui node has no such setting)"),
        (40, "option IdentitiesOnly is not imported (a khatui node has no such setting)"),
    ]
    assert {n.file for n in result.notices} == {LAB}


def test_lab_spec_is_valid() -> None:
    report = validate_data(cluster_document(import_ssh_config(LAB, LAB_ROLES), "lab"))
    assert report.ok, report.problems


def test_dns_hostname_without_address_is_reported_and_fails_validation() -> None:
    result = import_ssh_config(LAB, Selection(control_plane=["cp1"], worker=["w2"]))
    assert (
        24,
        "host 'w2': 'w2.lab.example' is not an IP address; a node address must be an IP and khatui resolves "
        "nothing over the network: pass --address w2=IP",
    ) in [(n.line, n.message) for n in result.notices]
    report = validate_data(cluster_document(result, "lab"))
    assert [(p.field, p.message) for p in report.problems] == [
        ("spec.nodes[1].address", "'w2.lab.example' is not a valid IPv4 or IPv6 address")
    ]


def test_hosts_without_a_role_are_workers_and_control_planes_are_etcd_by_default() -> None:
    result = import_ssh_config(LAB, Selection(hosts=["w*", "cp1"], control_plane=["cp1"], lb=["cp3"]))
    roles = {node.name: [str(r) for r in node.roles] for node in result.nodes}
    assert roles == {"cp1": ["control-plane", "etcd"], "cp3": ["lb"], "w1": ["worker"], "w2": ["worker"]}


def test_separate_etcd_hosts_give_external_topology() -> None:
    selection = Selection(control_plane=["cp1"], etcd=["cp2", "cp3", "w1"], addresses={"w2": "10.0.1.22"})
    document = cluster_document(import_ssh_config(LAB, selection), "lab")
    assert document["spec"]["etcd"] == {"topology": "external"}
    assert [n["roles"] for n in document["spec"]["nodes"]] == [["control-plane"], ["etcd"], ["etcd"], ["etcd"]]


@pytest.mark.parametrize(
    ("selection", "message"),
    [
        (Selection(), "choose the cluster's hosts with --hosts"),
        (Selection(control_plane=["cp9"]), "no Host 'cp9' in the file"),
        (Selection(hosts=["db-*"]), "no pattern 'db-\\*' in the file"),
        (Selection(hosts=["cp1"], addresses={"nope": "10.0.0.1"}), "no Host 'nope'"),
    ],
)
def test_bad_selections_are_input_errors(selection: Selection, message: str) -> None:
    with pytest.raises(InputError, match=message):
        import_ssh_config(LAB, selection)


def test_host_star_first_overrides_later_blocks_and_proxyjump_hops_resolve(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
Host *
  User first
Host edge
  HostName 192.0.2.1
  User edgeuser
Host n1
  User ignored
  HostName 10.1.0.%h
  ProxyJump edge,ops@[2001:db8::1]:2022
Host n2
  HostName 10.1.0.2
  ProxyJump none
  ProxyCommand ssh -W %h:%p edge
""",
    )
    result = import_ssh_config(path, Selection(hosts=["n1", "n2"]))
    assert node_data(result) == [
        # HostName's %h is the alias: 10.1.0.n1 is not an IP, reported below.
        {
            "name": "n1",
            "address": "10.1.0.n1",
            "roles": ["worker"],
            "ssh": {"user": "first", "jumpHost": "first@192.0.2.1,ops@[2001:db8::1]:2022", "sudo": True},
        },
        {"name": "n2", "address": "10.1.0.2", "roles": ["worker"], "ssh": {"user": "first", "sudo": True}},
    ]
    assert [(n.line, n.message) for n in result.sorted_notices()][-1] == (
        13,
        "ProxyCommand is not imported; a bastion belongs in ssh.jumpHost (ProxyJump syntax)",
    )


def test_only_wildcards_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no Host entry names a concrete host"):
        import_ssh_config(write(tmp_path, "Host *\n  User me\n"), Selection(hosts=["*"]))


def test_missing_include_and_unreadable_lines_are_notices(tmp_path: Path) -> None:
    path = write(tmp_path, 'Include /nonexistent/*.conf\nHost a\n  HostName "10.0.0.1\n  HostName 10.0.0.2\n')
    result = import_ssh_config(path, Selection(hosts=["a"]))
    assert [(n.line, n.message) for n in result.sorted_notices()] == [
        (1, "Include /nonexistent/*.conf: no file matches /nonexistent/*.conf"),
        (3, "line cannot be read (unbalanced quote); skipped"),
        (
            None,
            "no User for a: the spec uses khatui's default user 'root' (ssh would log in as your local user); "
            "set ssh.user if that is not right",
        ),
    ]
    assert node_data(result) == [{"name": "a", "address": "10.0.0.2", "roles": ["worker"]}]


@pytest.mark.parametrize(
    ("line", "parsed"),
    [
        ("HostName 10.0.0.1", ("HostName", ["10.0.0.1"])),
        ("  hostname=10.0.0.1", ("hostname", ["10.0.0.1"])),
        ("Port = 2222", ("Port", ["2222"])),
        ('IdentityFile "~/.ssh/my key"  # comment', ("IdentityFile", ["~/.ssh/my key"])),
        ("IdentityFile ~/.ssh/id#1", ("IdentityFile", ["~/.ssh/id#1"])),
        ("Host a b\tc", ("Host", ["a", "b", "c"])),
        ("# a comment", None),
        ("   ", None),
    ],
)
def test_config_lines_split_like_ssh(line: str, parsed: tuple[str, list[str]] | None) -> None:
    assert split_line(line) == parsed


@pytest.mark.parametrize(
    ("alias", "patterns", "expected"),
    [
        ("web-1", ("web-?",), True),
        ("web-10", ("web-?",), False),
        ("bastion", ("*", "!bastion"), False),
        ("CP1", ("cp*",), True),
        ("n[1]", ("n[1]",), True),
    ],
)
def test_patterns_match_like_ssh(alias: str, patterns: tuple[str, ...], expected: bool) -> None:
    assert matches(alias, patterns) is expected
