"""Property: no spec value changes the shape of a command the plan runs.

For every free-text and address field of every test spec and any value in it (validation bypassed),
either rendering refuses the value (`UnsafeValue`) or every command of the plan (Run and WaitFor
commands, step checks) splits into the same words and shell operators as with a benign value, the
value inside the word it belongs to: never extra words, never an operator, a substitution or a glob.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from khatui.plan.compose import build_plan
from khatui.plan.model import Plan, Run, WaitFor
from khatui.quoting.lines import UnsafeValue
from khatui.render.files import FileKind, RenderedFile
from khatui.spec.cluster import Cluster
from tests.plan.test_fixtures import TOKEN, files_of
from tests.render import hostile
from tests.render.variants import specs

SPECIAL = "();<>|&`$*?[]{}~!"
"""What `sh` treats as syntax outside quotes: split off as tokens of their own unless quoted."""


def words(command: str) -> list[str]:
    """`command` as sh would split it, operators and other unquoted syntax as separate tokens; digests
    (of file contents, which differ with the value) as HASH."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=SPECIAL)
    lexer.whitespace_split = True
    return [re.sub(r"[0-9a-f]{64}", "HASH", token) for token in lexer]


def commands(plan: Plan) -> list[tuple[str, str]]:
    """(step id, command) of every command the plan may run."""
    found: list[tuple[str, str]] = []
    for step in plan.steps():
        found += [(step.id, a.command) for a in step.actions if isinstance(a, Run | WaitFor)]
        if step.check is not None:
            found.append((step.id, step.check))
    return found


def plan_of(cluster: Cluster) -> Plan:
    """The plan without the install phases: the variants' versions have no published sums (the install
    commands take only validated versions, URLs and table paths; tests/plan/fixtures/install-*.yaml)."""
    spec = cluster.spec
    off = spec.model_copy(update={"install": spec.install.model_copy(update={"enabled": False})})
    cluster = cluster.model_copy(update={"spec": off})
    return build_plan(cluster, files_of(cluster), "spec-hash", token=TOKEN)


@cache
def benign_commands(spec: str, path: hostile.Path) -> list[tuple[str, str]]:
    return commands(plan_of(hostile.with_value(spec, path, hostile.MARK)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=hostile.CASES)
def test_a_value_stays_inside_its_words(case: tuple[str, hostile.Path, str]) -> None:
    check_field(*case)


@pytest.mark.parametrize(("spec", "path", "payload"), hostile.corpus_cases(), ids=hostile.case_id)
def test_known_attacks_stay_inside_their_words(spec: str, path: hostile.Path, payload: str) -> None:
    check_field(spec, path, payload)


def check_field(spec: str, path: hostile.Path, payload: str) -> None:
    """The plan with `payload` in the field: refused at the render edge, or the same commands."""
    benign = benign_commands(spec, path)
    try:
        found = commands(plan_of(hostile.with_value(spec, path, payload)))
    except UnsafeValue:
        return
    assert [step.replace(hostile.MARK, payload) for step, _ in benign] == [step for step, _ in found]
    for (_, expected), (_, command) in zip(benign, found, strict=True):
        assert_same_words(words(expected), words(command), payload)


def assert_same_words(benign: list[str], found: list[str], payload: str) -> None:
    """As many words and operators; a word without the value unchanged, a word with it still holding it
    (a renderer may frame a value, e.g. an IPv6 host in brackets)."""
    assert len(found) == len(benign), found
    for expected, word in zip(benign, found, strict=True):
        assert payload in word if hostile.MARK in expected else word == expected, (expected, word)


@pytest.mark.parametrize("payload", hostile.CORPUS, ids=repr)
def test_the_load_balancer_address_reaches_curl_as_one_word(payload: str) -> None:
    """The external load balancer's address is the spec value that reaches a command (the API check)."""
    cluster = hostile.with_value("external-etcd-cloudlb-ceph", ("spec", "load_balancer", "address"), payload)
    (curl,) = [c for _, c in commands(plan_of(cluster)) if c.startswith("curl")]
    assert shlex.split(curl)[-1] == f"https://k8s-api.example.com{payload}:6443/healthz"
    assert len(shlex.split(curl)) == 7


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(st.sampled_from("'\"`$(){};&|\\ %#*?az"), min_size=1, max_size=10))
def test_a_hash_check_holds_for_any_file_name(name: str, tmp_path: Path) -> None:
    """A step's check (`printf ... | sha256sum -c`) passes in a real `sh` for files of any name, running nothing."""
    folder = tmp_path / str(len(list(tmp_path.iterdir())))
    folder.mkdir()
    cluster = specs()["single-node-lab"]
    file = RenderedFile(cluster.spec.nodes[0].name, str(folder / f"{name}.crt"), b"CERT", FileKind.CERTIFICATE, "pki")
    Path(file.path).write_bytes(file.data)
    (pki,) = [s for s in build_plan(cluster, [file], "h", token=TOKEN).steps() if s.phase == "pki"]
    assert pki.check is not None
    result = subprocess.run(["sh", "-c", pki.check], cwd=folder, capture_output=True, text=True, check=False)
    assert result.returncode == 0, (pki.check, result.stderr)
    assert sorted(p.name for p in folder.iterdir()) == [f"{name}.crt"]
