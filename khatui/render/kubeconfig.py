"""kubeconfig documents (`apiVersion: v1, kind: Config`) with one cluster, one user, one context.

Every kubeconfig khatui renders points at the load balancer, never at one apiserver: that is the
guide's rule for kubelets and kube-proxy, and what keeps them working when a master dies.
"""

from __future__ import annotations

from typing import Any


def kubeconfig(
    server: str, ca_file: str, user_name: str, user: dict[str, Any], cluster: str = "kubernetes"
) -> dict[str, Any]:
    """A kubeconfig using the CA file `ca_file` to trust `server`, acting as `user`."""
    context = f"{user_name}@{cluster}"
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster, "cluster": {"certificate-authority": ca_file, "server": server}}],
        "contexts": [{"name": context, "context": {"cluster": cluster, "user": user_name}}],
        "current-context": context,
        "preferences": {},
        "users": [{"name": user_name, "user": user}],
    }
