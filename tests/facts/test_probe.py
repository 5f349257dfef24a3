"""Probe output -> NodeFacts, data-driven: recorded output of one section (fixtures/sections.yaml) or of a
whole probe (fixtures/NAME.out with the facts it means in NAME.json), loaded by one test each."""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
import yaml

from khatui.facts.model import EtcdMember, NodeFacts
from khatui.facts.probe import CONTENT, HASHES, SECTIONS, parse, script

FIXTURES = Path(__file__).parent / "fixtures"
CASES = sorted(p.stem for p in FIXTURES.glob("*.out"))
SECTION_CASES: list[dict[str, Any]] = yaml.safe_load((FIXTURES / "sections.yaml").read_text())


def _comparable(facts: NodeFacts, keys: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in keys:
        value = getattr(facts, key)
        if isinstance(value, frozenset):
            value = sorted(value)
        elif isinstance(value, tuple):
            value = [
                asdict(v) | {"peer_urls": list(v.peer_urls), "client_urls": list(v.client_urls)}
                if isinstance(v, EtcdMember)
                else v
                for v in value
            ]
        elif key == "listening":
            value = {str(k): v for k, v in value.items()}
        elif key == "file_contents":
            value = {k: v.decode() for k, v in value.items()}
        out[key] = value
    return out


@pytest.mark.parametrize("case", CASES)
def test_recorded_probe_output(case: str) -> None:
    spec = json.loads((FIXTURES / f"{case}.json").read_text())
    facts = parse("n1", (FIXTURES / f"{case}.out").read_text(), spec["operator_time"])
    assert facts.node == "n1"
    assert _comparable(facts, list(spec["expected"])) == spec["expected"]


@pytest.mark.parametrize("case", SECTION_CASES, ids=lambda c: f"{c['section']}-{SECTION_CASES.index(c)}")
def test_recorded_section_output(case: dict[str, Any]) -> None:
    header = f"@@{case['section']} {case.get('argument', '')}".rstrip()
    output = f"{header}\n{case['output']}\n@@end\n"
    facts = parse("n1", output, case.get("sent", 0.0), case.get("received"))
    assert _comparable(facts, list(case["facts"])) == case["facts"]


def test_every_section_of_the_table_has_a_recorded_case() -> None:
    assert {s.name for s in (*SECTIONS, HASHES, CONTENT)} == {c["section"] for c in SECTION_CASES}


def test_has_module_counts_loaded_and_available() -> None:
    facts = parse("n", (FIXTURES / "debian12-master.out").read_text(), 0)
    assert facts.has_module("ip_vs_sh") and facts.has_module("nf_conntrack") and not facts.has_module("ip_vs_dh")


def test_script_runs_under_sh_and_parses(tmp_path: Path) -> None:
    """The script is valid POSIX sh, prints every section of the table, hashes only existing files and
    reads contents as bytes."""
    present = tmp_path / "a.conf"
    present.write_bytes(b"x = 1\n\xff\n")
    text = script([str(present), str(tmp_path / "missing")], [str(present)])
    started = time.time()
    output = subprocess.run(["sh", "-c", text], capture_output=True, text=True, check=True).stdout
    facts = parse("local", output, started)
    assert set(facts.file_hashes) == {str(present)}
    assert facts.file_contents == {str(present): b"x = 1\n\xff\n"}
    assert facts.cpus >= 1 and facts.memory_mib > 0 and facts.kernel
    assert abs(facts.clock_offset_s) < 5
    printed = {line[2:].split(" ")[0] for line in output.splitlines() if line.startswith("@@")}
    assert {s.name for s in SECTIONS if not s.marks_itself} | {"hashes", "content", "end"} <= printed


@pytest.mark.parametrize("name", ["$(touch pwned)", "it's `touch pwned`", 'a "b" ; touch pwned', "-n \\n %s"], ids=repr)
def test_paths_reach_the_script_as_data(name: str, tmp_path: Path) -> None:
    """A file name full of shell syntax is hashed and read like any other, and nothing runs."""
    present = tmp_path / name
    present.write_bytes(b"content\n")
    text = script([str(present)], [str(present)])
    output = subprocess.run(["sh", "-c", text], cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    facts = parse("local", output, time.time())
    assert facts.file_contents == {str(present): b"content\n"} and set(facts.file_hashes) == {str(present)}
    assert not (tmp_path / "pwned").exists()
