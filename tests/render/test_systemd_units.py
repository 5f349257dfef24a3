"""Every rendered systemd unit and drop-in passes `systemd-analyze verify` with no output at all
(verify only *warns*, exit 0, about unknown keys or bad values: any stderr is a failure).

Each node's units are verified together, inside an alternate root holding systemd's own units, the
node's rendered units and drop-ins, a minimal kubelet.service like the one kubeadm's package ships
where khatui renders only drop-ins for it (install disabled), and a stand-in (a copy of /bin/true)
at every program an Exec line names: containerd, the kubelet and etcd are where the runtime phases
install them on a node, not on this machine, and verify insists that each points at an executable.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from khatui.render import FileKind, RenderedFile
from tests.render.tools import require, run, write
from tests.render.variants import rendered

EXEC_PROGRAM = re.compile(r"^Exec\w+=[-@:+!]*(/\S+)", re.MULTILINE)
NODE_UNITS = {
    f"{spec}/{node}": units
    for spec, files in rendered().items()
    for node in dict.fromkeys(f.node for f in files)
    if (units := [f for f in files if f.node == node and f.kind is FileKind.UNIT])
}
PACKAGED_KUBELET_UNIT = """\
[Unit]
Description=kubelet: The Kubernetes Node Agent

[Service]
ExecStart=/usr/bin/kubelet
Restart=always

[Install]
WantedBy=multi-user.target
"""


def test_units_and_dropins_are_rendered() -> None:
    names = {Path(f.path).name for units in NODE_UNITS.values() for f in units}
    assert {"etcd.service", "containerd.service", "kubelet.service", "10-kubeadm.conf"} <= names
    assert any(Path(f.path).parent.name == "kubelet.service.d" for units in NODE_UNITS.values() for f in units)


def _root_with(root: Path, units: list[RenderedFile]) -> list[str]:
    """`root` holding systemd's units, `units` and stand-ins for their programs; the units to verify."""
    shutil.copytree("/usr/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)
    for merged in ("lib", "sbin", "bin"):
        (root / "usr" / merged).mkdir(exist_ok=True)
        (root / merged).symlink_to(f"usr/{merged}")
    for file in units:
        write(root / file.path.lstrip("/"), file.text)
    names = sorted(
        {Path(f.path).parent.name.removesuffix(".d") if f.path.endswith(".conf") else Path(f.path).name for f in units}
    )
    if "kubelet.service" in names and not (root / "etc/systemd/system/kubelet.service").exists():
        write(root / "etc/systemd/system/kubelet.service", PACKAGED_KUBELET_UNIT)
    for unit in names:
        for program in EXEC_PROGRAM.findall((root / "etc/systemd/system" / unit).read_text()):
            stand_in = root / program.lstrip("/")
            stand_in.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy("/bin/true", stand_in)
    return names


def _verify(root: Path, names: list[str]) -> subprocess.CompletedProcess[str]:
    return run([require("systemd-analyze"), "verify", f"--root={root}", *names])


@pytest.mark.parametrize("node", sorted(NODE_UNITS))
def test_units_verify(node: str, tmp_path: Path) -> None:
    result = _verify(tmp_path, _root_with(tmp_path, NODE_UNITS[node]))
    assert result.returncode == 0 and result.stderr == "" and result.stdout == "", result.stderr


def test_verify_catches_errors(tmp_path: Path) -> None:
    """Not vacuous: a bad key in a unit, a bad value in a drop-in show up on stderr."""
    units = next(u for u in NODE_UNITS.values() if any(f.path.endswith("20-khatui-standalone.conf") for f in u))
    broken = [
        replace(
            f, content=f.text.replace("Restart=always", "Restart=sometimes").replace("Delegate=yes", "Delegates=yes")
        )
        for f in units
    ]
    result = _verify(tmp_path, _root_with(tmp_path, broken))
    assert "Unknown key" in result.stderr and "restart specifier" in result.stderr
