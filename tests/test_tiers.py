"""Test tiers: every lab, sshd and e2e test gets its marker, and a tier this machine cannot run is
deselected with one line saying why (an error under CI instead).

Each case collects real test modules in a pytest subprocess whose tiers.MISSING is replaced by a
small plugin, so the outcome does not depend on whether this machine has root."""

from __future__ import annotations

import os

import pytest

from tests import tiers
from tests.conftest import ROOT

CANNOT: dict[str, str | None] = {"lab": "no lab here", "e2e": "no lab for e2e here", "sshd": "no sshd here"}
MODULES = [
    "lab/test_lab.py",  # 8 tests asking for the lab fixture
    "lab/test_layout.py",  # pure
    "e2e/test_external_static_pods.py",  # 3
    "engine/test_host_keys.py",  # 4 asking for a farm
    "engine/test_known_hosts_parsing.py",  # pure
]


def collect(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, missing: dict[str, str | None], ci: bool = False
) -> pytest.RunResult:
    """`pytest --collect-only -q MODULES` with each tier's `missing` reason (None: it can run)."""
    pytester.makepyfile(
        fake_tiers=f"from tests import tiers\nfor t, why in {missing!r}.items():\n    tiers.MISSING[t] = lambda why=why: why\n"
    )
    if ci:
        monkeypatch.setenv("CI", "true")
    else:
        monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(pytester.path), str(ROOT), os.environ.get("PYTHONPATH", "")]))
    paths = [str(tiers.TESTS / module) for module in MODULES]
    return pytester.runpytest_subprocess(*paths, "--collect-only", "-q", "-p", "fake_tiers", "-p", "no:cacheprovider")


def deselections(result: pytest.RunResult) -> list[str]:
    return [line for line in result.outlines + result.errlines if line.startswith("khatui tests: deselected")]


def test_each_tier_this_machine_cannot_run_is_deselected_with_one_line(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = collect(pytester, monkeypatch, CANNOT)
    assert result.ret == pytest.ExitCode.OK
    assert deselections(result) == [
        "khatui tests: deselected 3 e2e test(s): no lab for e2e here",
        "khatui tests: deselected 8 lab test(s): no lab here",
        "khatui tests: deselected 4 sshd test(s): no sshd here",
    ]
    collected = [line for line in result.outlines if "::" in line]
    assert collected and all(
        "test_layout.py::" in line or "test_known_hosts_parsing.py::" in line for line in collected
    )


def test_under_ci_a_tier_that_cannot_run_is_an_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = collect(pytester, monkeypatch, {"lab": "no lab here", "e2e": None, "sshd": None}, ci=True)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "khatui tests: deselected 8 lab test(s): no lab here; CI must run every tier" in result.stderr.str()


def test_a_machine_that_can_run_every_tier_keeps_them_all(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = collect(pytester, monkeypatch, {"lab": None, "e2e": None, "sshd": None}, ci=True)
    assert result.ret == pytest.ExitCode.OK and deselections(result) == []
    assert sum("test_lab.py::" in line for line in result.outlines) == 8
    assert sum("test_host_keys.py::" in line for line in result.outlines) == 4
