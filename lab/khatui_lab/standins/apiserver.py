"""Stand-in for kube-apiserver: health, /version and an object store in etcd, over TLS.

It serves with the certificate and key kubeadm's manifest names (`--tls-cert-file`,
`--tls-private-key-file`) on `--secure-port` (`--bind-address`, default all addresses), so load
balancers, the VIP and the certificate's SANs are checked by real TLS clients. It authenticates as
the real one does: a client certificate signed by `--client-ca-file` (groups from its O=), or a
bootstrap token as bearer; health and /version are open to anyone. The API (`apiserver_api`)
stores every object in etcd (`apiserver_registry`), validated against the schemas of the
cluster's version (`apiserver_schema`); kube-system/kubeadm-config is served from the file the
kubeadm stand-in writes until one is stored, so a joining node reads the cluster's configuration
through the load balancer. Every other flag is accepted and ignored.
"""

from __future__ import annotations

import json
import ssl
import sys
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .apiserver_api import route
from .apiserver_authz import BOOTSTRAPPERS
from .apiserver_registry import Registry, status
from .apiserver_schema import Schemas
from .apiserver_store import Etcd, StoreError, Tokens
from .common import fail, log, parse_flags, version

BOOLEANS = frozenset({"version", "help", "allow-privileged", "enable-bootstrap-token-auth"})
PROGRAM = "kube-apiserver"


class _Unauthorized(Exception):
    """A bearer token that authenticates no one (HTTP 401)."""


@dataclass(frozen=True)
class User:
    """Who a request comes from."""

    name: str
    groups: frozenset[str]


ANONYMOUS = User("system:anonymous", frozenset({"system:unauthenticated"}))


