"""Input that is not a usable YAML document: one clear line naming the file, exit code 2, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from khatui.cli.main import main

GOOD_HEAD = "apiVersion: khatui/v1\nkind: Cluster\nmetadata:\n  name: t\n"

CASES: dict[str, tuple[bytes, str]] = {
    "tab indentation": (
        GOOD_HEAD.encode() + b"spec:\n\tnodes: []\n",
        ":6: not valid YAML: while scanning for the next token, found character '\\t' that cannot start any token (YAML does not allow tabs for indentation; use spaces)",
    ),
    "duplicate key": (GOOD_HEAD.encode() + b"kind: Cluster\n", ":5: duplicate key 'kind' (first given on line 2)"),
    "nested duplicate key": (
        GOOD_HEAD.encode() + b"spec:\n  nodes: []\n  dns: {}\n  nodes: []\n",
        ":8: duplicate key 'nodes' (first given on line 6)",
    ),
    "a list": (b"- a\n- b\n", ": the top level must be a mapping (apiVersion, kind, metadata, spec); found a list"),
    "a scalar": (b"hello\n", "found a str"),
    "empty": (b"", ": the file is empty"),
    "only whitespace": (b"  \n\n", ": the file is empty"),
    "only a comment": (b"# nothing here\n", ": the document is empty"),
    "not UTF-8": (GOOD_HEAD.encode() + b"spec: \xff\xfe\n", ":5: not UTF-8 text (byte 0xff at offset 62)"),
    "binary": (b"\x7fELF\x02\x01\x01\x00\x00\x00", ": this is a binary file, not YAML text"),
    "huge": (b"a: " + b"x" * (2 << 20) + b"\n", ": the file is larger than 1024 KiB; a spec is never that large"),
    "two documents": (
        GOOD_HEAD.encode() + b"---\na: 1\n",
        "not valid YAML: expected a single document in the stream, but found another document",
    ),
    "unclosed bracket": (b"spec: [1, 2\n", "not valid YAML"),
    "python tag": (b"!!python/object/apply:os.system ['true']\n", "not valid YAML: could not determine a constructor"),
    "alias bomb": (
        b'a: &a ["x","x","x","x","x","x","x","x","x","x"]\n'
        + b"".join(
            f"{c}: &{c} [{','.join(['*' + p] * 10)}]\n".encode() for p, c in zip("abcdefgh", "bcdefghi", strict=True)
        ),
        "expands to more than 200000 values",
    ),
    "mapping as key": (b"? {a: 1}\n: 2\n", "a mapping key must be a plain value"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_yaml(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    raw, expected = CASES[name]
    spec = tmp_path / "c.yaml"
    spec.write_bytes(raw)
    assert main(["validate", str(spec)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"khatui: {spec}")
    assert expected in lines[0]


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path / "nope.yaml")]) == 2
    assert (
        capsys.readouterr().err.strip() == f"khatui: {tmp_path / 'nope.yaml'}: cannot read: No such file or directory"
    )


def test_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path)]) == 2
    assert "cannot read: Is a directory" in capsys.readouterr().err


def test_real_process_prints_no_traceback(tmp_path: Path) -> None:
    spec = tmp_path / "c.yaml"
    spec.write_bytes(b"spec:\n\t- x\n")
    result = subprocess.run([sys.executable, "-m", "khatui", "validate", str(spec)], capture_output=True, text=True)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"khatui: {spec}:2: not valid YAML")
