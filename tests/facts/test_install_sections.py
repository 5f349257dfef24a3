"""The install rows' commands run for real where they can: the lock probe against an fcntl lock held
by another process (as dpkg and rpm hold theirs), the fstab rule against a file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from khatui.facts.install_sections import FSTAB_SWAP_AWK, lock_command, parse_locks

HOLD = "import fcntl, sys, time; f = open(sys.argv[1], 'w'); fcntl.lockf(f, fcntl.LOCK_EX); print('held', flush=True); time.sleep(60)"


def test_lock_probe_names_the_holder_of_an_fcntl_lock(tmp_path: Path) -> None:
    held, free = tmp_path / "lock-frontend", tmp_path / "lock"
    free.touch()
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(held)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        out = subprocess.run(
            ["sh", "-c", lock_command([str(held), str(free), str(tmp_path / "absent")])],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        holder.kill()
        holder.wait()
    (found,) = parse_locks(out.splitlines())  # the free lock and the absent file are not reported
    assert found.startswith(f"{held} held by python") and found.endswith(f"(pid {holder.pid})")


def test_fstab_rule_picks_swap_lines_only(tmp_path: Path) -> None:
    fstab = tmp_path / "fstab"
    fstab.write_text(
        "# /swap.img none swap sw 0 0\nUUID=1 / ext4 defaults 0 1\n/swap.img\tnone\tswap\tsw\t0\t0\n"
        "/dev/sdb1 /srv/swap ext4 defaults 0 2\n"
    )
    out = subprocess.run(["awk", FSTAB_SWAP_AWK, str(fstab)], capture_output=True, text=True, check=True).stdout
    assert out == "/swap.img\tnone\tswap\tsw\t0\t0\n"
