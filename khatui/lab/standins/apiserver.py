"""Stand-in for kube-apiserver: /healthz, /livez, /readyz, /version (and kubeadm-config) over TLS.

It serves with the certificate and key kubeadm's manifest names (`--tls-cert-file`,
`--tls-private-key-file`) on `--secure-port` (`--bind-address`, default all addresses), so load
balancers, the VIP and the certificate's SANs are checked by real TLS clients. Every other
kube-apiserver flag is accepted and ignored; no client certificate is asked for. The one API
object it serves is kube-system/kubeadm-config, from the file the kubeadm stand-in writes, so a
joining control plane reads the cluster's configuration through the load balancer as with kubeadm.
"""

from __future__ import annotations

import json
import ssl
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .common import fail, log, parse_flags, version

BOOLEANS = frozenset({"version", "help", "allow-privileged", "enable-bootstrap-token-auth"})
PROGRAM = "kube-apiserver"
CONFIGMAP_PATH = "/api/v1/namespaces/kube-system/configmaps/kubeadm-config"
CLUSTER_CONFIG = Path("/etc/kubernetes/khatui-lab-standin/kubeadm-config.yaml")
"""Written by the kubeadm stand-in; served as the kubeadm-config ConfigMap so joins can read it."""


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
        elif path == CONFIGMAP_PATH and CLUSTER_CONFIG.is_file():
            self._reply(200, "application/json", json.dumps(kubeadm_config_map()).encode())
        elif path == "/version":
            self._reply(200, "application/json", json.dumps(version_info(), indent=2).encode())
        else:
            self._reply(
                404, "text/plain", b"404 page not found (khatui lab stand-in serves /healthz, /readyz, /version)\n"
            )

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

    def __init__(self, address: tuple[str, int], context: ssl.SSLContext) -> None:
        super().__init__(address, _Handler)
        self.context = context

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


def tls_context(cert: str, key: str) -> ssl.SSLContext:
    """A server TLS context from PEM files; SystemExit with a clear message when they are unusable."""
    for label, path in (("--tls-cert-file", cert), ("--tls-private-key-file", key)):
        if not Path(path).is_file():
            raise SystemExit(fail(f"{PROGRAM}: {label} {path}: no such file"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except (ssl.SSLError, ValueError) as exc:
        raise SystemExit(fail(f"{PROGRAM}: cannot load {cert} with {key}: {exc}")) from None
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
    context = tls_context(cert, key)
    bind = flags.get("bind-address", "0.0.0.0")
    try:
        server = _TLSServer((bind, port), context)
    except OSError as exc:
        return fail(f"{PROGRAM}: cannot listen on {bind}:{port}: {exc.strerror}")
    log(PROGRAM, f"serving /healthz, /readyz, /version on https://{bind}:{port}")
    server.serve_forever()
    return 0
