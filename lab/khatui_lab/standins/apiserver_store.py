"""kube-apiserver stand-in: etcd through etcdctl, and bootstrap tokens (Secrets) read from it.

Whichever apiserver the load balancer picks must know the tokens `kubeadm token create` made on the
first control plane, so they cannot live in a file of one node: like every object the stand-in
stores (see `apiserver_registry`) they live in etcd, under /registry/secrets/kube-system/
bootstrap-token-<id> (as JSON, where the real apiserver writes protobuf), reached with etcdctl and
the apiserver's own --etcd-* flags.
"""

from __future__ import annotations

import base64
import datetime
import hmac
import json
import re
import subprocess
from dataclasses import dataclass
from typing import Any

PREFIX = "/registry/secrets/kube-system/"
TOKEN = re.compile(r"^([a-z0-9]{6})\.([a-z0-9]{16})$")


class StoreError(Exception):
    """etcd cannot be reached or refuses; the message names the endpoints."""


@dataclass(frozen=True)
class Etcd:
    """etcd as the apiserver's flags name it (--etcd-servers, --etcd-cafile/certfile/keyfile)."""

    endpoints: str
    ca: str | None = None
    cert: str | None = None
    key: str | None = None

    def _etcdctl(self, *args: str, input: bytes | None = None) -> bytes:
        argv = ["etcdctl", f"--endpoints={self.endpoints}", "--dial-timeout=3s", "--command-timeout=5s"]
        for flag, value in (("cacert", self.ca), ("cert", self.cert), ("key", self.key)):
            if value:
                argv.append(f"--{flag}={value}")
        try:
            result = subprocess.run([*argv, *args], input=input, capture_output=True, timeout=15, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise StoreError(f"etcd at {self.endpoints}: {exc}") from None
        if result.returncode != 0:
            lines = result.stderr.decode(errors="replace").strip().splitlines() or ["no output"]
            raise StoreError(f"etcd at {self.endpoints}: {lines[-1]}")
        return result.stdout

    def get(self, key: str, prefix: bool = False) -> list[bytes]:
        """The values under `key` (every key starting with it when `prefix`)."""
        return [value for value, _revision in self.revisions(key, prefix)]

    def revisions(self, key: str, prefix: bool = False) -> list[tuple[bytes, int]]:
        """(value, modification revision) of `key` (every key starting with it when `prefix`)."""
        args = ["get", key, "-w", "json", *(["--prefix"] if prefix else [])]
        answer = json.loads(self._etcdctl(*args))
        return [(base64.b64decode(kv["value"]), int(kv.get("mod_revision", 0))) for kv in answer.get("kvs") or []]

    def put(self, key: str, value: bytes) -> int:
        """Set `key` (the value goes through stdin: it may be a secret); the store's new revision."""
        answer = json.loads(self._etcdctl("put", key, "-w", "json", input=value) or b"{}")
        return int((answer.get("header") or {}).get("revision", 0))

    def delete(self, key: str) -> bool:
        """Delete `key`; False when it did not exist."""
        return self._etcdctl("del", key).strip() not in (b"", b"0")


def secret_name(token_id: str) -> str:
    """The Secret that holds bootstrap token `token_id`."""
    return f"bootstrap-token-{token_id}"


def data_field(secret: dict[str, Any], key: str) -> str:
    """One `data` entry of a Secret, decoded ('' when absent)."""
    value = (secret.get("data") or {}).get(key)
    return base64.b64decode(value).decode() if value else ""


def expired(secret: dict[str, Any], now: datetime.datetime | None = None) -> bool:
    """True when the token's `expiration` (RFC 3339) has passed."""
    text = data_field(secret, "expiration")
    if not text:
        return False
    when = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when <= (now or datetime.datetime.now(datetime.UTC))


class Tokens:
    """Bootstrap-token Secrets in etcd, for authentication (the registry stores them)."""

    def __init__(self, etcd: Etcd) -> None:
        self.etcd = etcd

    def get(self, name: str) -> dict[str, Any] | None:
        """The Secret `name`, None when absent."""
        values = self.etcd.get(PREFIX + name)
        return json.loads(values[0]) if values else None

    def authenticate(self, bearer: str) -> str | None:
        """The user `system:bootstrap:<id>` when `bearer` is a stored, unexpired token; else None."""
        match = TOKEN.match(bearer)
        if match is None:
            return None
        secret = self.get(secret_name(match.group(1)))
        if secret is None or not hmac.compare_digest(data_field(secret, "token-secret"), match.group(2)):
            return None
        if expired(secret):
            return None
        if data_field(secret, "usage-bootstrap-authentication") != "true":
            return None
        return f"system:bootstrap:{match.group(1)}"
