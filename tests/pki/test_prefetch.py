"""Key prefetch: RSA keys begun before the spec is validated are used first, and only when they fit."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import yaml

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


def large_spec(tmp_path: Path, algorithm: str, workers: int) -> Path:
    """The guide's large cluster, shrunk: 5 stacked control planes, 3 lb nodes, `workers` workers."""
    nodes = [f"    - {{name: cp{i}, address: 10.61.0.{10 + i}, roles: [control-plane, etcd]}}" for i in range(1, 6)]
    nodes += [f"    - {{name: lb{i}, address: 10.61.0.{20 + i}, roles: [lb]}}" for i in range(1, 4)]
    nodes += [f"    - {{name: w{i}, address: 10.61.1.{1 + i}, roles: [worker]}}" for i in range(workers)]
    path = tmp_path / "large.yaml"
    path.write_text(
        "apiVersion: khatui/v1\nkind: Cluster\nmetadata: {name: large}\nspec:\n  nodes:\n"
        + "\n".join(nodes)
        + f"\n  etcd: {{topology: stacked}}\n  pki: {{keyAlgorithm: {algorithm}}}\n"
        "  loadBalancer: {mode: haproxy-keepalived, vip: 10.61.0.100, interface: eth0}\n"
    )
    return path


@pytest.mark.parametrize("source", ["stacked", "external", "large"])
def test_prefetch_wants_the_keys_the_catalog_issues(tmp_path: Path, source: str) -> None:
    from khatui.pki.catalog import build_catalog
    from khatui.spec.validate import validate_file
    from tests.pki.conftest import EXTERNAL, STACKED, write_spec

    path = large_spec(tmp_path, "rsa-2048", 20) if source == "large" else None
    path = path or write_spec(tmp_path, STACKED if source == "stacked" else EXTERNAL)
    cluster = validate_file(str(path), check_local_files=False).cluster
    assert cluster is not None
    catalog = build_catalog(cluster)
    assert prefetch.wanted(yaml.safe_load(path.read_text())) == len(catalog.authorities) + len(catalog.leaves) + 1


def test_an_ecdsa_spec_is_recognised_without_parsing_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[object] = []
    load = yaml.load

    def counting(*args: Any, **kwargs: Any) -> Any:
        parsed.append(args)
        return load(*args, **kwargs)

    monkeypatch.setattr(yaml, "load", counting)
    assert prefetch._peek(spec(tmp_path, "  pki: {keyAlgorithm: 'ecdsa-p384'}\n"), str(tmp_path / "s")) is None
    assert parsed == []
    assert prefetch._peek(spec(tmp_path, "  pki: {keyAlgorithm: rsa-4096}\n"), str(tmp_path / "s")) == ("rsa-4096", 10)
    assert len(parsed) == 1


def test_a_large_rsa_pki_issued_with_prefetch_is_the_catalog_and_verifies(tmp_path: Path) -> None:
    """`certs generate` on 5 control planes and many workers: every key, every certificate, openssl-valid."""
    from khatui.cli.main import main
    from tests.pki.conftest import openssl

    path = large_spec(tmp_path, "rsa-2048", 40)
    store = tmp_path / "pki"
    assert main(["certs", "generate", str(path), "--dir", str(store)]) == 0
    expected = {f"ca/{ca}.{ext}" for ca in ("etcd", "kubernetes", "front-proxy") for ext in ("crt", "key")}
    expected |= {"ca/sa.key", "ca/sa.pub"}
    kinds = {"etcd": ["etcd-server", "etcd-peer", "etcd-healthcheck-client", "apiserver-etcd-client"]}
    kinds |= {"kubernetes": ["apiserver"], "front-proxy": ["front-proxy-client"]}
    for node in [f"cp{i}" for i in range(1, 6)]:
        for ca, leaves in kinds.items():
            for leaf in leaves:
                expected |= {f"nodes/{node}/{leaf}.crt", f"nodes/{node}/{leaf}.key"}
                crt = store / "nodes" / node / f"{leaf}.crt"
                assert openssl("verify", "-CAfile", store / "ca" / f"{ca}.crt", crt).returncode == 0
                key_modulus = openssl("rsa", "-noout", "-modulus", "-in", crt.with_suffix(".key")).stdout
                assert key_modulus == openssl("x509", "-noout", "-modulus", "-in", crt).stdout
    assert {str(p.relative_to(store)) for p in store.rglob("*") if p.is_file()} == expected
    assert len({p.read_bytes() for p in store.rglob("*.key")}) == 34  # no key handed out twice
