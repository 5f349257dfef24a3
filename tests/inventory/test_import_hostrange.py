"""Ansible host ranges and host:port patterns."""

from __future__ import annotations

import pytest

from khatui.inventory.hostrange import RangeError, expand, host_names, split_port
from khatui.inventory.result import ImportResult


@pytest.mark.parametrize(
    ("pattern", "hosts"),
    [
        ("node[01:03]", ["node01", "node02", "node03"]),
        ("node[1:3].lab", ["node1.lab", "node2.lab", "node3.lab"]),
        ("db-[a:c]", ["db-a", "db-b", "db-c"]),
        ("web[1:9:4]", ["web1", "web5", "web9"]),
        ("r[1:2]-[a:b]", ["r1-a", "r1-b", "r2-a", "r2-b"]),
        ("plain", ["plain"]),
    ],
)
def test_ranges_expand_like_ansible(pattern: str, hosts: list[str]) -> None:
    assert expand(pattern) == hosts


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("n[3:1]", "runs backwards"),
        ("n[01:100]", "zero-padded start needs an end of the same width"),
        ("n[1:c]", "mixes a letter and a number"),
        ("n[1:3:0]", "step 0 must be 1 or more"),
        ("n[x]", "not a range"),
        ("n[0:99999]", "more than 10000 hosts"),
    ],
)
def test_bad_ranges_are_refused(pattern: str, message: str) -> None:
    with pytest.raises(RangeError, match=message):
        expand(pattern)


@pytest.mark.parametrize(
    ("pattern", "split"),
    [
        ("node1:2222", ("node1", 2222)),
        ("node[1:3]:2222", ("node[1:3]", 2222)),
        ("node[1:3]", ("node[1:3]", None)),
        ("fe80::1", ("fe80::1", None)),
        ("[fe80::1]:22", ("fe80::1", 22)),
        ("10.0.0.1", ("10.0.0.1", None)),
    ],
)
def test_ports_split_off_without_breaking_ipv6_or_ranges(pattern: str, split: tuple[str, int | None]) -> None:
    assert split_port(pattern) == split


def test_host_names_reports_expansions_and_failures() -> None:
    result = ImportResult("inv.ini")
    assert host_names("w[1:8]", 4, result) == [f"w{i}" for i in range(1, 9)]
    assert host_names("w[2:1]", 5, result) == []
    assert [str(n) for n in result.notices] == [
        "inv.ini:4: notice: host range 'w[1:8]' expanded to 8 hosts: w1, w2, w3, ..., w8",
        "inv.ini:5: notice: host range not supported: range [2:1] runs backwards; no host imported from it",
    ]
