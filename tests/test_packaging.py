"""`pip install .` into a fresh virtualenv gives a working `khatui` (wheel contents included)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import EXAMPLES, ROOT


def test_wheel_installs_into_a_fresh_venv(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = wheels.glob("khatui-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "khatui/spec/cluster.py" in names and "khatui/cli/main.py" in names
    assert not any(name.startswith("tests/") for name in names)

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([venv / "bin" / "pip", "install", "-q", str(wheel)], check=True, capture_output=True)
    khatui = venv / "bin" / "khatui"

    help_text = subprocess.run([khatui, "--help"], check=True, capture_output=True, text=True).stdout
    assert "validate" in help_text
    spec = tmp_path / "c.yaml"
    spec.write_text(subprocess.run([khatui, "init"], check=True, capture_output=True, text=True).stdout)
    for path in [spec, *EXAMPLES]:
        result = subprocess.run([khatui, "validate", str(path)], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
    module = subprocess.run(
        [venv / "bin" / "python", "-m", "khatui", "--version"], check=True, capture_output=True, text=True
    )
    assert module.stdout.startswith("khatui ")
