"""Golden plans: `khatui plan --offline --output json` of each example, pinned in tests/plan/golden/.

The plan is the contract between planning and everything after it (engine, journal, resume, views), so
its exact shape is pinned: a refactor of the planner must leave these files unchanged. After checking a
diff is intended, regenerate with

    KHATUI_UPDATE_GOLDEN=1 .venv/bin/pytest tests/plan/test_plan_golden.py

What is random by design is normalised, never the structure around it: the PKI store is created fresh
(keys, serials, so the hashes of certificates, keys and the discovery kubeconfig that embeds the CA and
the token), certificate expiry dates move with the day, and the bootstrap token's id appears in the
command that replaces an old token (its secret half is masked by the plan itself).
"""

from __future__ import annotations

import difflib
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CLI, EXAMPLES

GOLDEN = Path(__file__).parent / "golden"
RANDOM_CONTENT = ("/etc/kubernetes/pki/", "/etc/kubernetes/khatui/discovery.conf")
"""Uploads whose content comes from freshly generated keys (or the token): their sha256 is normalised."""
_PEM = re.compile(r"-----BEGIN ([A-Z ]+)-----.*?-----END \1-----", re.DOTALL)
_EXPIRY = re.compile(r"expires \d{4}-\d{2}-\d{2}")
_TOKEN_ID = re.compile(r"(kubeadm token delete )[a-z0-9]{6}\b")


def normalised(value: Any, path: str = "") -> Any:
    """`value` (a plan's JSON) with the random parts replaced by placeholders."""
    if isinstance(value, dict):
        upload_path = value.get("path", path) if value.get("type") == "upload" else path
        out = {k: normalised(v, upload_path) for k, v in value.items()}
        if value.get("type") == "upload" and upload_path.startswith(RANDOM_CONTENT):
            out["sha256"] = "<random>"
        return out
    if isinstance(value, list):
        return [normalised(v, path) for v in value]
    if isinstance(value, str):
        value = _PEM.sub(lambda m: f"<{m[1]}>", value)
        value = _EXPIRY.sub("expires <date>", value)
        return _TOKEN_ID.sub(r"\1<token-id>", value)
    return value


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_offline_plan_json_is_pinned(example: Path, cli: CLI) -> None:
    done = cli("plan", "--offline", "--output", "json", example)
    assert done.code == 0, done.err
    actual = json.dumps(normalised(json.loads(done.out)), indent=2) + "\n"
    golden = GOLDEN / f"{example.stem}.json"
    if os.environ.get("KHATUI_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(actual)
    assert golden.exists(), f"{golden} is missing; create it with KHATUI_UPDATE_GOLDEN=1"
    expected = golden.read_text()
    if actual != expected:
        diff = difflib.unified_diff(
            expected.splitlines(keepends=True), actual.splitlines(keepends=True), f"golden/{golden.name}", "planned now"
        )
        pytest.fail("the plan differs from the golden file (KHATUI_UPDATE_GOLDEN=1 to accept):\n" + "".join(diff))
