"""Probe output -> NodeFacts, data-driven: each fixture pairs recorded output with the facts it means."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from khatui.facts.model import EtcdMember, NodeFacts
from khatui.facts.probe import parse, parse_etcd_members, script

FIXTURES = Path(__file__).parent / "fixtures"
CASES = sorted(p.stem for p in FIXTURES.glob("*.out"))


def _comparable(facts: NodeFacts, keys: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in keys:
        value = getattr(facts, key)
        if isinstance(value, frozenset):
            value = sorted(value)
        elif isinstance(value, tuple):
            value = list(value)
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


def test_has_module_counts_loaded_and_available() -> None:
    facts = parse("n", (FIXTURES / "debian12-master.out").read_text(), 0)
    assert facts.has_module("ip_vs_sh") and facts.has_module("nf_conntrack") and not facts.has_module("ip_vs_dh")


def test_script_runs_under_sh_and_parses(tmp_path: Path) -> None:
    """The script is valid POSIX sh, hashes only existing files and reads contents as bytes."""
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


def test_clock_offset_ignores_the_probe_round_trip() -> None:
    from khatui.facts.probe import clock_offset

    assert clock_offset(102.0, sent=100.0, received=104.0) == 0.0
    assert clock_offset(99.25, sent=100.0, received=104.0) == -0.75
    assert clock_offset(107.5, sent=100.0, received=104.0) == 3.5


ETCDCTL_JSON = (
    '{"header":{"cluster_id":1,"member_id":2,"raft_term":3},"members":[{"ID":10501334649042878790,'
    '"name":"cp1","peerURLs":["https://10.93.0.11:2380"],"clientURLs":["https://10.93.0.11:2379"]},'
    '{"ID":17,"peerURLs":["https://10.93.0.14:2380"],"isLearner":true}]}'
)
GATEWAY_JSON = (
    '{"header":{"cluster_id":"1"},"members":[{"ID":"10501334649042878790","name":"cp1",'
    '"peerURLs":["https://10.93.0.11:2380"],"clientURLs":["https://10.93.0.11:2379"]}]}'
)


def test_etcd_members_from_etcdctl_and_from_the_json_gateway() -> None:
    cp1 = EtcdMember("cp1", "91bc3c398fb3c146", ("https://10.93.0.11:2380",), ("https://10.93.0.11:2379",))
    members, error = parse_etcd_members([ETCDCTL_JSON])
    assert error == "" and members == (cp1, EtcdMember("", "11", ("https://10.93.0.14:2380",), (), True))
    assert parse_etcd_members([GATEWAY_JSON]) == ((cp1,), "")
    members, error = parse_etcd_members(["Error: context deadline exceeded"])
    assert members is None and error.endswith("did not list its cluster: Error: context deadline exceeded")
    assert parse_etcd_members([""]) == (None, "the local etcd member did not list its cluster: no answer")


def test_probe_reports_etcd_members_only_where_khatui_set_etcd_up() -> None:
    output = "@@time\n1.0\n@@etcd-members\n" + GATEWAY_JSON + "\n@@hashes\n@@end\n"
    assert [m.name for m in parse("n1", output, 1.0).etcd_members or ()] == ["cp1"]
    bare = parse("n1", "@@time\n1.0\n@@end\n", 1.0)
    assert bare.etcd_members is None and bare.etcd_members_error == ""
