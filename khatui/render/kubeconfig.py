"""kubeconfig documents (`apiVersion: v1, kind: Config`) with one cluster, one user, one context.

Every kubeconfig khatui renders points at the load balancer, never at one apiserver: that is the
guide's rule for kubelets and kube-proxy, and what keeps them working when a master dies. The
components' kubeconfigs trust a CA file on the node; kubeadm's discovery file carries the CA itself,
since the joining node has none yet.
"""

from __future__ import annotations

import base64
from typing import Any

from khatui.render import yamltext


def _document(
    cluster: str, trust: dict[str, str], user_name: str, user: dict[str, Any], context: str
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster, "cluster": trust}],
        "contexts": [{"name": context, "context": {"cluster": cluster, "user": user_name}}],
        "current-context": context,
        "users": [{"name": user_name, "user": user}],
    }


def kubeconfig(
    server: str, ca_file: str, user_name: str, user: dict[str, Any], cluster: str = "kubernetes"
) -> dict[str, Any]:
    """A kubeconfig using the CA file `ca_file` to trust `server`, acting as `user`."""
    document = _document(
        cluster, {"certificate-authority": ca_file, "server": server}, user_name, user, f"{user_name}@{cluster}"
    )
    users = document.pop("users")
    return document | {"preferences": {}, "users": users}


def discovery_kubeconfig(server: str, ca_cert: bytes, token: str) -> bytes:
    """kubeadm's file discovery for a joining node: the cluster CA (PEM, embedded) to trust `server`,
    and the bootstrap `token` to authenticate with."""
    trust = {"certificate-authority-data": base64.b64encode(ca_cert).decode(), "server": server}
    return yamltext.dump(_document("kubernetes", trust, "bootstrap", {"token": token}, "bootstrap")).encode()