class _Handler(BaseHTTPRequestHandler):
    server_version = "khatui-lab-kube-apiserver"

    def setup(self) -> None:
        # The TLS handshake happens here, in the connection's thread: a client that connects and
        # says nothing (a TCP health check) must not stall the accept loop.
        self.request.settimeout(10)
        self.request.do_handshake()
        super().setup()

    def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
        path = self.path.split("?", 1)[0]
        if path in ("/healthz", "/livez", "/readyz"):
            self._reply(200, "text/plain", b"ok")
        elif path == "/version":
            self._reply(200, "application/json", json.dumps(version_info(), indent=2).encode())
        else:
            self._api("GET", self.path)

    def do_POST(self) -> None:  # noqa: N802
        self._api("POST", self.path)

    def do_PUT(self) -> None:  # noqa: N802
        self._api("PUT", self.path)

    def do_PATCH(self) -> None:  # noqa: N802
        self._api("PATCH", self.path)

    def do_DELETE(self) -> None:  # noqa: N802
        self._api("DELETE", self.path)

    def _api(self, method: str, path: str) -> None:
        registry: Registry | None = getattr(self.server, "registry", None)
        try:
            user = self._user(registry)
            if registry is None:
                raise StoreError("no --etcd-servers to keep objects in")
            content_type = self.headers.get("Content-Type", "application/json")
            code, body = route(method, path, user.name, user.groups, registry, self._body(), content_type)
        except _Unauthorized:
            code, body = 401, status(401, "Unauthorized", "Unauthorized")
        except StoreError as exc:
            code, body = 503, status(503, "ServiceUnavailable", f"khatui lab stand-in: {exc}")
        except ValueError:
            code, body = 400, status(400, "BadRequest", "the request body is not JSON")
        self._reply(code, "application/json", json.dumps(body).encode())

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length)) if length else None

    def _user(self, registry: Registry | None) -> User:
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            name = Tokens(registry.etcd).authenticate(auth[7:].strip()) if registry is not None else None
            if name is None:
                raise _Unauthorized
            return User(name, frozenset({BOOTSTRAPPERS, "system:bootstrappers:kubeadm:default-node-token"}))
        cert = self.request.getpeercert()
        if not cert:
            return ANONYMOUS
        subject = [attr for rdn in cert.get("subject", ()) for attr in rdn]
        name = next((value for key, value in subject if key == "commonName"), "")
        return User(name, frozenset(value for key, value in subject if key == "organizationName"))

    def _reply(self, code: int, content_type: str, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Requests are not logged (health probes would flood the log)."""


class _TLSServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], context: ssl.SSLContext, registry: Registry | None) -> None:
        super().__init__(address, _Handler)
        self.context = context
        self.registry = registry

    def get_request(self) -> tuple[Any, Any]:
        sock, address = self.socket.accept()
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A failed handshake or a dropped client is normal (probes, wrong CAs): one line, no traceback."""
        log(PROGRAM, f"connection from {client_address[0]} failed: {sys.exc_info()[1]}")


def version_info() -> dict[str, str]:
    """The /version document."""
    text = version()
    major, minor = text.lstrip("v").split(".")[:2]
    return {
        "major": major,
        "minor": minor,
        "gitVersion": text,
        "gitCommit": "khatui-lab-stand-in",
        "gitTreeState": "clean",
        "buildDate": "1970-01-01T00:00:00Z",
        "goVersion": "none (khatui lab stand-in)",
        "compiler": "none",
        "platform": sys.platform,
    }


def tls_context(cert: str, key: str, client_ca: str | None = None) -> ssl.SSLContext:
    """A server TLS context from PEM files, asking for (not requiring) a client certificate signed by
    `client_ca`; SystemExit with a clear message when the files are unusable."""
    for label, path in (("--tls-cert-file", cert), ("--tls-private-key-file", key)):
        if not Path(path).is_file():
            raise SystemExit(fail(f"{PROGRAM}: {label} {path}: no such file"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except (ssl.SSLError, ValueError) as exc:
        raise SystemExit(fail(f"{PROGRAM}: cannot load {cert} with {key}: {exc}")) from None
    if client_ca:
        try:
            context.load_verify_locations(cafile=client_ca)
        except (OSError, ssl.SSLError) as exc:
            raise SystemExit(fail(f"{PROGRAM}: --client-ca-file {client_ca}: {exc}")) from None
        context.verify_mode = ssl.CERT_OPTIONAL
    return context


def main(argv: list[str]) -> int:
    """Serve until killed."""
    flags, _positional = parse_flags(argv, BOOLEANS)
    if "version" in flags:
        print(f"Kubernetes {version()} (khatui lab stand-in)")
        return 0
    cert, key = flags.get("tls-cert-file"), flags.get("tls-private-key-file")
    if not cert or not key:
        return fail(f"{PROGRAM}: --tls-cert-file and --tls-private-key-file are required (khatui lab stand-in)")
    try:
        port = int(flags.get("secure-port", "6443"))
    except ValueError:
        return fail(f"{PROGRAM}: --secure-port {flags['secure-port']!r} is not a port")
    context = tls_context(cert, key, flags.get("client-ca-file"))
    bind = flags.get("bind-address", "0.0.0.0")
    try:
        schemas = Schemas.load()
    except (OSError, ValueError) as exc:
        return fail(f"{PROGRAM}: no Kubernetes schemas beside the stand-in ({exc}); install it with khatui lab")
    registry = None
    if flags.get("etcd-servers"):
        etcd = Etcd(
            flags["etcd-servers"], flags.get("etcd-cafile"), flags.get("etcd-certfile"), flags.get("etcd-keyfile")
        )
        registry = Registry(etcd, schemas)
    try:
        server = _TLSServer((bind, port), context, registry)
    except OSError as exc:
        return fail(f"{PROGRAM}: cannot listen on {bind}:{port}: {exc.strerror}")
    log(PROGRAM, f"serving /healthz, /readyz, /version and the {schemas.version} API on https://{bind}:{port}")
    server.serve_forever()
    return 0
