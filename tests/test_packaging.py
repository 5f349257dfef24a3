"""`pip install .` into a fresh virtualenv gives a working `khatui` (wheel contents included), with no lab
in it; installing the lab's own wheel (lab/) beside it adds `khatui lab` through its entry point."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

from tests.conftest import EXAMPLES, ROOT

FRESH = {**{k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, "COLUMNS": "200"}
"""The fresh venv's environment: it sees only what was installed into it; help on one line per command."""


def build_wheel(project: Path, into: Path) -> tuple[Path, list[str]]:
    """`pip wheel` of `project` (no dependencies): the wheel and the names of its files."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(into), str(project)],
        check=True,
        capture_output=True,
    )
    (wheel,) = into.glob("*.whl")
    return wheel, zipfile.ZipFile(wheel).namelist()


def commands(help_text: str) -> dict[str, str]:
    """The commands `khatui --help` lists, each with the first line of its help."""
    listing = help_text.split("commands:", 1)[1].split("\n\n", 1)[0]
    rows = [line.split(None, 1) for line in listing.splitlines()[2:] if line.startswith("    ") and line[4] != " "]
    return {row[0]: row[1] if len(row) > 1 else "" for row in rows}


def test_wheel_installs_into_a_fresh_venv_without_the_lab(tmp_path: Path) -> None:
    wheel, names = build_wheel(ROOT, tmp_path / "wheels")
    assert "khatui/spec/cluster.py" in names and "khatui/cli/main.py" in names
    assert "khatui/tui/khatui.tcss" in names
    tops = {name.split("/", 1)[0] for name in names}
    assert tops == {"khatui", "khatui-0.1.0.dist-info"}, tops  # no tests, no khatui_lab
    assert not [name for name in names if "lab" in Path(name).parts or "standin" in name or name.endswith(".sh")]

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([venv / "bin" / "pip", "install", "-q", str(wheel)], check=True, capture_output=True, env=FRESH)
    khatui = venv / "bin" / "khatui"

    help_text = subprocess.run([khatui, "--help"], check=True, capture_output=True, text=True, env=FRESH).stdout
    listed = commands(help_text)
    assert "validate" in listed and "not installed" in listed["lab"]
    how = subprocess.run([khatui, "lab", "--help"], check=True, capture_output=True, text=True, env=FRESH).stdout
    assert "is the separate khatui-lab package: `bash scripts/setup` in a clone of khatui installs it" in how
    refused = subprocess.run([khatui, "lab", "up", "--nodes", "3"], capture_output=True, text=True, env=FRESH)
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.startswith("khatui: `khatui lab`: the local lab of test nodes is not installed:")
    assert len(refused.stderr.splitlines()) == 1

    spec = tmp_path / "c.yaml"
    spec.write_text(subprocess.run([khatui, "init"], check=True, capture_output=True, text=True, env=FRESH).stdout)
    for path in [spec, *EXAMPLES]:
        result = subprocess.run([khatui, "validate", str(path)], capture_output=True, text=True, env=FRESH)
        assert result.returncode == 0, result.stderr
    module = subprocess.run(
        [venv / "bin" / "python", "-m", "khatui", "--version"], check=True, capture_output=True, text=True, env=FRESH
    )
    assert module.stdout.startswith("khatui ")

    lab_wheel, lab_names = build_wheel(ROOT / "lab", tmp_path / "lab-wheels")
    assert {name.split("/", 1)[0] for name in lab_names} == {"khatui_lab", "khatui_lab-0.1.0.dist-info"}
    assert {"khatui_lab/node-init.sh", "khatui_lab/standins/kubeadm.py", "khatui_lab/command.py"} <= set(lab_names)
    subprocess.run([venv / "bin" / "pip", "install", "-q", str(lab_wheel)], check=True, env=FRESH)
    help_text = subprocess.run([khatui, "--help"], check=True, capture_output=True, text=True, env=FRESH).stdout
    assert commands(help_text)["lab"] == "bring up a local multi-node lab to try khatui on"
    archive = tmp_path / "standins.tar"
    code = f"from khatui_lab.standins_install import archive; open({str(archive)!r}, 'wb').write(archive())"
    subprocess.run([venv / "bin" / "python", "-c", code], check=True, cwd=tmp_path, env=FRESH)
    with tarfile.open(archive) as tar:
        modules = {Path(name).name for name in tar.getnames() if name.endswith(".py")}
    assert modules == {path.name for path in (ROOT / "lab" / "khatui_lab" / "standins").glob("*.py")}
