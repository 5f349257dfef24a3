"""The spec commands as an operator uses them: init, validate, schema, --help everywhere."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from khatui.cli.main import build_parser, command_table, main
from khatui.spec.cluster import Cluster
from tests.conftest import EXAMPLES


def test_init_then_validate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "c.yaml"
    assert main(["init", "-o", str(spec)]) == 0
    assert main(["validate", str(spec)]) == 0
    assert capsys.readouterr().out.strip() == f"{spec}: valid (0 errors, 0 warnings)"


def test_init_documents_every_field(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init"]) == 0
    text = capsys.readouterr().out
    for key in (
        "apiVersion",
        "identityFile",
        "jumpHost",
        "sudoPasswordEnv",
        "leaderElect",
        "virtualRouterId",
        "cacheSize",
        "maxConcurrent",
        "nodeLocalDNS",
        "keyAlgorithm",
        "validity",
        "extraSANs",
    ):
        line = next(i for i, line in enumerate(text.splitlines()) if line.strip().lstrip("# ").startswith(f"{key}:"))
        assert text.splitlines()[line - 1].strip().startswith("#"), f"{key} has no comment above it"


def test_init_refuses_to_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "c.yaml"
    spec.write_text("mine\n")
    assert main(["init", "-o", str(spec)]) == 2
    assert "exists; pass --force" in capsys.readouterr().err
    assert spec.read_text() == "mine\n"
    assert main(["init", "-o", str(spec), "--force"]) == 0
    assert spec.read_text().startswith("# khatui cluster spec")


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_examples_validate(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--strict", str(example)]) == 0
    assert "valid (0 errors, 0 warnings)" in capsys.readouterr().out


def test_there_are_three_examples() -> None:
    assert {p.name for p in EXAMPLES} >= {
        "stacked-haproxy-ipvs-nfs.yaml",
        "external-etcd-cloudlb-ceph.yaml",
        "single-node-lab.yaml",
    }


def test_validate_reports_errors_with_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "c.yaml"
    text = EXAMPLES[0].read_text().replace("address: 10.30.0.12", "address: 10.30.0.11")
    spec.write_text(text)
    assert main(["validate", str(spec)]) == 2
    err = capsys.readouterr().err
    line = [i for i, x in enumerate(text.splitlines(), 1) if x == "      address: 10.30.0.11"][1]
    assert f"{spec}:{line}: error: spec.nodes[1].address: duplicate address 10.30.0.11 (also spec.nodes[0])" in err
    assert err.strip().endswith("invalid (1 error, 0 warnings)")


def test_validate_json_and_strict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "c.yaml"
    data = yaml.safe_load(EXAMPLES[0].read_text())
    data["spec"]["persistence"]["classes"][0]["default"] = False
    spec.write_text(yaml.safe_dump(data))
    assert main(["validate", str(spec), "--output", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is True
    assert report["problems"][0]["severity"] == "warning"
    assert report["problems"][0]["field"] == "spec.persistence.classes"
    assert isinstance(report["problems"][0]["line"], int)
    assert main(["validate", "--strict", str(spec)]) == 2


def test_schema_accepts_examples_and_rejects_junk(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "khatui Cluster spec"
    validator = jsonschema.Draft202012Validator(schema)
    for example in EXAMPLES:
        validator.validate(yaml.safe_load(example.read_text()))
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(
            {"apiVersion": "khatui/v1", "kind": "Cluster", "metadata": {"name": "x"}, "spec": {"nodes": "x"}}
        )
    assert schema == {
        **Cluster.model_json_schema(by_alias=True),
        "$schema": schema["$schema"],
        "title": schema["title"],
    }


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    commands: Any = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert {"init", "validate", "schema"} <= set(commands)
    for name in commands:
        with pytest.raises(SystemExit) as exit_info:
            main([name, "--help"])
        assert exit_info.value.code == 0
        assert "usage: khatui " + name in capsys.readouterr().out


def listing(parser: argparse.ArgumentParser) -> list[tuple[str, str | None]]:
    """The commands `parser` lists in its help, with their one-line help."""
    commands: Any = parser._subparsers._group_actions[0]  # type: ignore[union-attr]
    return [(action.dest, action.help) for action in commands._choices_actions]


def test_the_command_list_is_the_modules_own() -> None:
    expected = [(name, summary) for name, (_, summary) in command_table().items()]
    assert listing(build_parser()) == expected  # what the modules register
    assert listing(build_parser("")) == expected  # what `khatui --help` lists without them
    assert listing(build_parser("apply")) == expected


def test_help_imports_no_command_module() -> None:
    code = (
        "import sys\nfrom khatui.cli.main import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith(('khatui.cli.', 'khatui.spec', 'pydantic', 'textual'))))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "['khatui.cli.main']"


def test_bare_khatui_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    assert "commands:" in capsys.readouterr().out


def test_unknown_command_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["frobnicate"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'frobnicate'" in capsys.readouterr().err
