"""Golden files: the complete render of each example spec, one readable text file per example in
tests/render/golden/. A change in output fails with a unified diff; after checking the diff is
intended, regenerate with

    KHATUI_UPDATE_GOLDEN=1 .venv/bin/pytest tests/render/test_golden.py

The spec digest in headers is replaced by a placeholder: it changes whenever the spec *model* gains
a field, which says nothing about the rendered files (test_header checks the digest itself).
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path

import pytest

from khatui.render import render_cluster
from khatui.spec.validate import validate_file
from tests.conftest import EXAMPLES

GOLDEN = Path(__file__).parent / "golden"
_DIGEST = re.compile(r"(# Written by khatui from spec [a-z0-9-]+ sha256:)[0-9a-f]{12};")
_PLACEHOLDER = r"\1<spec>;"


def render_text(example: Path) -> str:
    """Every file of the example, each under a line naming node, path, mode, owner, kind and stage."""
    report = validate_file(str(example), check_local_files=False)
    assert report.ok and report.cluster is not None, report.problems
    parts = []
    for file in render_cluster(report.cluster):
        title = f"==> {file.node}:{file.path} ({file.mode:04o} {file.owner}, {file.kind}, {file.stage}) <=="
        parts.append(f"{title}\n{_DIGEST.sub(_PLACEHOLDER, file.text)}")
    return "\n".join(parts)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_golden(example: Path) -> None:
    golden = GOLDEN / f"{example.stem}.txt"
    actual = render_text(example)
    if os.environ.get("KHATUI_UPDATE_GOLDEN") == "1":
        golden.write_text(actual)
    assert golden.exists(), f"{golden} is missing; create it with KHATUI_UPDATE_GOLDEN=1"
    expected = golden.read_text()
    if actual != expected:
        diff = difflib.unified_diff(
            expected.splitlines(keepends=True),
            actual.splitlines(keepends=True),
            fromfile=f"golden/{golden.name}",
            tofile="rendered now",
        )
        pytest.fail(
            "rendered files differ from the golden file (KHATUI_UPDATE_GOLDEN=1 to accept):\n" + "".join(diff),
            pytrace=False,
        )
