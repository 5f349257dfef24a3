"""Every command khatui tells the operator to type works as printed: `scripts/setup` puts `khatui` on
PATH (scripts/put-on-path), and every `khatui ...` the README, the lab and khatui's own messages
print names commands that exist."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from khatui.cli.main import build_parser
from tests.conftest import ROOT

PUT_ON_PATH = ROOT / "scripts" / "put-on-path"
VENV_KHATUI = Path(sys.executable).parent / "khatui"
SYSTEM_PATH = "/usr/bin:/bin"

BACKTICKED = re.compile(r"`(khatui(?: [a-z][a-z-]*)*)")
HINTED = re.compile(r"(?:try|Try|continue with|follow it|run|then):\s+(khatui(?: [a-z][a-z-]*)*)")
PRINTED_LINE = re.compile(r'print\(f?"\s*(khatui(?: [a-z][a-z-]*)*)')
"""A command quoted in backticks, after a hint's 'try:', 'run:'..., or printed on a line of its own
(the words that name commands; arguments start at the first word that is not lower-case letters)."""
PLANNED: dict[str, str] = {}
"""Commands the spec's documentation already names before they exist: command -> why."""


def put_on_path(bin_dir: Path, target: Path = VENV_KHATUI) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"KHATUI_BIN_DIR": str(bin_dir), "PATH": f"{bin_dir}:{SYSTEM_PATH}"}
    return subprocess.run(["bash", str(PUT_ON_PATH), str(target)], env=env, capture_output=True, text=True)


def test_setup_puts_khatui_on_path(tmp_path: Path) -> None:
    assert '"$KHATUI_ROOT/scripts/put-on-path" "$VENV/bin/khatui"' in (ROOT / "scripts" / "setup").read_text()
    bin_dir = tmp_path / "bin"
    assert put_on_path(bin_dir).returncode == 0
    assert put_on_path(bin_dir).stderr == ""  # again: nothing to do, nothing said
    env = os.environ | {"PATH": f"{bin_dir}:{SYSTEM_PATH}", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(["khatui", "--version"], env=env, capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.startswith("khatui "), done.stderr


def test_a_khatui_installed_otherwise_is_left_alone_and_a_missing_path_entry_is_named(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "khatui").write_text("#!/bin/sh\necho mine\n")
    done = put_on_path(bin_dir)
    assert done.returncode == 0 and "is not ours (not a symlink); left alone" in done.stderr
    assert (bin_dir / "khatui").read_text() == "#!/bin/sh\necho mine\n"
    elsewhere = tmp_path / "elsewhere"
    env = os.environ | {"KHATUI_BIN_DIR": str(elsewhere), "PATH": SYSTEM_PATH}
    done = subprocess.run(["bash", str(PUT_ON_PATH), str(VENV_KHATUI)], env=env, capture_output=True, text=True)
    assert f"{elsewhere} is not on PATH" in done.stderr


def printed_commands() -> list[tuple[str, str]]:
    """(where, command) for every `khatui ...` a README line, a source line or a hint shows."""
    found = []
    readme = (ROOT / "README.md").read_text()
    for block in re.findall(r"```sh\n(.*?)```", readme, re.S):
        for line in block.splitlines():
            if line.startswith("khatui"):
                found.append(("README.md code", re.match(r"khatui(?: [a-z][a-z-]*)*", line).group(0)))  # type: ignore[union-attr]
    found += [("README.md", command) for command in BACKTICKED.findall(readme)]
    for path in sorted([*(ROOT / "khatui").rglob("*.py"), *(ROOT / "lab" / "khatui_lab").rglob("*.py")]):
        text = path.read_text()
        where = str(path.relative_to(ROOT))
        found += [
            (where, command) for command in BACKTICKED.findall(text) + HINTED.findall(text) + PRINTED_LINE.findall(text)
        ]
    return sorted(set(found))


PRINTED = printed_commands()


def test_the_scan_finds_the_hints_that_tripped_a_newcomer() -> None:
    commands = {command for _, command in PRINTED}
    assert {"khatui validate", "khatui plan", "khatui lab up", "khatui resume", "khatui attach"} <= commands
    assert ("lab/khatui_lab/command.py", "khatui validate") in PRINTED  # the lab's "try:" hint


@pytest.mark.parametrize(("where", "command"), PRINTED, ids=[f"{w}: {c}" for w, c in PRINTED])
def test_every_printed_command_exists(where: str, command: str) -> None:
    words = command.split()[1:]
    parser = build_parser()
    with pytest.raises(SystemExit) as exited:
        parser.parse_args([*words, "--help"])
    if command in PLANNED:
        assert exited.value.code != 0, f"`{command}` exists now: take it out of PLANNED"
    else:
        assert exited.value.code == 0, f"{where} prints `{command}`, which khatui does not have"


@pytest.mark.parametrize(
    "line", [line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("bash ")]
)
def test_every_script_the_readme_runs_exists(line: str) -> None:
    assert (ROOT / line.split()[1]).is_file()
