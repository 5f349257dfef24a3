"""The rules table (lab/khatui_lab/rules/*.yaml): complete entries with unique ids, each naming a test
that exists, and README.md's copy of the table up to date. Pure: no lab is booted."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from khatui_lab.rules import REGENERATE, Rule, RulesError, load, load_file, with_table
from tests.conftest import ROOT

RULES = load()


def test_there_are_rules() -> None:
    assert RULES and all(isinstance(rule, Rule) for rule in RULES)


def _functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        found |= {f"{cls.name}::{n.name}" for n in cls.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    return found


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_every_rule_names_an_existing_test(rule: Rule) -> None:
    path, sep, function = rule.test.partition("::")
    assert sep and (ROOT / path).is_file(), f"{rule.file}: {rule.id}: no test file {path}"
    assert function.split("[")[0] in _functions(ROOT / path), f"{rule.file}: {rule.id}: no test {rule.test}"
    assert function.startswith("test_") or "::test_" in function


def test_readme_table_is_up_to_date() -> None:
    readme = (ROOT / "README.md").read_text()
    assert with_table(readme, RULES) == readme, f"README.md's rules table is stale: run {REGENERATE}"


ENTRY = "- {id: a.b, rule: r, check: C, source: s, test: tests/x.py::test_y}\n"
BAD = {
    "not a list": ("id: a.b\n", "expected a list of rules"),
    "not a mapping": ("- just text\n", "entry 1: expected a mapping"),
    "no source": ("- {id: a.b, rule: r, check: C, test: t}\n", "entry 1 (a.b): missing or not text: source"),
    "empty rule": ("- {id: a.b, rule: '', check: '', source: s, test: t}\n", "entry 1 (a.b): empty ['rule']"),
    "unknown field": (ENTRY.replace("}", ", why: x}"), "unknown ['why']"),
    "check not text": ("- {id: a.b, rule: r, check: 3, source: s, test: t}\n", "missing or not text: check"),
}


@pytest.mark.parametrize("name", list(BAD))
def test_bad_rules_files_are_refused_naming_file_and_entry(name: str, tmp_path: Path) -> None:
    text, message = BAD[name]
    (tmp_path / "kubeadm.yaml").write_text(text)
    with pytest.raises(RulesError) as caught:
        load_file(tmp_path / "kubeadm.yaml")
    assert str(caught.value).startswith("kubeadm.yaml: ") and message in str(caught.value)


def test_an_id_used_twice_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(ENTRY)
    (tmp_path / "b.yaml").write_text(ENTRY)
    with pytest.raises(RulesError, match="b.yaml: id 'a.b' is used twice"):
        load(tmp_path)


def test_an_empty_check_is_allowed(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(ENTRY.replace("check: C", "check: ''"))
    assert load(tmp_path)[0].check == ""


def test_the_table_escapes_pipes_and_needs_the_markers() -> None:
    rule = Rule("a", "x | y", "", "s", "tests/t.py::test_t")
    assert "x \\| y" in with_table("a\n<!-- rules:begin -->\nold\n<!-- rules:end -->\nb\n", [rule])
    with pytest.raises(RulesError, match="no <!-- rules:begin -->"):
        with_table("no markers", [rule])
