"""Every rendered systemd unit and drop-in passes `systemd-analyze verify` with no output at all
(verify only *warns*, exit 0, about unknown keys or bad values: any stderr is a failure).

Full units (etcd.service) are verified as they are: their ExecStart binary (Debian's /usr/bin/etcd)
is on this machine. Drop-ins for kubelet.service are verified inside an alternate root holding
systemd's own units, a minimal kubelet.service like the one kubeadm's package ships, and a stand-in
kubelet binary (a copy of /bin/true, named as such here) — kubelet is in no registry this machine
reaches, and verify insists that ExecStart points at an executable.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from khatui.render import FileKind, RenderedFile
from khatui.render.etcd import ETCD_BINARY
from tests.render.tools import require, run, write
from tests.render.variants import file_id, rendered

UNITS = [
    (name, file)
    for name, files in rendered().items()
    for file in files
    if file.kind is FileKind.UNIT and not Path(file.path).parent.name.endswith(".d")
]
DROPINS = [
    (name, file)
    for name, files in rendered().items()
    for file in files
    if file.kind is FileKind.UNIT and Path(file.path).parent.name.endswith(".d")
]
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
    assert {Path(f.path).name for _, f in UNITS} == {"etcd.service"}
    assert {Path(f.path).parent.name for _, f in DROPINS} == {"kubelet.service.d"}


@pytest.mark.parametrize("item", UNITS, ids=file_id)
def test_unit_verifies(item: tuple[str, RenderedFile], tmp_path: Path) -> None:
    file = item[1]
    assert Path(ETCD_BINARY).exists(), "etcd-server is not installed"
    unit = write(tmp_path / Path(file.path).name, file.text)
    result = run([require("systemd-analyze"), "verify", str(unit)], cwd=tmp_path)
    assert result.returncode == 0 and result.stderr == "" and result.stdout == "", result.stderr


def _root_with_kubelet(root: Path) -> None:
    shutil.copytree("/usr/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)
    (root / "lib").symlink_to("usr/lib")
    write(root / "etc/systemd/system/kubelet.service", PACKAGED_KUBELET_UNIT)
    stand_in = root / "usr/bin/kubelet"
    stand_in.parent.mkdir(parents=True)
    shutil.copy("/bin/true", stand_in)


@pytest.mark.parametrize("item", DROPINS, ids=file_id)
def test_dropin_verifies(item: tuple[str, RenderedFile], tmp_path: Path) -> None:
    file = item[1]
    _root_with_kubelet(tmp_path)
    write(tmp_path / file.path.lstrip("/"), file.text)
    unit = Path(file.path).parent.name.removesuffix(".d")
    result = run([require("systemd-analyze"), "verify", f"--root={tmp_path}", unit])
    assert result.returncode == 0 and result.stderr == "" and result.stdout == "", result.stderr


def test_verify_catches_errors(tmp_path: Path) -> None:
    """Not vacuous: a bad key in the unit shows up on stderr."""
    text = UNITS[0][1].text.replace("Type=notify", "Type=notify\nRestartSecs=5")
    unit = write(tmp_path / "etcd.service", text)
    result = run([require("systemd-analyze"), "verify", str(unit)], cwd=tmp_path)
    assert "Unknown key" in result.stderr
    _root_with_kubelet(tmp_path / "root")
    dropin = DROPINS[0][1]
    write(tmp_path / "root" / dropin.path.lstrip("/"), dropin.text.replace("Restart=always", "Restart=sometimes"))
    result = run([require("systemd-analyze"), "verify", f"--root={tmp_path / 'root'}", "kubelet.service"])
    assert "restart specifier" in result.stderr
