"""`khatui import ...` end to end through `khatui.cli.main.main`: output, notices, exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from khatui.cli.main import main
from khatui.spec.validate import validate_file

FIXTURES = Path(__file__).parent / "fixtures"
INI = str(FIXTURES / "kubespray.ini")


def test_ansible_import_writes_a_valid_spec(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cluster.yaml"
    assert main(["import", "ansible", INI, "-o", str(out), "--name", "prod-eu"]) == 0
    data = yaml.safe_load(out.read_text())
    assert data["metadata"] == {"name": "prod-eu"}
    assert [n["name"] for n in data["spec"]["nodes"]] == [
        "master1",
        "master2",
        "master3",
        "worker1",
        "worker2",
        "worker3",
    ]
    assert out.read_text().startswith(f"# Imported from {INI} by `khatui import ansible`")
    assert validate_file(str(out), check_local_files=False).ok
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"wrote {out}"
    assert (
        f"{INI}:31: notice: group 'calico_rr' means nothing to khatui: ignored (its hosts get no role from it)" in err
    )
    assert err[-1] == f"{INI}: imported 6 nodes with 4 notices; the spec is valid (0 errors, 0 warnings)"


def test_spec_goes_to_stdout_and_notices_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", "ansible", str(FIXTURES / "hosts.yaml")]) == 0
    captured = capsys.readouterr()
    data = yaml.safe_load(captured.out)
    assert data["metadata"]["name"] == "fixtures"  # hosts.yaml says nothing: the folder names the cluster
    assert data["spec"]["loadBalancer"] == {"mode": "local-proxy"}
    assert "notice" not in captured.out
    assert f"{FIXTURES / 'hosts.yaml'}:7: notice: variable 'etcd_member_name'" in captured.err


def test_spec_with_errors_is_written_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "lab.yaml"
    assert main(["import", "ansible", str(FIXTURES / "unsupported.ini"), "-o", str(out)]) == 2
    assert yaml.safe_load(out.read_text())["spec"]["nodes"][0]["address"] == "cp1.lab.example"
    err = capsys.readouterr().err
    assert f"{out}:9: error: spec.nodes[0].address: 'cp1.lab.example' is not a valid IPv4 or IPv6 address" in err
    assert err.splitlines()[-1].endswith(f"the spec needs fixing in {out} (4 errors, 0 warnings)")


def test_vip_without_lb_nodes_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", "ansible", INI, "--vip", "10.10.0.100"]) == 2
    err = capsys.readouterr().err
    assert "spec.loadBalancer.mode: mode 'haproxy-keepalived' runs on nodes with the lb role, and no node has it" in err


def test_ssh_config_import_with_lb_and_vip(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HOME", str(FIXTURES / "home"))
    argv = [
        "import",
        "ssh-config",
        str(FIXTURES / "lab_ssh_config"),
        "--control-plane",
        "cp1,cp2",
        "--control-plane",
        "cp3",
        "--lb",
        "w1,w2",
        "--address",
        "w2=10.0.1.22",
        "--vip",
        "10.0.1.100",
        "--name",
        "lab",
    ]
    assert main(argv) == 0
    data = yaml.safe_load(capsys.readouterr().out)
    assert data["spec"]["loadBalancer"] == {"mode": "haproxy-keepalived", "vip": "10.0.1.100"}
    assert [(n["name"], n["roles"]) for n in data["spec"]["nodes"]] == [
        ("cp1", ["control-plane", "etcd"]),
        ("cp2", ["control-plane", "etcd"]),
        ("cp3", ["control-plane", "etcd"]),
        ("w1", ["lb"]),
        ("w2", ["lb"]),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x7fELF\x02\x01\x01\x00\x00\x00garbage", "this is a binary file, not an Ansible inventory"),
        (b"[kube_node]\nw1 ip=10.0.0.\xff\n", ":2: not UTF-8 text; expected an Ansible inventory"),
        (b"", "the file is empty"),
    ],
)
def test_garbage_input_is_a_clean_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, message: str
) -> None:
    path = tmp_path / "inventory.ini"
    path.write_bytes(content)
    assert main(["import", "ansible", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"khatui: {path}")
    assert message in captured.err
    assert "Traceback" not in captured.err
    assert captured.out == ""


@pytest.mark.parametrize("source", ["ansible", "ssh-config"])
def test_missing_file_and_directory_are_clean_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], source: str
) -> None:
    missing = tmp_path / "missing"
    assert main(["import", source, str(missing)]) == 2
    what = {"ansible": "Ansible inventory", "ssh-config": "SSH config"}[source]
    assert capsys.readouterr().err == f"khatui: {missing}: cannot read the {what}: No such file or directory\n"
    assert main(["import", source, str(tmp_path)]) == 2
    assert "Is a directory, not a regular file" in capsys.readouterr().err


def test_existing_output_is_not_overwritten_without_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cluster.yaml"
    out.write_text("keep me\n")
    assert main(["import", "ansible", INI, "-o", str(out)]) == 2
    assert out.read_text() == "keep me\n"
    assert capsys.readouterr().err == f"khatui: {out} exists; pass --force to overwrite it\n"
    assert main(["import", "ansible", INI, "-o", str(out), "--force"]) == 0
    assert out.read_text().startswith("# Imported from")


@pytest.mark.parametrize("source", ["ansible", "ssh-config"])
def test_each_source_has_help_with_an_example(capsys: pytest.CaptureFixture[str], source: str) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["import", source, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert f"usage: khatui import {source}" in out
    assert f"example:\n  khatui import {source} " in out


@pytest.mark.parametrize(
    "argv",
    [
        ["import"],
        ["import", "ansible", INI, "--vip", "not-an-ip"],
        ["import", "ansible", INI, "--address", "master1"],
        ["import", "ansible", INI, "--lb", ","],
    ],
)
def test_bad_flags_are_usage_errors(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "Traceback" not in capsys.readouterr().err
