"""Stand-in for kube-apiserver: health, /version, kubeadm-config and bootstrap tokens over TLS.

It serves with the certificate and key kubeadm's manifest names (`--tls-cert-file`,
`--tls-private-key-file`) on `--secure-port` (`--bind-address`, default all addresses), so load
balancers, the VIP and the certificate's SANs are checked by real TLS clients. It authenticates as
the real one does: a client certificate signed by `--client-ca-file` (groups from its O=), or a
bootstrap token as bearer; health and /version are open to anyone. Its only API objects are
kube-system/kubeadm-config (read by admins and bootstrap tokens, from the file the kubeadm
stand-in writes, so a joining node reads the cluster's configuration through the load balancer)
and bootstrap-token Secrets (admins only; kept in etcd, see `apiserver_store`). Every other flag
is accepted and ignored.
"""

from __future__ import annotations

import json
import ssl
import sys
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .apiserver_store import Etcd, StoreError, Tokens, check_token_secret
from .common import fail, log, parse_flags, version

BOOLEANS = frozenset({"version", "help", "allow-privileged", "enable-bootstrap-token-auth"})
PROGRAM = "kube-apiserver"
CONFIGMAP_PATH = "/api/v1/namespaces/kube-system/configmaps/kubeadm-config"
SECRETS_PATH = "/api/v1/namespaces/kube-system/secrets"
CLUSTER_CONFIG = Path("/etc/kubernetes/khatui-lab-standin/kubeadm-config.yaml")
"""Written by the kubeadm stand-in; served as the kubeadm-config ConfigMap so joins can read it."""
ADMIN_GROUPS = frozenset({"system:masters", "kubeadm:cluster-admins"})
BOOTSTRAPPERS = "system:bootstrappers"


class _Unauthorized(Exception):
    """A bearer token that authenticates no one (HTTP 401)."""


@dataclass(frozen=True)
class User:
    """Who a request comes from."""

    name: str
    groups: frozenset[str]

    @property
    def admin(self) -> bool:
        """True for cluster admins (kubeadm's admin.conf, super-admin.conf)."""
        return bool(self.groups & ADMIN_GROUPS)


ANONYMOUS = User("system:anonymous", frozenset({"system:unauthenticated"}))


def status(code: int, reason: str, message: str) -> dict[str, Any]:
    """A Kubernetes Status object."""
    failed = "Success" if code < 400 else "Failure"
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": failed, "message": message,
            "reason": reason, "code": code}  # fmt: skip


def forbidden(user: User, verb: str, resource: str, name: str = "") -> tuple[int, dict[str, Any]]:
    """403 in the real apiserver's words."""
    what = f'{resource} "{name}"' if name else resource
    return 403, status(
        403,
        "Forbidden",
        f'{what} is forbidden: User "{user.name}" cannot {verb} resource "{resource}" in API group "" '
        'in the namespace "kube-system"',
    )


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
            self._api("GET", path)

    def do_POST(self) -> None:  # noqa: N802
        self._api("POST", self.path.split("?", 1)[0])

    def do_DELETE(self) -> None:  # noqa: N802
        self._api("DELETE", self.path.split("?", 1)[0])

    def _api(self, method: str, path: str) -> None:
        tokens: Tokens | None = getattr(self.server, "tokens", None)
        try:
            user = self._user(tokens)
            code, body = route(method, path, user, tokens, self._body())
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

    def _user(self, tokens: Tokens | None) -> User:
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            name = tokens.authenticate(auth[7:].strip()) if tokens is not None else None
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


def route(method: str, path: str, user: User, tokens: Tokens | None, body: Any) -> tuple[int, dict[str, Any]]:
    """The answer (status code, JSON) to an authenticated API request."""
    if path == CONFIGMAP_PATH and method == "GET":
        if not (user.admin or BOOTSTRAPPERS in user.groups):
            return forbidden(user, "get", "configmaps", "kubeadm-config")
        if not CLUSTER_CONFIG.is_file():
            return 404, status(404, "NotFound", 'configmaps "kubeadm-config" not found')
        return 200, kubeadm_config_map()
    if path != SECRETS_PATH and not path.startswith(SECRETS_PATH + "/"):
        return 404, status(404, "NotFound", f"the server could not find the requested resource ({method} {path})")
    name = path[len(SECRETS_PATH) + 1 :]
    verb = {"GET": "get" if name else "list", "POST": "create", "DELETE": "delete"}[method]
    if not user.admin:
        return forbidden(user, verb, "secrets", name)
    if tokens is None:
        return 503, status(503, "ServiceUnavailable", "khatui lab stand-in: no --etcd-servers to keep secrets in")
    if verb == "list":
        return 200, {"kind": "SecretList", "apiVersion": "v1", "metadata": {}, "items": tokens.list()}
    if verb == "create":
        problem = check_token_secret(body)
        if problem is not None:
            return 422, status(422, "Invalid", problem)
        if not tokens.create(body):
            return 409, status(409, "AlreadyExists", f'secrets "{body["metadata"]["name"]}" already exists')
        return 201, tokens.get(str(body["metadata"]["name"])) or {}
    found = tokens.get(name) if verb == "get" else ({} if tokens.delete(name) else None)
    if found is None:
        return 404, status(404, "NotFound", f'secrets "{name}" not found')
    return 200, found if verb == "get" else status(200, "", f'secrets "{name}" deleted')


class _TLSServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], context: ssl.SSLContext, tokens: Tokens | None) -> None:
        super().__init__(address, _Handler)
        self.context = context
        self.tokens = tokens

    def get_request(self) -> tuple[Any, Any]:
        sock, address = self.socket.accept()
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A failed handshake or a dropped client is normal (probes, wrong CAs): one line, no traceback."""
        log(PROGRAM, f"connection from {client_address[0]} failed: {sys.exc_info()[1]}")


def kubeadm_config_map() -> dict[str, Any]:
    """The kube-system/kubeadm-config ConfigMap, from the kubeadm stand-in's copy."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "kubeadm-config", "namespace": "kube-system"},
        "data": {"ClusterConfiguration": CLUSTER_CONFIG.read_text()},
    }


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
    tokens = None
    if flags.get("etcd-servers"):
        etcd = Etcd(
            flags["etcd-servers"], flags.get("etcd-cafile"), flags.get("etcd-certfile"), flags.get("etcd-keyfile")
        )
        tokens = Tokens(etcd)
    try:
        server = _TLSServer((bind, port), context, tokens)
    except OSError as exc:
        return fail(f"{PROGRAM}: cannot listen on {bind}:{port}: {exc.strerror}")
    log(PROGRAM, f"serving /healthz, /readyz, /version, kubeadm-config and bootstrap tokens on https://{bind}:{port}")
    server.serve_forever()
    return 0
