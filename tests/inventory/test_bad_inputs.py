"""The corpus of hostile importer inputs (tests/inventory/fixtures/bad_inputs.yaml) through
`khatui import`, plus the Include bounds and the cost of a config with thousands of hosts."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from khatui.cli.main import main
from khatui.inventory import ssh_config_parse
from khatui.inventory.reading import read_text as real_read_text
from khatui.inventory.result import ImportResult
from khatui.inventory.ssh_config import Selection, import_ssh_config

CORPUS: list[dict[str, Any]] = yaml.safe_load((Path(__file__).parent / "fixtures" / "bad_inputs.yaml").read_text())


def _folder(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(home))
    folder = home / ".ssh"
    folder.mkdir()
    return folder


@pytest.mark.parametrize("entry", CORPUS, ids=[entry["name"] for entry in CORPUS])
def test_bad_input(
    entry: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _folder(tmp_path, monkeypatch)
    for name, text in entry.get("files", {}).items():
        (folder / name).write_text(text)
    for name in entry.get("fifos", []):
        os.mkfifo(folder / name)
    source = entry.get("input") or next(iter(entry["files"]))
    path = source if source.startswith("/") else str(folder / source)
    code: int | str | None
    try:
        code = main(["import", entry["importer"], path, *entry.get("args", []), "-o", str(tmp_path / "out.yaml")])
    except SystemExit as exc:  # a refused command-line value: argparse's exit 2
        code = exc.code
    out, err = capsys.readouterr()
    assert code == entry["exit"], err
    for fragment in entry.get("shows", []):
        assert fragment in err, err
    for secret in entry.get("absent", []):
        assert secret not in out + err, err
    assert "Traceback" not in err


def _chain(folder: Path, levels: int, includes: int) -> None:
    """config -> f0 -> f1 ... -> f`levels`, each file including the next `includes` times."""
    for level in range(levels):
        (folder / f"f{level}").write_text(f"Include f{level + 1}\n" * includes)
    (folder / f"f{levels}").write_text("User leaf\n")
    (folder / "config").write_text("Include f0\nHost cp1\n  HostName 10.0.0.11\n")


def test_include_nesting_stops_at_openssh_depth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _folder(tmp_path, monkeypatch)
    _chain(folder, 20, 1)
    result = import_ssh_config(str(folder / "config"), Selection(control_plane=["cp1"]))
    assert any("Include nested more than 16 deep; not followed" in n.message for n in result.notices)


def test_a_fan_out_of_includes_reads_a_bounded_number_of_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each level includes the next twice: 2**16 reads without the budget, 256 with it."""
    folder = _folder(tmp_path, monkeypatch)
    _chain(folder, 16, 2)
    reads: list[str] = []

    def read_text(path: str, what: str) -> str:
        reads.append(path)
        return real_read_text(path, what)

    monkeypatch.setattr(ssh_config_parse, "read_text", read_text)
    result = import_ssh_config(str(folder / "config"), Selection(control_plane=["cp1"]))
    assert len(reads) == 1 + ssh_config_parse.MAX_INCLUDED_FILES
    assert any(f"more than {ssh_config_parse.MAX_INCLUDED_FILES} included files" in n.message for n in result.notices)


def test_options_of_thousands_of_hosts_are_found_in_linear_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each host's options are found by testing a bounded number of blocks, not every block of the file."""
    hosts = 3000
    lines = ["Host *", "  User ops"]
    for index in range(hosts):
        lines += [f"Host n{index}", f"  HostName 10.0.{index // 250}.{index % 250 + 1}"]
    config = tmp_path / "config"
    config.write_text("\n".join(lines) + "\n")
    tests = 0
    real = ssh_config_parse.Segment.applies_to

    def counted(segment: ssh_config_parse.Segment, alias: str) -> bool:
        nonlocal tests
        tests += 1
        return real(segment, alias)

    monkeypatch.setattr(ssh_config_parse.Segment, "applies_to", counted)
    result: ImportResult = import_ssh_config(str(config), Selection(hosts=["n*"], control_plane=["n0", "n1", "n2"]))
    assert len(result.nodes) == hosts
    assert tests <= 4 * hosts
