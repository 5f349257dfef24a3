"""Stand-in for kube-controller-manager: leader election, then the CSR approving and signing controllers.

Like the real one it checks its kubeconfig, then (with `--leader-elect`, default true) takes part
in the election on the coordination.k8s.io/v1 Lease kube-system/kube-controller-manager as
client-go's leaderelection does (`tryAcquireOrRenew`: create the Lease, or take it over when the
holder has not renewed it for leaseDurationSeconds as this process observed it, else renew our
own; `--leader-elect-lease-duration` 15s, `--leader-elect-retry-period` 2s), and runs its
controllers only while it holds the lease: csrapproving and csrsigning (`controller_csr`, signing
with `--cluster-signing-cert-file`/`--cluster-signing-key-file`). Every other controller is not
run. The stand-in's etcd writes are not compare-and-swap (`apiserver_registry`), so two
controller-managers taking over one expired lease at the same instant could both lead once.
"""

from __future__ import annotations

import signal
import socket
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import controller_csr
from .common import component_flags, fail, log
from .kubeadm_token import TokenError, ttl_seconds
from .kubeclient import ClientError, Reply, load_kubeconfig, request

PROGRAM = "kube-controller-manager"
LEASE = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases"
NAME = "kube-controller-manager"


def micro_time() -> str:
    """metav1.MicroTime now (RFC 3339 with microseconds, UTC)."""
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1e6):06d}Z"


@dataclass
class Elector:
    """One candidate of the election (see the module docstring)."""

    api: controller_csr.Api
    identity: str
    duration: int = 15
    observed: tuple[Any, float] | None = None
    """(the lease spec last seen, when this process first saw it so)."""

    def try_acquire_or_renew(self, now: float) -> bool:
        """One round: True when this candidate holds the lease afterwards."""
        reply = self.api("GET", f"{LEASE}/{NAME}", None)
        stamp = micro_time()
        mine = {"holderIdentity": self.identity, "leaseDurationSeconds": self.duration, "renewTime": stamp}
        if reply.status == 404:
            lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                     "metadata": {"name": NAME, "namespace": "kube-system"},
                     "spec": {**mine, "acquireTime": stamp, "leaseTransitions": 0}}  # fmt: skip
            return self.api("POST", LEASE, lease).status < 300
        if reply.status >= 300 or not isinstance(reply.body, dict):
            return False
        lease, spec = reply.body, dict(reply.body.get("spec") or {})
        if self.observed is None or self.observed[0] != spec:
            self.observed = (spec, now)
        holder = spec.get("holderIdentity")
        expired = self.observed[1] + float(spec.get("leaseDurationSeconds") or self.duration) <= now
        if holder and holder != self.identity and not expired:
            return False
        if holder != self.identity:
            mine |= {"acquireTime": stamp, "leaseTransitions": int(spec.get("leaseTransitions") or 0) + 1}
        updated = self.api("PUT", f"{LEASE}/{NAME}", {**lease, "spec": {**spec, **mine}})
        if updated.status < 300 and isinstance(updated.body, dict):
            self.observed = (updated.body.get("spec"), now)
        return updated.status < 300


def reconcile(api: controller_csr.Api, ca_cert: Path, ca_key: Path, duration: int) -> list[str]:
    """One pass of csrapproving then csrsigning over every CSR; what they did."""
    reply = api("GET", controller_csr.CSRS, None)
    if reply.status >= 300 or not isinstance(reply.body, dict):
        return [f"cannot list certificatesigningrequests: {reply.message}"]
    done = []
    for csr in reply.body.get("items") or []:
        done.append(controller_csr.approve(api, csr))
        fresh = api("GET", f"{controller_csr.CSRS}/{csr['metadata']['name']}", None)
        if fresh.status == 200 and isinstance(fresh.body, dict):
            done.append(controller_csr.sign(api, fresh.body, ca_cert, ca_key, duration))
    return [line for line in done if line]


def main(argv: list[str]) -> int:
    """Run until SIGTERM."""
    flags, code = component_flags(argv, PROGRAM)
    if code is not None:
        return code
    try:
        config = load_kubeconfig(flags["kubeconfig"])
        duration = int(ttl_seconds(flags.get("cluster-signing-duration", "8760h")))
        retry = ttl_seconds(flags.get("leader-elect-retry-period", "2s"))
        lease = int(ttl_seconds(flags.get("leader-elect-lease-duration", "15s")))
    except (ClientError, TokenError) as exc:
        return fail(f"{PROGRAM}: {exc}")
    ca_cert = Path(flags.get("cluster-signing-cert-file", "/etc/kubernetes/ca/ca.pem"))
    ca_key = Path(flags.get("cluster-signing-key-file", "/etc/kubernetes/ca/ca.key"))

    def api(method: str, path: str, body: Any) -> Reply:
        try:
            return request(config, method, path, body, wait=5.0)
        except ClientError as exc:
            return Reply(503, {"message": str(exc)})

    elector = Elector(api, f"{socket.gethostname()}_{uuid.uuid4()}", lease)
    elect = flags.get("leader-elect", "true") == "true"
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(0))
    log(PROGRAM, f"leader-elect={str(elect).lower()}; controllers: csrapproving, csrsigning (others not run)")
    leading, said = False, set[str]()
    while True:
        now_leading = elector.try_acquire_or_renew(time.monotonic()) if elect else True
        if now_leading != leading:
            log(PROGRAM, f"{'successfully acquired' if now_leading else 'lost'} lease kube-system/{NAME} "
                f"as {elector.identity}")  # fmt: skip
            leading = now_leading
        if leading:
            lines = set(reconcile(api, ca_cert, ca_key, duration))
            for line in sorted(lines - said):
                log(PROGRAM, line)
            said = lines
        time.sleep(retry)
