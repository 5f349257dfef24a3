"""RSA keys made while the spec is still being loaded: the two costs of a fresh PKI, overlapped.

A new PKI costs two things: start-up (importing and validating the spec models, Python work that
holds the GIL, ~0.4 s) and RSA key generation (OpenSSL's prime search, tens of milliseconds a key,
with the GIL released). `start` peeks at the spec file before any of that, and when it asks for RSA
keys and its store is still empty, one background thread generates keys while the main thread
validates; `keys.generate_keys` then takes those keys first. Nothing is written by this module, and
a key nobody takes is dropped with the process: a malformed spec or a store that already has keys
simply means no prefetch.

This module must stay cheap to import: it loads cryptography's RSA and PyYAML, never the spec models.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from khatui.boundedread import read_regular
from khatui.userdirs import pki_dir

RSA_BITS = {"rsa-2048": 2048, "rsa-3072": 3072, "rsa-4096": 4096}
DEFAULT_ALGORITHM = "rsa-2048"
LIMIT = 64
"""Most keys made ahead, whatever the spec (more than one core makes during any start-up)."""
SHARED_KEYS = 4
"""Keys every PKI has: three CAs and the service-account key (`khatui.pki.catalog`)."""
KEYS_PER_ROLE = {"etcd": 3, "control-plane": 3}
"""Leaves per node of a role in `khatui.pki.catalog`: etcd server, peer, healthcheck client; apiserver,
apiserver-etcd-client, front-proxy-client."""
_NOT_RSA = re.compile(rb"""keyAlgorithm["']?\s*:\s*["']?ecdsa-""")
"""An ECDSA spec, recognised without parsing it (a spec nobody prefetches for costs nothing)."""
MAX_PEEK = 1 << 20
"""Larger spec files are refused by validation anyway (khatui.spec.yamlio); no peek at them."""


class KeyPrefetch:
    """Generates up to `limit` RSA keys of `bits` on one daemon thread until taken."""

    def __init__(self, algorithm: str, limit: int) -> None:
        self.algorithm = algorithm
        self._bits = RSA_BITS[algorithm]
        self._limit = limit
        self._keys: list[rsa.RSAPrivateKey] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="khatui-key-prefetch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set() and len(self._keys) < self._limit:
            self._keys.append(rsa.generate_private_key(public_exponent=65537, key_size=self._bits))

    def take(self, count: int) -> list[rsa.RSAPrivateKey]:
        """Stop, and hand over up to `count` keys; waits for the key in progress only when it is wanted."""
        self._stop.set()
        if len(self._keys) < count:
            self._thread.join()
        return self._keys[:count]


_running: KeyPrefetch | None = None


def start(spec_path: str, store_dir: str | None) -> None:
    """Begin prefetching when `spec_path` asks for RSA keys and its PKI store has no files yet."""
    global _running
    peeked = _peek(spec_path, store_dir)
    if peeked is not None:
        _running = KeyPrefetch(*peeked)


def take(algorithm: str, count: int) -> list[rsa.RSAPrivateKey]:
    """Prefetched keys for `algorithm` (at most `count`, each handed out once); [] when none."""
    global _running
    running, _running = _running, None
    if running is None:
        return []
    return running.take(count) if running.algorithm == algorithm else running.take(0)


def wanted(data: Any) -> int:
    """Keys the parsed spec `data` needs (at most `LIMIT`): shared ones plus each node's by role."""
    nodes = (data.get("spec") or {}).get("nodes") or []
    per_node = sum(KEYS_PER_ROLE.get(str(role), 0) for node in nodes for role in (node.get("roles") or []))
    return min(LIMIT, SHARED_KEYS + per_node)


def _peek(spec_path: str, store_dir: str | None) -> tuple[str, int] | None:
    """The spec's RSA algorithm and the keys it wants when its store is empty; None for anything else
    or anything odd (validation proper comes next and reports problems)."""
    import yaml

    try:
        raw = read_regular(spec_path, MAX_PEEK)  # never a FIFO or /dev/zero: validation explains those
        if len(raw) > MAX_PEEK or _NOT_RSA.search(raw):
            return None
        data: Any = yaml.load(raw.decode("utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        algorithm = str(((data.get("spec") or {}).get("pki") or {}).get("keyAlgorithm", DEFAULT_ALGORITHM))
        if algorithm not in RSA_BITS:
            return None
        root = pki_dir(str(data["metadata"]["name"]), store_dir)
        if root.exists() and any(root.iterdir()):
            return None
        return algorithm, wanted(data)
    except Exception:  # noqa: BLE001 - a peek: any problem means no prefetch, and validation explains it
        return None
