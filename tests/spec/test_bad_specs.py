"""The corpus of bad specs (tests/spec/fixtures/bad_specs.yaml): each patch to a valid example must
produce its problem, at its field, through YAML text like `khatui validate` reads it."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from khatui.cli.main import main
from khatui.spec.problems import Severity
from khatui.spec.validate import validate_data
from khatui.spec.yamlio import dump, load_text
from tests.conftest import ROOT

BASE = ROOT / "assets" / "examples" / "stacked-haproxy-ipvs-nfs.yaml"
CORPUS: list[dict[str, Any]] = yaml.safe_load((Path(__file__).parent / "fixtures" / "bad_specs.yaml").read_text())


def patched(entry: dict[str, Any]) -> dict[str, Any]:
    """The example with the entry's changes applied."""
    data: dict[str, Any] = yaml.safe_load(BASE.read_text())
    if "members" in entry:
        lb = [node for node in data["spec"]["nodes"] if "lb" in node["roles"]]
        members = [
            {"name": f"cp{i}", "address": f"10.20.1.{i + 1}", "roles": ["control-plane", "etcd"]}
            for i in range(entry["members"])
        ]
        data["spec"]["nodes"] = members + lb
    for dotted, value in entry.get("set", {}).items():
        *parents, last = [int(part) if part.isdigit() else part for part in dotted.split(".")]
        target: Any = data
        for part in parents:
            target = target[part]
        target[last] = copy.deepcopy(value)
    return data


def test_the_corpus_is_large_and_names_are_unique() -> None:
    names = [entry["name"] for entry in CORPUS]
    assert len(names) == len(set(names)) and len(names) >= 47


def test_the_base_is_valid() -> None:
    assert validate_data(yaml.safe_load(BASE.read_text())).problems == []


@pytest.mark.parametrize("entry", CORPUS, ids=[entry["name"] for entry in CORPUS])
def test_bad_spec(entry: dict[str, Any]) -> None:
    text = dump(patched(entry))
    loaded = load_text(text, "c.yaml")
    report = validate_data(loaded.data, loaded, base_dir=os.environ["HOME"])
    shown = "\n".join(map(str, report.problems))
    found = [p for p in report.problems if p.field == entry["field"] and entry["message"] in p.message]
    assert found, f"no problem at {entry['field']} with {entry['message']!r}; got:\n{shown}"
    assert found[0].severity is Severity(entry.get("severity", "error"))
    assert found[0].line is not None
    if "absent" in entry:
        assert entry["absent"] not in shown


@pytest.mark.parametrize(
    "command",
    [
        ["validate"],
        ["certs", "generate", "--dir", "{tmp}/pki"],
        ["plan", "--offline"],
        ["render", "--out", "{tmp}/out"],
    ],
)
def test_a_validity_no_date_can_hold_is_one_line_for_every_command(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "c.yaml"
    spec.write_text(dump(patched({"set": {"spec.pki.validity": "9999999d"}})))
    args = [part.format(tmp=tmp_path) for part in command]
    assert main([*args, str(spec)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "spec.pki.validity" in err and "longer than 100 years" in err
