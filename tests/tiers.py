"""Test tiers as markers (`sshd`, `lab`, `e2e`), and deselecting a tier this machine cannot run.

A tier is given by where a test is or what it asks for, never by hand on each test: every test
under tests/e2e is `e2e`; a test that asks for the `lab` fixture (tests/lab/conftest.py: a booted
lab) is `lab`; one that asks for a `farm` (real sshd nodes on loopback) is `sshd`. The pure tests
beside them (the lab's layout, the stand-ins' parsers, known_hosts parsing) stay untiered and run
everywhere. Where a tier's needs are missing (root, Linux, the lab's tools, sshd, the khatui-lab
package), its tests are deselected and one line says how many and why; under CI (`CI` set) that
is an error instead, since CI runs as root and must run every tier.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
DIRECTORY_TIERS = {"e2e": "e2e"}
"""tests/<directory> -> the tier of every test in it."""
FIXTURE_TIERS = {"lab": "lab", "bare_lab": "lab", "farm": "sshd"}
"""Fixture name -> the tier of every test that asks for it."""
_REPORT = pytest.StashKey[list[str]]()


def _sshd_missing() -> str | None:
    if os.geteuid() != 0:
        return "they start sshd, which needs root"
    if not (shutil.which("sshd") or Path("/usr/sbin/sshd").exists()) or not shutil.which("ssh-keygen"):
        return "sshd or ssh-keygen is not installed (Debian's openssh-server)"
    return None


def _lab_missing() -> str | None:
    try:
        from khatui_lab import preflight
    except ImportError:
        return "the khatui-lab package is not installed (bash scripts/setup installs it)"
    from khatui.errors import KhatuiError

    try:
        preflight.require_linux_root()
        preflight.check_host()
    except KhatuiError as exc:
        return exc.message
    return None


MISSING: dict[str, Callable[[], str | None]] = {"sshd": _sshd_missing, "lab": _lab_missing, "e2e": _lab_missing}
"""Tier -> why this machine cannot run it (None: it can)."""


def tier_of(item: pytest.Item) -> str | None:
    """The tier of a collected test, from its directory under tests/ or the fixtures it asks for."""
    directory = Path(item.path).resolve().relative_to(TESTS).parts[0]
    if directory in DIRECTORY_TIERS:
        return DIRECTORY_TIERS[directory]
    names = getattr(item, "fixturenames", ())
    return next((tier for fixture, tier in FIXTURE_TIERS.items() if fixture in names), None)


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_REPORT] = []


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test with its tier, then deselect the tiers this machine cannot run."""
    by_tier: dict[str, list[pytest.Item]] = {}
    for item in items:
        tier = tier_of(item)
        if tier is not None:
            item.add_marker(tier)
            by_tier.setdefault(tier, []).append(item)
    dropped: list[pytest.Item] = []
    for tier, tests in sorted(by_tier.items()):
        why = MISSING[tier]()
        if why is None:
            continue
        line = f"khatui tests: deselected {len(tests)} {tier} test(s): {why}"
        if os.environ.get("CI"):
            raise pytest.UsageError(f"{line}; CI must run every tier")
        config.stash[_REPORT].append(line)
        dropped.extend(tests)
    if dropped:
        dropped_ids = {id(item) for item in dropped}
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if id(item) not in dropped_ids]


def pytest_report_collectionfinish(config: pytest.Config) -> list[str]:
    """The one line per deselected tier, right after the collection count."""
    return config.stash[_REPORT]
