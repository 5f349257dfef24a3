"""Stand-in for kube-scheduler: checks its kubeconfig, then idles.

It schedules nothing (no pod is ever placed); what the lab can check is that the static pod
kubeadm wrote starts the right program with leader election on and a kubeconfig that exists.
kube-controller-manager has its own stand-in (`controller_manager`).
"""

from __future__ import annotations

import signal
import sys
import time

from .common import component_flags, log


def main(argv: list[str], program: str) -> int:
    """Run as `program` (kube-scheduler) with `argv`."""
    flags, code = component_flags(argv, program)
    if code is not None:
        return code
    log(program, f"leader-elect={flags.get('leader-elect', 'true')}; idling (no API server to work with)")
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(0))
    while True:
        time.sleep(3600)
