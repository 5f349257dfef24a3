"""kubeadm stand-in: `kubeadm join`'s file discovery, checked as kubeadm and the apiserver would.

khatui hands every joining node a discovery kubeconfig (`discovery.file.kubeConfigPath`): the
cluster CA, the load balancer's URL, and a user whose `token` is a bootstrap token. The stand-in
checks the token's form, that the CA is the cluster CA already on the node (when there is one),
then reads the kubeadm-config ConfigMap through that server over TLS verified with that CA,
authenticated by the token: the apiserver stand-in answers 401 to a token nobody created (or that
expired), as the real one does, so a joining node proves the whole chain CA -> LB -> token.
"""

from __future__ import annotations

import re
import ssl
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from .kubeclient import ClientError, Kubeconfig, load_kubeconfig, request

CONFIGMAP_PATH = "/api/v1/namespaces/kube-system/configmaps/kubeadm-config"
TOKEN = re.compile(r"^[a-z0-9]{6}\.[a-z0-9]{16}$")
_PEM = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)


class DiscoveryError(Exception):
    """Discovery failed; the message says which check and why."""


@dataclass(frozen=True)
class Discovered:
    """What a join learns from the cluster."""

    server: str
    """The discovery kubeconfig's server (the load balancer)."""
    ca_pem: bytes
    """The cluster CA, as the discovery kubeconfig holds it."""
    cluster: dict[str, Any]
    """The ClusterConfiguration from the kubeadm-config ConfigMap."""
    token: str = ""
    """The bootstrap token (the kubelet's TLS bootstrap uses it)."""


def certificates(pem: bytes) -> set[bytes]:
    """The DER form of every certificate in `pem` (layout and comments do not matter)."""
    return {ssl.PEM_cert_to_DER_cert(block.decode()) for block in _PEM.findall(pem)}


def discovery_config(join: dict[str, Any]) -> Kubeconfig:
    """The discovery kubeconfig with its bootstrap token (from the user, else tlsBootstrapToken)."""
    discovery = join.get("discovery") or {}
    by_file = discovery.get("file")
    if not by_file:
        token = discovery.get("bootstrapToken") or {}
        raise DiscoveryError(
            f"bootstrap-token discovery of {token.get('apiServerEndpoint')} needs cluster-info, "
            "which the khatui lab stand-in cannot serve: use discovery.file"
        )
    path = str(by_file.get("kubeConfigPath"))
    try:
        config = load_kubeconfig(path)
    except ClientError as exc:
        raise DiscoveryError(str(exc)) from None
    token = config.token or str(discovery.get("tlsBootstrapToken") or "")
    if not token:
        raise DiscoveryError(
            f"{path} has no user token and discovery.tlsBootstrapToken is empty: "
            "the kubelet would have nothing to do its TLS bootstrap with"
        )
    if not TOKEN.match(token):
        raise DiscoveryError(f"the bootstrap token in {path} does not match [a-z0-9]{{6}}.[a-z0-9]{{16}}")
    return replace(config, token=token, cert_pem=None, key_pem=None)


def discover(join: dict[str, Any], ca_cert: Path) -> Discovered:
    """Run file discovery (see the module docstring); `DiscoveryError` naming what failed."""
    config = discovery_config(join)
    if not certificates(config.ca_pem):
        raise DiscoveryError(f"{config.path}: the certificate authority data holds no PEM certificate")
    if ca_cert.is_file() and certificates(ca_cert.read_bytes()) != certificates(config.ca_pem):
        raise DiscoveryError(
            f"the certificate authority in {config.path} is not the cluster CA already in {ca_cert}: "
            "refusing to join a cluster this node's certificates do not belong to"
        )
    token_id = (config.token or "").split(".")[0]
    try:
        reply = request(config, "GET", CONFIGMAP_PATH, say=lambda line: print(line, file=sys.stderr))
    except ClientError as exc:
        hint = (
            " (is the CA in the discovery kubeconfig the cluster's?)" if "CERTIFICATE_VERIFY_FAILED" in str(exc) else ""
        )
        raise DiscoveryError(f"{exc}{hint}") from None
    if reply.status == 401:
        raise DiscoveryError(
            f"the API server at {config.server} refused bootstrap token {token_id!r} (401 Unauthorized): it is unknown "
            "or expired; create it on the first control plane with `kubeadm token create`"
        )
    if reply.status != 200 or not isinstance(reply.body, dict):
        raise DiscoveryError(
            f"cannot read the kubeadm-config ConfigMap from {config.server}: HTTP {reply.status}: {reply.message}"
        )
    cluster = yaml.safe_load((reply.body.get("data") or {}).get("ClusterConfiguration", "")) or {}
    if not isinstance(cluster, dict) or not cluster.get("controlPlaneEndpoint"):
        raise DiscoveryError(f"the kubeadm-config ConfigMap at {config.server} holds no usable ClusterConfiguration")
    return Discovered(config.server, config.ca_pem, cluster, config.token or "")
