"""kubeadm stand-in: `kubeadm token create|delete|list|generate`, through the API as kubeadm does.

A bootstrap token is a Secret `bootstrap-token-<id>` in kube-system, created with the admin
kubeconfig (`--kubeconfig`, default /etc/kubernetes/admin.conf) through its server, i.e. the load
balancer. The apiserver stand-in keeps these Secrets in etcd, so every apiserver behind the load
balancer knows the token when a node joins with it. Messages and exit codes follow kubeadm's.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import re
import secrets
import sys
from collections.abc import Callable
from typing import Any

from .common import fail
from .kubeclient import ClientError, Kubeconfig, Reply, load_kubeconfig, request

ADMIN = "/etc/kubernetes/admin.conf"
SECRETS = "/api/v1/namespaces/kube-system/secrets"
TOKEN = re.compile(r"^([a-z0-9]{6})\.([a-z0-9]{16})$")
TOKEN_ID = re.compile(r"^[a-z0-9]{6}$")
DEFAULT_GROUP = "system:bootstrappers:kubeadm:default-node-token"
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION = re.compile(r"([0-9]+(?:\.[0-9]*)?)(ns|us|µs|ms|s|m|h)")


class TokenError(Exception):
    """kubeadm token failed; the message is kubeadm's."""


def add_parser(sub: Any) -> None:
    """`kubeadm token ...` on kubeadm's command line."""
    token = sub.add_parser("token").add_subparsers(dest="token_command", required=True)
    create = token.add_parser("create")
    create.add_argument("token", nargs="?")
    create.add_argument("--ttl", default="24h0m0s")
    create.add_argument("--description", default="")
    delete = token.add_parser("delete")
    delete.add_argument("ids", nargs="+", metavar="TOKEN-ID")
    listing = token.add_parser("list")
    listing.add_argument("-o", "--output", choices=("text",), default="text")
    token.add_parser("generate")
    for command in (create, delete, listing):
        command.add_argument("--kubeconfig", default=ADMIN)
        command.add_argument("--v", "-v", dest="verbosity", type=int, default=0)


def run(args: argparse.Namespace) -> int:
    """Run `kubeadm token <args.token_command>`; 0 on success, 1 with kubeadm's message otherwise."""
    try:
        if args.token_command == "generate":
            print(generate())
        elif args.token_command == "create":
            print(create(_client(args.kubeconfig), args.token or generate(), args.ttl, args.description))
        elif args.token_command == "delete":
            client = _client(args.kubeconfig)
            for token_id in args.ids:
                print(delete(client, token_id))
        else:
            print(table(list_tokens(_client(args.kubeconfig))), end="")
    except (TokenError, ClientError) as exc:
        return fail(str(exc))
    return 0


def _client(path: str) -> Kubeconfig:
    try:
        return load_kubeconfig(path)
    except ClientError as exc:
        raise TokenError(f"failed to load admin kubeconfig: {exc}") from None


def generate() -> str:
    """A random token `[a-z0-9]{6}.[a-z0-9]{16}`."""
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return (
        "".join(secrets.choice(alphabet) for _ in range(6)) + "." + "".join(secrets.choice(alphabet) for _ in range(16))
    )


def ttl_seconds(text: str) -> float:
    """A Go duration ('2h', '1h30m', '0') in seconds; `TokenError` when malformed."""
    if text == "0":
        return 0.0
    parts = _DURATION.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        raise TokenError(f'invalid argument "{text}" for "--ttl" flag: time: invalid duration "{text}"')
    return sum(float(number) * _UNITS[unit] for number, unit in parts)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _call(client: Kubeconfig, method: str, path: str, body: Any = None) -> Reply:
    return request(client, method, path, body, say=lambda line: print(line, file=sys.stderr))


def create(client: Kubeconfig, token: str, ttl: str, description: str = "") -> str:
    """Create the Secret of `token` (expiring after `ttl`, never for 0); returns the token."""
    match = TOKEN.match(token)
    if match is None:
        raise TokenError(f'the token "{token}" was not of the form "\\A([a-z0-9]{{6}})\\.([a-z0-9]{{16}})\\z"')
    seconds = ttl_seconds(ttl)
    data = {
        "token-id": match.group(1),
        "token-secret": match.group(2),
        "usage-bootstrap-authentication": "true",
        "usage-bootstrap-signing": "true",
        "auth-extra-groups": DEFAULT_GROUP,
    }
    if seconds > 0:
        expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=seconds)
        data["expiration"] = expires.strftime("%Y-%m-%dT%H:%M:%SZ")
    if description:
        data["description"] = description
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": f"bootstrap-token-{match.group(1)}", "namespace": "kube-system"},
        "type": "bootstrap.kubernetes.io/token",
        "data": {key: _b64(value) for key, value in data.items()},
    }
    reply = _call(client, "POST", SECRETS, secret)
    if reply.status == 409:
        raise TokenError(f'failed to create or update bootstrap token with name "bootstrap-token-{match.group(1)}": '
                         f'a token with id "{match.group(1)}" already exists')  # fmt: skip
    if reply.status != 201:
        raise TokenError(f"failed to create bootstrap token: {reply.message} (HTTP {reply.status})")
    return token


