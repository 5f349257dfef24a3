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
    trust = {"certificate-authority-data": _b64(ca_cert), "server": server}
    return yamltext.dump(_document("kubernetes", trust, "bootstrap", {"token": token}, "bootstrap")).encode()


def embedded_kubeconfig(server: str, ca_cert: bytes, user_name: str, cert: bytes, key: bytes, cluster: str) -> bytes:
    """A self-contained kubeconfig (what `kubeadm kubeconfig user` writes): the CA (PEM) to trust
    `server`, and the client certificate and key of `user_name`, all embedded."""
    trust = {"certificate-authority-data": _b64(ca_cert), "server": server}
    user = {"client-certificate-data": _b64(cert), "client-key-data": _b64(key)}
    return yamltext.dump(_document(cluster, trust, user_name, user, f"{user_name}@{cluster}")).encode()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
