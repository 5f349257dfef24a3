"""The libyaml fast path of `load_text` reads every document exactly as PyYAML's own parser does.

Same data, same line of every path, and on any failure the reference parser's message: over every
YAML file of the test suite, over generated specs, and over generated near-YAML text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from khatui.errors import InputError
from khatui.spec import yamlio
from khatui.spec.cluster import Cluster
from khatui.spec.document import to_commented_yaml, to_yaml
from tests.spec.strategies import clusters

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
YAML_FILES = sorted(Path(__file__).resolve().parent.parent.rglob("*.yaml"))
NEAR_YAML = st.lists(
    st.sampled_from([*"ab1:- ,{}[]&*!#?|>'\"\n\r\t<.\\%@`=~\x85\u2028\ufeffé", "a: ", "<<: ", "\n  - ", "|-", "> #"]),
    max_size=40,
).map("".join)
"""Short strings of YAML's indicators, line breaks and the characters where libyaml and PyYAML diverge."""


def outcome(text: str) -> tuple[Any, dict[Any, int]] | str:
    """(data, line map) from `load_text`, or its one-line error."""
    try:
        loaded = yamlio.load_text(text, "c.yaml")
    except InputError as exc:
        return exc.message
    return loaded.data, loaded.lines


def reference(text: str) -> tuple[Any, dict[Any, int]] | str:
    """The same with PyYAML's own parser only (what `load_text` did before the fast path)."""
    try:
        data, lines = yamlio._load_reference(text, "c.yaml")
    except InputError as exc:
        return exc.message
    if not isinstance(data, dict):
        return outcome(text)  # the same top-level check follows either parser
    return data, lines


def test_the_fast_parser_is_used_for_valid_documents(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(text: str, source: str) -> None:
        raise AssertionError("the reference parser ran for a valid document")

    monkeypatch.setattr(yamlio, "_load_reference", refuse)
    assert yamlio.load_text("a: 1\nb: [x, y]\n", "c.yaml").lines[("b", 1)] == 2


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: p.name)
def test_every_yaml_file_of_the_suite(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert outcome(text) == reference(text)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clusters)
def test_generated_specs(data: dict[str, Any]) -> None:
    cluster = Cluster.model_validate(data)
    for text in (to_yaml(cluster), to_commented_yaml(cluster, "generated")):
        assert not yamlio.DIVERGENT.search(text)  # what khatui writes takes the fast path
        assert outcome(text) == reference(text)


@SETTINGS
@given(NEAR_YAML)
def test_near_yaml_text(text: str) -> None:
    assert outcome(text) == reference(text)
