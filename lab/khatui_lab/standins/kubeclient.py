"""The stand-ins' API client: a kubeconfig's cluster and user, and HTTPS verified with its CA.

Used by kubeadm (token, join discovery) and kubectl. As client-go, it verifies the server's
certificate against the kubeconfig's CA for the server's host (IP SANs included) and presents the
user's client certificate or bearer token. A refused, reset or cut connection is retried until a
deadline: through a load balancer, a just-started apiserver only gets traffic once the balancer's
health checks pass. A certificate the CA does not vouch for is never retried.
"""

from __future__ import annotations

import base64
import errno
import json
import os
import ssl
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

WAIT_SECONDS = 60.0


class ClientError(Exception):
    """The kubeconfig is unusable or the API server cannot be reached; worded for the operator."""


@dataclass(frozen=True)
class Kubeconfig:
    """What a request needs from a kubeconfig: server, CA, and the user's credentials."""

    path: str
    server: str
    ca_pem: bytes
    cert_pem: bytes | None = None
    key_pem: bytes | None = None
    token: str | None = None


@dataclass(frozen=True)
class Reply:
    """An API answer: HTTP status and the decoded JSON body (or the text when it is not JSON)."""

    status: int
    body: Any

    @property
    def message(self) -> str:
        """The Status message of an error answer (else the body as text)."""
        if isinstance(self.body, dict) and self.body.get("message"):
            return str(self.body["message"])
        return str(self.body).strip()


def _bytes(entry: dict[str, Any], data_key: str, file_key: str, where: str) -> bytes | None:
    """`<x>-data` (base64) or the file `<x>` of a kubeconfig entry; None when neither is set."""
    if entry.get(data_key):
        try:
            return base64.b64decode(str(entry[data_key]), validate=True)
        except ValueError:
            raise ClientError(f"{where}: {data_key} is not base64") from None
    if entry.get(file_key):
        try:
            return Path(str(entry[file_key])).read_bytes()
        except OSError as exc:
            raise ClientError(f"{where}: {file_key} {entry[file_key]}: {exc.strerror}") from None
    return None


def _named(items: Any, name: Any, key: str, path: str) -> dict[str, Any]:
    """The `key` mapping of the entry called `name` (the first entry when `name` is empty)."""
    entries = [e for e in items or [] if isinstance(e, dict)]
    chosen = next((e for e in entries if e.get("name") == name or not name), None)
    if not chosen or not isinstance(chosen.get(key), dict):
        raise ClientError(f"{path}: no {key} {name or ''} in the kubeconfig".replace("  ", " "))
    return dict(chosen[key])


def load_kubeconfig(path: str) -> Kubeconfig:
    """Read `path` (current-context, else the first cluster and user); `ClientError` when unusable."""
    try:
        data = yaml.safe_load(Path(path).read_text())
    except FileNotFoundError:
        raise ClientError(f"open {path}: no such file or directory") from None
    except (OSError, yaml.YAMLError) as exc:
        raise ClientError(f"{path}: {exc}") from None
    if not isinstance(data, dict) or data.get("kind") != "Config":
        raise ClientError(f"{path} is not a kubeconfig (kind: Config)")
    context: dict[str, Any] = {}
    if data.get("current-context"):
        context = _named(data.get("contexts"), data["current-context"], "context", path)
    cluster = _named(data.get("clusters"), context.get("cluster"), "cluster", path)
    users = data.get("users") or []
    user = _named(users, context.get("user"), "user", path) if users or context.get("user") else {}
    server = str(cluster.get("server") or "")
    if not server.startswith("https://"):
        raise ClientError(f"{path}: the cluster's server {server!r} is not an https:// URL")
    if cluster.get("insecure-skip-tls-verify"):
        raise ClientError(f"{path}: insecure-skip-tls-verify is not supported by the khatui lab stand-in")
    ca = _bytes(cluster, "certificate-authority-data", "certificate-authority", path)
    if not ca:
        raise ClientError(f"{path}: the cluster has no certificate authority")
    token = user.get("token")
    if not token and user.get("tokenFile"):
        token = Path(str(user["tokenFile"])).read_text().strip()
    return Kubeconfig(
        path,
        server.rstrip("/"),
        ca,
        _bytes(user, "client-certificate-data", "client-certificate", path),
        _bytes(user, "client-key-data", "client-key", path),
        str(token) if token else None,
    )


def tls_context(config: Kubeconfig) -> ssl.SSLContext:
    """A client TLS context trusting only the kubeconfig's CA, with its client certificate."""
    try:
        context = ssl.create_default_context(cadata=config.ca_pem.decode())
    except (ssl.SSLError, ValueError) as exc:
        raise ClientError(f"{config.path}: the certificate authority is not a PEM certificate: {exc}") from None
    if config.cert_pem and config.key_pem:
        with tempfile.TemporaryDirectory() as folder:
            cert, key = os.path.join(folder, "client.crt"), os.path.join(folder, "client.key")
            for file, data in ((cert, config.cert_pem), (key, config.key_pem)):
                with open(os.open(file, os.O_WRONLY | os.O_CREAT, 0o600), "wb") as handle:
                    handle.write(data)
            try:
                context.load_cert_chain(cert, key)
            except (ssl.SSLError, ValueError) as exc:
                raise ClientError(f"{config.path}: unusable client certificate or key: {exc}") from None
    return context


def _transient(reason: object) -> bool:
    """True for failures worth retrying (refused, reset, cut off, timed out, no route while a VIP moves:
    kubeadm's API calls poll through dial errors until their timeout); never a bad certificate."""
    if isinstance(reason, OSError) and reason.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return True
    if isinstance(reason, ssl.SSLCertVerificationError):
        return False
    if isinstance(reason, ssl.SSLError):
        return isinstance(reason, ssl.SSLEOFError | ssl.SSLZeroReturnError)
    return isinstance(reason, ConnectionError | TimeoutError | EOFError)


PATCH_TYPE = "application/strategic-merge-patch+json"
"""What a PATCH body is unless told (client-go's kubelet patches node status so)."""


def request(
    config: Kubeconfig,
    method: str,
    path: str,
    body: Any = None,
    wait: float = WAIT_SECONDS,
    say: Any = None,
    content_type: str | None = None,
) -> Reply:
    """`method path` on the kubeconfig's server; retries transient failures for up to `wait` seconds.

    A body goes as JSON (`content_type` names a patch's kind: merge-patch or strategic-merge-patch)."""
    context = tls_context(config)
    url = config.server + path
    headers = {"Accept": "application/json", "User-Agent": "khatui-lab-stand-in"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = content_type or (PATCH_TYPE if method == "PATCH" else "application/json")
    if config.token:
        headers["Authorization"] = f"Bearer {config.token}"
    deadline = time.monotonic() + wait
    told = False
    while True:
        try:
            with urllib.request.urlopen(
                urllib.request.Request(url, data, headers, method=method), context=context, timeout=10
            ) as answer:
                return Reply(answer.status, _decode(answer.read()))
        except urllib.error.HTTPError as exc:
            return Reply(exc.code, _decode(exc.read()))
        except (urllib.error.URLError, OSError) as exc:
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            if not _transient(reason) or time.monotonic() > deadline:
                raise ClientError(f"cannot reach the API server at {config.server}: {reason}") from None
            if say is not None and not told:
                say(f"[api-client] {config.server} does not answer yet ({reason}); retrying for {wait:.0f} s")
                told = True
            time.sleep(1.0)


def _decode(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return data.decode(errors="replace")
