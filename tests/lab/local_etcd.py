"""A throwaway etcd on loopback (the machine's /usr/bin/etcd) and an apiserver registry over it.

Host-side rule tests run the apiserver stand-in's request handling against the real store, not a
fake: a one-member etcd in a temporary folder starts in well under a second.
"""

from __future__ import annotations

import copy
import json
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from khatui_lab.standins.apiserver_api import route
from khatui_lab.standins.apiserver_registry import Registry
from khatui_lab.standins.apiserver_schema import Schemas
from khatui_lab.standins.apiserver_store import Etcd
from khatui_lab.standins.kubeclient import PATCH_TYPE, Reply
from khatui_lab.standins_schemas import schemas_for

ADMINS = frozenset({"kubeadm:cluster-admins", "system:authenticated"})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def local_etcd(folder: Path) -> Iterator[Etcd]:
    """An etcd serving http://127.0.0.1:<free port> from `folder`, stopped afterwards."""
    client, peer = _free_port(), _free_port()
    endpoint = f"http://127.0.0.1:{client}"
    process = subprocess.Popen(
        ["etcd", "--data-dir", str(folder / "etcd"), "--listen-client-urls", endpoint, "--advertise-client-urls",
         endpoint, "--listen-peer-urls", f"http://127.0.0.1:{peer}", "--initial-advertise-peer-urls",
         f"http://127.0.0.1:{peer}", "--initial-cluster", f"default=http://127.0.0.1:{peer}"],
        stdout=subprocess.DEVNULL, stderr=(folder / "etcd.log").open("wb"),
    )  # fmt: skip
    etcd = Etcd(endpoint)
    try:
        for _ in range(100):
            try:
                etcd.get("/health-probe")
                break
            except Exception:
                time.sleep(0.1)
        yield etcd
    finally:
        process.terminate()
        process.wait(10)


def schemas(version: str = "v1.31.4") -> Schemas:
    """The schemas the stand-ins get for Kubernetes `version`."""
    return Schemas(json.loads(schemas_for(version)))


def fresh_registry(etcd: Etcd, schemas: Schemas) -> Registry:
    """A new apiserver registry over `etcd`, every object stored before deleted."""
    subprocess.run(["etcdctl", f"--endpoints={etcd.endpoints}", "del", "--prefix", "/registry/"], check=True,
                   capture_output=True)  # fmt: skip
    return Registry(etcd, schemas)


def admin_api(registry: Registry) -> Callable[..., Reply]:
    """The kubectl stand-in's `api` served by `registry`'s request handling, as a cluster admin."""

    def api(method: str, path: str, body: Any = None, content_type: str | None = None) -> Reply:
        kind = content_type or (PATCH_TYPE if method == "PATCH" else "application/json")
        code, answer = route(method, path, "kubernetes-admin", ADMINS, registry, copy.deepcopy(body), kind)
        return Reply(code, answer)

    return api


SCHEMAS = schemas()
"""v1.31's, what the lab's stand-ins claim to be."""
