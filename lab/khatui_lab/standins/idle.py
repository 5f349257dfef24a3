"""Stand-in for kube-scheduler: checks its kubeconfig, then idles.

It schedules nothing (no pod is ever placed); what the lab can check is that the static pod
kubeadm wrote starts the right program with leader election on and a kubeconfig that exists.
kube-controller-manager has its own stand-in (`controller_manager`).
"""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

from .common import fail, log, parse_flags, version

BOOLEANS = frozenset({"version", "help"})


def main(argv: list[str], program: str) -> int:
    """Run as `program` (kube-scheduler) with `argv`."""
    flags, _positional = parse_flags(argv, BOOLEANS)
    if "version" in flags:
        print(f"Kubernetes {version()} (khatui lab stand-in)")
        return 0
    kubeconfig = flags.get("kubeconfig")
    if kubeconfig is None:
        return fail(f"{program}: --kubeconfig is required (khatui lab stand-in)")
    if not Path(kubeconfig).is_file():
        return fail(f"{program}: --kubeconfig {kubeconfig}: no such file")
    log(program, f"leader-elect={flags.get('leader-elect', 'true')}; idling (no API server to work with)")
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(0))
    while True:
        time.sleep(3600)
