"""Spec -> YAML -> spec is lossless, for plain and commented YAML, over generated specs."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings

from khatui.spec.cluster import Cluster
from khatui.spec.document import to_commented_yaml, to_data, to_yaml
from khatui.spec.yamlio import load_text
from tests.spec.strategies import clusters

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(clusters)
def test_yaml_roundtrip(data: dict[str, Any]) -> None:
    cluster = Cluster.model_validate(data)
    text = to_yaml(cluster)
    again = Cluster.model_validate(load_text(text, "c.yaml").data)
    assert again == cluster
    assert to_yaml(again) == text


@SETTINGS
@given(clusters)
def test_commented_yaml_roundtrip(data: dict[str, Any]) -> None:
    cluster = Cluster.model_validate(data)
    text = to_commented_yaml(cluster, "a header\nof two lines")
    assert text.startswith("# a header\n# of two lines\n")
    assert Cluster.model_validate(load_text(text, "c.yaml").data) == cluster


@SETTINGS
@given(clusters)
def test_dump_keeps_what_was_written(data: dict[str, Any]) -> None:
    """Every value the operator wrote survives in the dump (defaults are added, nothing is lost)."""
    dumped = to_data(Cluster.model_validate(data))

    def contains(small: Any, big: Any) -> bool:
        if isinstance(small, dict):
            return all(contains(value, big.get(key)) for key, value in small.items())
        if isinstance(small, list):
            return len(small) == len(big) and all(contains(a, b) for a, b in zip(small, big, strict=True))
        return str(small) == str(big) or small == big

    assert contains(data, dumped)
