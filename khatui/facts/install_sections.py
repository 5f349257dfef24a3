"""The probe's rows about installing on a node: package manager and packages, swap, kernel modules,
free disk, the package lock, the images containerd holds.

Its own module so the probe's main table stays about configuration; `probe.SECTIONS` appends these.
Every command is read-only and prints nothing when its tool is missing. A row's parser is tested
against recorded output of Debian 12, Ubuntu 22.04 and 24.04 and Rocky 9 (tests/facts/fixtures/).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from khatui.facts.distro import MANAGER_FAMILY, Family, names
from khatui.facts.model import NodeFacts
from khatui.quoting import shell as sh

DISK_PATHS = ("/usr/local", "/var/lib/containerd", "/opt")
"""Where binaries, images and CNI plugins go: free space is reported for each (its nearest existing parent)."""
LOCK_FILES = ("/var/lib/dpkg/lock-frontend", "/var/lib/dpkg/lock", "/var/lib/apt/lists/lock", "/var/lib/rpm/.rpm.lock")
"""The package databases' lock files; dpkg, apt and rpm hold them with fcntl locks, which /proc/locks lists."""
SWAP_MARK = "# khatui swap off: "
"""What `node-settings` puts before every swap line of /etc/fstab it turns off."""
FSTAB_SWAP_AWK = '$1 !~ /^#/ && $3 == "swap"'
"""An /etc/fstab line that mounts swap: not a comment, third field `swap` (fstab(5))."""

_KERNEL_DIR = "/lib/modules/$(uname -r)"


def module_name(entry: str) -> str:
    """`kernel/net/netfilter/ipvs/ip_vs_rr.ko.xz` -> `ip_vs_rr` (modprobe treats - and _ alike)."""
    base = entry.strip().rsplit("/", 1)[-1]
    return re.sub(r"\.ko(\..*)?$", "", base).replace("-", "_")


def parse_packages(lines: Sequence[str]) -> dict[str, str]:
    """Installed package -> version from `dpkg-query -W` lines (`status<TAB>name<TAB>version`, only
    status `ii` is installed) or rpm lines (`name<TAB>version`; "no package provides X" is skipped)."""
    found: dict[str, str] = {}
    for line in lines:
        fields = line.rstrip("\n").split("\t")
        if len(fields) == 3 and fields[0].startswith("ii") and fields[2]:
            found[fields[1]] = fields[2]
        elif len(fields) == 2 and fields[0] and fields[1]:
            found.setdefault(fields[0], fields[1])
    return found


def parse_locks(lines: Sequence[str]) -> tuple[str, ...]:
    """`path<TAB>pid<TAB>command` lines -> 'PATH held by COMMAND (pid PID)'."""
    held = []
    for line in lines:
        fields = line.split("\t")
        if len(fields) == 3 and fields[1].isdigit():
            held.append(f"{fields[0]} held by {fields[2].strip() or 'a process'} (pid {fields[1]})")
    return tuple(held)


def parse_disk(lines: Sequence[str]) -> dict[str, int]:
    """`path=KiB available` lines -> path -> MiB available."""
    free = {}
    for line in lines:
        path, sep, kib = line.partition("=")
        if sep and kib.strip().isdigit():
            free[path.strip()] = int(kib) // 1024
    return free


def parse_swap_units(lines: Sequence[str]) -> dict[str, str]:
    """`unit<TAB>state` lines: swap.target's enablement (`static`, `masked`) and each swap unit's ActiveState."""
    return {f[0]: f[1].strip() for f in (line.split("\t") for line in lines) if len(f) == 2 and f[0]}


def _manager(facts: NodeFacts, lines: Sequence[str]) -> NodeFacts:
    found = [line.strip() for line in lines if line.strip() in MANAGER_FAMILY]
    return replace(facts, package_manager=found[0] if found else "none")


def _packages_command() -> str:
    debian = sh.cmd("dpkg-query", "-W", "-f=${db:Status-Abbrev}\\t${Package}\\t${Version}\\n", *names(Family.DEBIAN))
    rhel = " ".join(sh.quote(n) for n in names(Family.RHEL))
    return (
        f"if command -v dpkg-query >/dev/null; then {debian}; elif command -v rpm >/dev/null; then "
        f'for p in {rhel}; do rpm -q --whatprovides --qf "$p\\t%{{VERSION}}-%{{RELEASE}}\\n" "$p"; done; fi'
    )


def lock_command(paths: Sequence[str]) -> str:
    """Who holds a lock on any of `paths` now: one `path<TAB>pid<TAB>command` line each (from /proc/locks,
    matched by inode; a waiting lock's `->` line is skipped)."""
    listed = " ".join(sh.quote(p) for p in paths)
    return (
        f'for f in {listed}; do [ -e "$f" ] || continue; i=$(stat -c %i "$f"); '
        'awk -v i="$i" \'$2 != "->" { n = split($6, a, ":"); if (a[n] == i) print $5 }\' /proc/locks | '
        'while read -r p; do printf \'%s\\t%s\\t%s\\n\' "$f" "$p" "$(cat /proc/$p/comm)"; done; done'
    )


def _disk_command() -> str:
    listed = " ".join(sh.quote(p) for p in DISK_PATHS)
    return (
        f'for p in {listed}; do d=$p; while [ ! -d "$d" ]; do d=$(dirname "$d"); done; '
        'printf \'%s=%s\\n\' "$p" "$(df -Pk "$d" | awk \'NR==2 {print $4}\')"; done'
    )


def _sections() -> tuple[tuple[str, str, Callable[[NodeFacts, list[str]], NodeFacts]], ...]:
    names_of = f"sed 's|.*/||; s|\\.ko.*||' {_KERNEL_DIR}"
    return (
        ("package-manager", "for m in apt-get dnf; do command -v $m >/dev/null && echo $m; done", _manager),
        ("packages", _packages_command(), lambda f, lines: replace(f, packages=parse_packages(lines))),
        (
            "fstab-swap",
            f"awk '{FSTAB_SWAP_AWK}' /etc/fstab",
            lambda f, lines: replace(f, fstab_swap=tuple(line for line in lines if line.strip())),
        ),
        (
            "swap-units",
            "printf 'swap.target\\t%s\\n' \"$(systemctl is-enabled swap.target)\"; "
            "systemctl list-units --type=swap --all --plain --no-legend | awk '{print $1 \"\\t\" $3}'",
            lambda f, lines: replace(f, swap_units=parse_swap_units(lines)),
        ),
        (
            "builtin",
            f"{names_of}/modules.builtin",
            lambda f, lines: replace(f, modules_builtin=frozenset(module_name(x) for x in lines if x.strip())),
        ),
        ("disk", _disk_command(), lambda f, lines: replace(f, disk_free_mib=parse_disk(lines))),
        ("package-locks", lock_command(LOCK_FILES), lambda f, lines: replace(f, package_locks=parse_locks(lines))),
        (
            "images",
            "command -v ctr >/dev/null && ctr -n k8s.io images ls -q 2>/dev/null",
            lambda f, lines: replace(f, images=frozenset(x.strip() for x in lines if x.strip())),
        ),
        (
            "available",
            f"cut -d: -f1 {_KERNEL_DIR}/modules.dep | sed 's|.*/||; s|\\.ko.*||'",
            lambda f, lines: replace(f, modules_available=frozenset(module_name(x) for x in lines if x.strip())),
        ),
    )


ROWS = _sections()
"""(name, command, parser of the lines) of each install row, in script order."""
