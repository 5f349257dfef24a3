"""kubeadm stand-in: the preflight checks kubeadm runs before init and join, by kubeadm's names.

Each check gives (name, problem or None); `--ignore-preflight-errors` takes those names (or `all`)
and turns the matching errors into warnings, as kubeadm does.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path


def say(message: str) -> None:
    """A kubeadm-style progress line."""
    print(message, flush=True)


class PreflightError(Exception):
    """Some checks failed and were not ignored."""


def preflight(checks: list[tuple[str, str | None]], ignored: set[str]) -> None:
    """Fail with every failed check not ignored (`all` ignores everything), as kubeadm's preflight."""
    say("[preflight] Running pre-flight checks")
    errors = []
    for name, problem in checks:
        if problem is None:
            continue
        if "all" in ignored or name.lower() in ignored:
            print(f"\t[WARNING {name}]: {problem}", file=sys.stderr)
        else:
            errors.append(f"\t[ERROR {name}]: {problem}")
    if errors:
        raise PreflightError(
            "preflight: [preflight] Some fatal errors occurred:\n" + "\n".join(errors) + "\n"
            "[preflight] If you know what you are doing, you can make a check non-fatal with `--ignore-preflight-errors=...`"
        )


def file_available(path: Path) -> tuple[str, str | None]:
    """kubeadm's FileAvailable check: the file must not exist yet."""
    name = "FileAvailable-" + str(path).replace("/", "-")
    return name, f"{path} already exists" if path.exists() else None


def port_open(port: int) -> tuple[str, str | None]:
    """kubeadm's Port check: nothing may listen on `port`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", port))
        except OSError:
            return f"Port-{port}", f"Port {port} is in use"
    return f"Port-{port}", None


def privileged() -> tuple[str, str | None]:
    """kubeadm's IsPrivilegedUser check."""
    return "IsPrivilegedUser", None if os.geteuid() == 0 else "user is not running as root"


def dir_busy(path: Path) -> str | None:
    """kubeadm's DirAvailable check: the folder must be absent or empty."""
    if path.is_dir() and any(path.iterdir()):
        return f"{path} is not empty"
    return None
