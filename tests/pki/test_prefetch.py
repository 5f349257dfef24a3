"""Key prefetch: RSA keys begun before the spec is validated are used first, and only when they fit."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from khatui.pki import prefetch
from khatui.pki.ca_names import CAName
from khatui.pki.keys import generate_keys, public_key_der

SPEC = """apiVersion: khatui/v1
kind: Cluster
metadata: {{name: pf}}
spec:
  nodes: [{{name: n1, address: 10.0.0.1, roles: [control-plane, etcd]}}]
{pki}"""


@pytest.fixture(autouse=True)
def no_leftover() -> None:
    prefetch.take("rsa-2048", 0)


def spec(tmp_path: Path, pki: str = "") -> str:
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC.format(pki=pki))
    return str(path)


def test_rsa_spec_with_an_empty_store_prefetches_keys_that_generate_keys_uses(tmp_path: Path) -> None:
    prefetch.start(spec(tmp_path, "  pki: {keyAlgorithm: rsa-3072}\n"), str(tmp_path / "store"))
    running = prefetch._running
    assert running is not None and running.algorithm == "rsa-3072"
    while not running._keys:  # the spec would be loading now
        time.sleep(0.01)
    early = public_key_der(running._keys[0])
    keys = generate_keys("rsa-3072", 3, workers=2)
    assert len(keys) == 3 and {k.key_size for k in keys} == {3072}
    assert len({public_key_der(k) for k in keys}) == 3 and public_key_der(keys[0]) == early
    assert prefetch._running is None and prefetch.take("rsa-3072", 5) == []  # each key is handed out once


def test_default_algorithm_is_rsa_2048(tmp_path: Path) -> None:
    prefetch.start(spec(tmp_path), str(tmp_path / "store"))
    keys = prefetch.take("rsa-2048", 1)
    assert len(keys) == 1 and keys[0].key_size == 2048


@pytest.mark.parametrize(
    "case",
    ["ecdsa", "store has files", "not yaml", "not a mapping", "missing file", "other algorithm taken"],
)
def test_no_prefetch_where_it_could_not_be_used(tmp_path: Path, case: str) -> None:
    store = tmp_path / "store"
    path = spec(tmp_path)
    if case == "ecdsa":
        path = spec(tmp_path, "  pki: {keyAlgorithm: ecdsa-p256}\n")
    elif case == "store has files":
        store.mkdir()
        (store / "ca").mkdir()
    elif case == "not yaml":
        Path(path).write_text("spec: [unclosed\n")
    elif case == "not a mapping":
        Path(path).write_text("- just\n- a list\n")
    elif case == "missing file":
        path = str(tmp_path / "nope.yaml")
    prefetch.start(path, str(store))
    if case == "other algorithm taken":
        assert prefetch.take("rsa-4096", 4) == []
        assert prefetch._running is None
    else:
        assert prefetch._running is None


def test_certs_parser_names_every_ca() -> None:
    from khatui.cli.main import build_parser

    parser = build_parser("certs")
    with pytest.raises(SystemExit):
        parser.parse_args(["certs", "plan-ca-rotation", "spec.yaml", "--ca", "nope"])
    for ca in CAName:
        args = parser.parse_args(["certs", "plan-ca-rotation", "spec.yaml", "--ca", ca.value])
        assert args.ca == ca.value


def test_prefetch_starts_before_any_spec_model_is_loaded() -> None:
    """The point of prefetching: it must not itself pay for pydantic and the spec models."""
    import subprocess
    import sys

    code = "import sys, khatui.pki.prefetch; print(sorted(m for m in ('pydantic', 'khatui.spec.cluster') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
