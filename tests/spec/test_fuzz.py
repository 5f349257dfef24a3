"""`khatui validate` on random input: never a traceback; exit 2 with a message, or 0 for a valid spec."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from khatui.cli.main import main
from tests.spec.strategies import clusters

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20))
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=30,
)


def _mutate(data: Any, path: list[int], value: Any) -> Any:
    """Replace the value found by walking `path` (indexes into dict items / list items) with `value`."""
    if not path or not isinstance(data, (dict, list)) or not data:
        return value
    if isinstance(data, dict):
        keys = list(data)
        key = keys[path[0] % len(keys)]
        return {**data, key: _mutate(data[key], path[1:], value)}
    index = path[0] % len(data)
    return [*data[:index], _mutate(data[index], path[1:], value), *data[index + 1 :]]


def _run(tmp_path: Path, raw: bytes, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    spec = tmp_path / "fuzz.yaml"
    spec.write_bytes(raw)
    code = main(["validate", "--no-local-files", str(spec)])
    out, err = capsys.readouterr()
    return code, out, err


@SETTINGS
@given(raw=st.binary(max_size=300))
def test_random_bytes(tmp_path: Path, capsys: pytest.CaptureFixture[str], raw: bytes) -> None:
    code, out, err = _run(tmp_path, raw, capsys)
    assert code == 2
    assert err.startswith("khatui: ") or "invalid (" in err
    assert "Traceback" not in err + out


@SETTINGS
@given(doc=documents)
def test_random_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str], doc: Any) -> None:
    code, out, err = _run(tmp_path, yaml.safe_dump(doc).encode(), capsys)
    assert code == 2
    assert err.strip()
    assert "Traceback" not in err + out


@SETTINGS
@given(base=clusters, path=st.lists(st.integers(0, 50), min_size=1, max_size=6), junk=documents)
def test_mutated_specs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], base: Any, path: list[int], junk: Any
) -> None:
    """A well-shaped spec with one value replaced by junk: a message either way, never a crash."""
    code, out, err = _run(tmp_path, yaml.safe_dump(_mutate(base, path, junk)).encode(), capsys)
    assert code in (0, 2)
    assert "Traceback" not in err + out
    assert (out if code == 0 else err).strip()


def test_fuzz_cases_in_a_real_process(tmp_path: Path) -> None:
    """The same through the console entry point, so nothing is swallowed by the in-process runner."""
    for index, raw in enumerate([b"\x00\x01\x02", b"[[[[", b"spec: {nodes: 7}", b"a: !!binary AAAA"]):
        spec = tmp_path / f"{index}.yaml"
        spec.write_bytes(raw)
        result = subprocess.run([sys.executable, "-m", "khatui", "validate", str(spec)], capture_output=True, text=True)
        assert result.returncode == 2, result
        assert "Traceback" not in result.stderr and result.stderr.strip()
