"""What every stand-in shares: its version, flag parsing in Kubernetes' style, logging."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

DEFAULT_VERSION = "v1.31.4"
VERSION_FILE = Path(__file__).with_name("VERSION")
"""Written by `install_standins`: the Kubernetes version the stand-ins claim to be."""


def version() -> str:
    """The Kubernetes version these stand-ins report (e.g. 'v1.31.4')."""
    try:
        return VERSION_FILE.read_text().strip() or DEFAULT_VERSION
    except OSError:
        return DEFAULT_VERSION


def parse_flags(argv: list[str], booleans: frozenset[str] = frozenset()) -> tuple[dict[str, str], list[str]]:
    """Kubernetes-style flags: `--name=value`, `--name value`, bare `--flag` for `booleans`, and `-v N`.

    Returns (flags without their dashes, positional arguments). The last occurrence of a flag wins.
    """
    flags: dict[str, str] = {}
    positional: list[str] = []
    index = 0
    while index < len(argv):
        arg = argv[index]
        index += 1
        if not arg.startswith("-") or arg == "-":
            positional.append(arg)
            continue
        name, has_value, value = arg.lstrip("-").partition("=")
        if not has_value:
            if name in booleans:
                value = "true"
            elif index < len(argv):
                value = argv[index]
                index += 1
            else:
                raise SystemExit(fail(f"flag needs an argument: {arg}"))
        flags[name] = value
    return flags, positional


def fail(message: str) -> int:
    """Print `message` as an error (kubeadm style) and return the exit code 1."""
    print(f"error: {message}", file=sys.stderr)
    return 1


def log(program: str, message: str) -> None:
    """One log line on stderr (journald keeps it for stand-ins run as services)."""
    print(f"[{program} khatui-lab-stand-in] {message}", file=sys.stderr, flush=True)


def default_address() -> str:
    """The address of the default route's interface: kubeadm's default advertise address, and the
    kubelet's node IP without --node-ip."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("10.255.255.255", 9))
            return str(sock.getsockname()[0])
        except OSError:
            return "127.0.0.1"


def component_flags(argv: list[str], program: str) -> tuple[dict[str, str], int | None]:
    """A control-plane component's flags, and the exit code when it stops at once: 0 after printing
    --version, 1 without a --kubeconfig file (None: run on)."""
    flags, _positional = parse_flags(argv, frozenset({"version", "help"}))
    if "version" in flags:
        print(f"Kubernetes {version()} (khatui lab stand-in)")
        return flags, 0
    kubeconfig = flags.get("kubeconfig")
    if kubeconfig is None:
        return flags, fail(f"{program}: --kubeconfig is required (khatui lab stand-in)")
    if not Path(kubeconfig).is_file():
        return flags, fail(f"{program}: --kubeconfig {kubeconfig}: no such file")
    return flags, None
