"""A throwaway etcd on loopback (the machine's /usr/bin/etcd) and an apiserver registry over it.

Host-side rule tests run the apiserver stand-in's request handling against the real store, not a
fake: a one-member etcd in a temporary folder starts in well under a second.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from khatui_lab.standins.apiserver_registry import Registry
from khatui_lab.standins.apiserver_schema import Schemas
from khatui_lab.standins.apiserver_store import Etcd
from khatui_lab.standins_schemas import schemas_for


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


def registry_on(etcd: Etcd, version: str = "v1.31.4") -> Registry:
    """The apiserver stand-in's registry for Kubernetes `version` over `etcd`."""
    return Registry(etcd, Schemas(json.loads(schemas_for(version))))
