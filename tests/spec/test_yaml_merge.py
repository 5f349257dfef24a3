"""YAML merge keys (`<<: *anchor`) in specs: merged like PyYAML, reported at the right lines, and no
way around the duplicate-key and alias-bomb protections; and the fast dump writes the same text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings

from khatui.cli.main import main
from khatui.errors import InputError
from khatui.spec.cluster import Cluster
from khatui.spec.document import to_data
from khatui.spec.validate import validate_data
from khatui.spec.yamlio import dump, load_text
from tests.spec.strategies import clusters

MERGED = """\
apiVersion: khatui/v1
kind: Cluster
metadata:
  name: merged
x-defaults: &node
  roles: [control-plane, etcd]
  ssh: {user: ops, sudo: true}
spec:
  nodes:
    - <<: *node
      name: cp1
      address: 10.0.0.11
    - <<: *node
      name: cp2
      address: 10.0.0.12
      ssh: {user: admin, sudo: true}
    - <<: [*node]
      name: cp3
      address: 10.0.0.13
  loadBalancer: {mode: local-proxy}
"""


def _without_defaults(text: str) -> dict[str, Any]:
    data: dict[str, Any] = load_text(text, "m.yaml").data
    data.pop("x-defaults")
    return data


def test_merged_nodes_get_the_anchored_values_and_their_own_keys_win() -> None:
    cluster = Cluster.model_validate(_without_defaults(MERGED))
    assert [(n.name, [str(r) for r in n.roles], n.ssh.user) for n in cluster.spec.nodes] == [
        ("cp1", ["control-plane", "etcd"], "ops"),
        ("cp2", ["control-plane", "etcd"], "admin"),
        ("cp3", ["control-plane", "etcd"], "ops"),
    ]


def test_a_merged_value_is_reported_where_it_is_written() -> None:
    text = MERGED.replace("roles: [control-plane, etcd]", "roles: [control-plane, etcd, master]")
    loaded = load_text(text, "m.yaml")
    loaded.data.pop("x-defaults")
    problems = validate_data(loaded.data, loaded).problems
    assert {(p.field, p.line) for p in problems} == {(f"spec.nodes[{i}].roles[2]", 6) for i in range(3)}


def test_a_spec_with_merge_keys_is_valid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "m.yaml"
    spec.write_text(
        "apiVersion: khatui/v1\nkind: Cluster\nmetadata: {name: m}\nspec:\n  nodes:\n"
        "    - &cp {name: cp1, address: 10.0.0.11, roles: [control-plane, etcd]}\n"
        "    - {<<: *cp, name: cp2, address: 10.0.0.12}\n"
        "    - {<<: *cp, name: cp3, address: 10.0.0.13}\n"
        "  loadBalancer: {mode: local-proxy}\n"
    )
    assert main(["validate", str(spec)]) == 0
    assert capsys.readouterr().out.strip() == f"{spec}: valid (0 errors, 0 warnings)"


def test_explicit_duplicates_are_still_refused_next_to_a_merge() -> None:
    with pytest.raises(InputError, match=r"m.yaml:12: duplicate key 'name' \(first given on line 11\)"):
        load_text(MERGED.replace("      name: cp1\n", "      name: cp1\n      name: cp9\n"), "m.yaml")


def test_merging_something_that_is_not_a_mapping_is_one_line() -> None:
    with pytest.raises(InputError, match="m.yaml:10: not valid YAML: while constructing a mapping, expected a mapping"):
        load_text(MERGED.replace("- <<: *node\n      name: cp1", "- <<: 5\n      name: cp1"), "m.yaml")


def test_an_alias_bomb_through_merge_keys_is_refused() -> None:
    lines = ["a0: &a0 {k0: x, k1: x, k2: x, k3: x, k4: x, k5: x, k6: x, k7: x, k8: x, k9: x}"]
    for level in range(1, 9):
        refs = ", ".join(f"m{i}: {{<<: *a{level - 1}}}" for i in range(10))
        lines.append(f"a{level}: &a{level} {{{refs}}}")
    with pytest.raises(InputError, match="expands to more than 200000 values"):
        load_text("\n".join(lines) + "\n", "bomb.yaml")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clusters)
def test_dump_writes_what_the_pure_python_dumper_writes(data: dict[str, Any]) -> None:
    plain = to_data(Cluster.model_validate(data))
    expected = yaml.safe_dump(plain, sort_keys=False, default_flow_style=False, allow_unicode=True, width=100)
    assert dump(plain) == expected
