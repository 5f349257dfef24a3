"""The swap step's fstab edit, run for real with sed: it comments out exactly the lines the probe
reports as swap (`install_sections.FSTAB_SWAP_AWK`), behind the marker, and a second run changes nothing."""

from __future__ import annotations

import subprocess
from pathlib import Path

from khatui.facts.install_sections import FSTAB_SWAP_AWK, SWAP_MARK
from khatui.plan.phases.node_settings import comment_out_swap

FSTAB = (
    "# /swap.img none swap sw 0 0\n"
    "UUID=1 / ext4 defaults 0 1\n"
    "/swap.img\tnone\tswap\tsw\t0\t0\n"
    "  /dev/mapper/rl-swap none swap defaults 0 0\n"
    "/dev/sdb1 /srv/swap ext4 defaults 0 2\n"
)


def test_swap_lines_are_commented_out_once(tmp_path: Path) -> None:
    fstab = tmp_path / "fstab"
    fstab.write_text(FSTAB)
    for _ in range(2):
        subprocess.run(["sh", "-c", comment_out_swap(str(fstab))], check=True)
    text = fstab.read_text()
    assert text == FSTAB.replace("/swap.img\t", f"{SWAP_MARK}/swap.img\t").replace(
        "  /dev/mapper", f"{SWAP_MARK}  /dev/mapper"
    )
    assert (tmp_path / "fstab.khatui-bak").exists()
    left = subprocess.run(["awk", FSTAB_SWAP_AWK, str(fstab)], capture_output=True, text=True, check=True).stdout
    assert left == ""  # the probe sees no swap line afterwards: the next plan is a no-op