def delete(client: Kubeconfig, token_id: str) -> str:
    """Delete the token `token_id` (an id or a whole token); returns kubeadm's message."""
    match = TOKEN.match(token_id)
    token_id = match.group(1) if match else token_id
    if not TOKEN_ID.match(token_id):
        raise TokenError(
            'given token didn\'t match pattern "^(?P<token_id>[a-z0-9]{6})$" or "^([a-z0-9]{6})\\.([a-z0-9]{16})$"'
        )
    name = f"bootstrap-token-{token_id}"
    reply = _call(client, "DELETE", f"{SECRETS}/{name}")
    if reply.status != 200:
        raise TokenError(f'failed to delete bootstrap token with name "{name}": {reply.message}')
    return f'bootstrap token "{token_id}" deleted'


def list_tokens(client: Kubeconfig) -> list[dict[str, Any]]:
    """Every bootstrap-token Secret."""
    reply = _call(client, "GET", f"{SECRETS}?fieldSelector=type%3Dbootstrap.kubernetes.io%2Ftoken")
    if reply.status != 200 or not isinstance(reply.body, dict):
        raise TokenError(f"failed to list bootstrap tokens: {reply.message} (HTTP {reply.status})")
    return [item for item in reply.body.get("items") or [] if isinstance(item, dict)]


def _field(secret: dict[str, Any], key: str) -> str:
    value = (secret.get("data") or {}).get(key)
    return base64.b64decode(value).decode() if value else ""


def _short(seconds: float) -> str:
    """apimachinery's ShortHumanDuration (`45s`, `59m`, `1h`, `3d`), as `kubeadm token list` prints TTLs."""
    if seconds < -1:
        return "<invalid>"
    for limit, unit, size in ((60, "s", 1), (3600, "m", 60), (86400, "h", 3600), (31536000, "d", 86400)):
        if seconds < limit:
            return f"{max(0, int(seconds // size))}{unit}"
    return f"{int(seconds // 31536000)}y"


def table(tokens: list[dict[str, Any]]) -> str:
    """`kubeadm token list`'s table."""
    rows = [("TOKEN", "TTL", "EXPIRES", "USAGES", "DESCRIPTION", "EXTRA GROUPS")]
    now = datetime.datetime.now(datetime.UTC)
    for secret in tokens:
        expiration = _field(secret, "expiration")
        ttl, expires = "<forever>", "<never>"
        if expiration:
            when = datetime.datetime.fromisoformat(expiration.replace("Z", "+00:00"))
            ttl, expires = _short((when - now).total_seconds()), expiration
        usages = [u for u in ("authentication", "signing") if _field(secret, f"usage-bootstrap-{u}") == "true"]
        rows.append((
            f"{_field(secret, 'token-id')}.{_field(secret, 'token-secret')}", ttl, expires, ",".join(usages),
            _field(secret, "description") or "<none>", _field(secret, "auth-extra-groups") or "<none>",
        ))  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "".join(
        "   ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() + "\n" for row in rows
    )


NODE_BOOTSTRAP_RBAC = (
    ("kubeadm:get-nodes", "kubeadm:get-nodes", DEFAULT_GROUP,
     "Configured RBAC rules to allow Node Bootstrap tokens to get nodes"),
    ("kubeadm:kubelet-bootstrap", "system:node-bootstrapper", DEFAULT_GROUP,
     "Configured RBAC rules to allow Node Bootstrap tokens to post CSRs in order for nodes to get long term "
     "certificate credentials"),
    ("kubeadm:node-autoapprove-bootstrap", "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
     DEFAULT_GROUP, "Configured RBAC rules to allow the csrapprover controller automatically approve CSRs from a "
     "Node Bootstrap Token"),
    ("kubeadm:node-autoapprove-certificate-rotation",
     "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", "system:nodes",
     "Configured RBAC rules to allow certificate rotation for all node client certificates in the cluster"),
)  # fmt: skip
"""(ClusterRoleBinding, ClusterRole, group, what kubeadm says): the bootstrap-token phase's bindings
(cmd/kubeadm/app/phases/bootstraptoken/node/tlsbootstrap.go)."""
RBAC = "/apis/rbac.authorization.k8s.io/v1"


Api = Callable[[str, str, Any], Reply]
"""(method, path, body) -> the API's answer, as kubeadm's admin.conf user."""


def _create_or_update(api: Api, resource: str, obj: dict[str, Any]) -> None:
    """apiclient.CreateOrUpdate*: POST, and PUT over an existing object of that name."""
    reply = api("POST", f"{RBAC}/{resource}", obj)
    if reply.status == 409:
        reply = api("PUT", f"{RBAC}/{resource}/{obj['metadata']['name']}", obj)
    if reply.status >= 300:
        raise TokenError(f"unable to create RBAC {resource} {obj['metadata']['name']!r}: {reply.message}")


def admin_api(client: Kubeconfig) -> Api:
    """Requests with `client`'s credentials."""
    return lambda method, path, body: _call(client, method, path, body)


def allow_node_bootstrap(api: Api) -> list[str]:
    """The RBAC of kubeadm init's bootstrap-token phase: bootstrap tokens may get nodes and post CSRs,
    which the csrapprover approves for them and for node certificate rotation; kubeadm's lines."""
    said = []
    for binding, role, group, message in NODE_BOOTSTRAP_RBAC:
        if role == "kubeadm:get-nodes":
            _create_or_update(api, "clusterroles", {
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": role},
                "rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["nodes"]}]})  # fmt: skip
        _create_or_update(api, "clusterrolebindings", {
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": binding},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group}]})  # fmt: skip
        said.append(f"[bootstrap-token] {message}")
    return said
