"""kubeadm stand-in: the kubelet phases — kubelet-start, the join's TLS bootstrap wait, kubelet-finalize.

kubelet-start writes the kubelet's config.yaml and kubeadm-flags.env and (re)starts it. On join
(cmd/kubeadm/app/cmd/phases/join/kubelet.go `runKubeletStartJoinPhase`) it first writes
/etc/kubernetes/bootstrap-kubelet.conf (the discovery cluster, the bootstrap token as the user) and
the CA, refuses to go on when a Ready Node of this name exists (read with the bootstrap token:
kubeadm init's kubeadm:get-nodes binding allows it), starts the kubelet and waits, polling every
second for up to `timeouts.tlsBootstrap` (5 minutes), until /etc/kubernetes/kubelet.conf loads
with its client certificate — the kubelet writes it after its TLS bootstrap. bootstrap-kubelet.conf
is removed afterwards, whether the wait succeeded or not. kubelet-finalize on init
(phases/init/kubeletfinalize.go) points kubelet.conf at the kubelet's rotating
kubelet-client-current.pem, when the kubelet wrote one, and restarts the kubelet.
"""

from __future__ import annotations

import base64
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from . import kubeadm_config as kc
from . import kubeadm_files as kf
from .kubeadm_preflight import say
from .kubeadm_token import TokenError, ttl_seconds
from .kubeclient import ClientError, Kubeconfig, load_kubeconfig, request, tls_context

BOOTSTRAP_CONF = kf.KUBERNETES / "bootstrap-kubelet.conf"
KUBELET_CONF = kf.KUBERNETES / "kubelet.conf"
TLS_BOOTSTRAP_TIMEOUT = "5m0s"
JOIN_FAIL = """
Unfortunately, an error has occurred:
	{}

This error is likely caused by:
	- The kubelet is not running
	- The kubelet is unhealthy due to a misconfiguration of the node in some way (required cgroups disabled)

If you are on a systemd-powered system, you can try to troubleshoot the error with the following commands:
	- 'systemctl status kubelet'
	- 'journalctl -xeu kubelet'
"""
"""kubeadmJoinFailMsg."""


class KubeletPhaseError(Exception):
    """The phase failed; the message is kubeadm's."""


def _systemctl(verb: str) -> bool:
    result = subprocess.run(["systemctl", verb, "kubelet"], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        print(f"W [kubelet-start] could not {verb} the kubelet: {result.stderr.strip()}", file=sys.stderr)
    return result.returncode == 0


def kubelet_start(config: kc.Config, kind: str, kubelet_config: dict[str, Any]) -> None:
    """Write the kubelet's files and (re)start it, as kubeadm's kubelet-start phase."""
    registration = config.get(kind).get("nodeRegistration") or {}
    flags = kc.extra_args(config, "kubeletExtraArgs", registration.get("kubeletExtraArgs"))
    if registration.get("criSocket"):
        flags.setdefault("container-runtime-endpoint", str(registration["criSocket"]))
    for path in kf.kubelet_files(kubelet_config, flags):
        say(f'[kubelet-start] Writing "{path}"')
    if _systemctl("restart"):
        say("[kubelet-start] Starting the kubelet")


def bootstrap_kubeconfig(server: str, ca_pem: bytes, token: str, cluster_name: str = "kubernetes") -> str:
    """bootstrap-kubelet.conf as kubeadm writes it (TLSBootstrapCfg: the token as `tls-bootstrap-token-user`)."""
    user, context = "tls-bootstrap-token-user", f"tls-bootstrap-token-user@{cluster_name}"
    data = {"apiVersion": "v1", "kind": "Config",
            "clusters": [{"name": cluster_name, "cluster": {
                "certificate-authority-data": base64.b64encode(ca_pem).decode(), "server": server}}],
            "contexts": [{"name": context, "context": {"cluster": cluster_name, "user": user}}],
            "current-context": context, "preferences": {}, "users": [{"name": user, "user": {"token": token}}]}  # fmt: skip
    return str(yaml.safe_dump(data, sort_keys=False))


def refuse_ready_node(client: Kubeconfig, node: str) -> None:
    """KubeletPhaseError when a Node of this name is Ready, or cannot be read."""
    reply = request(client, "GET", f"/api/v1/nodes/{node}", say=lambda line: print(line, file=sys.stderr))
    if reply.status == 404:
        return
    if reply.status != 200 or not isinstance(reply.body, dict):
        raise KubeletPhaseError(f'cannot get Node "{node}": {reply.message}')
    for condition in (reply.body.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready" and condition.get("status") == "True":
            raise KubeletPhaseError(f'a Node with name "{node}" and status "Ready" already exists in the cluster. '
                                    "You must delete the existing Node or change the name of this new joining Node")  # fmt: skip


def kubelet_conf_usable(path: Path = KUBELET_CONF) -> bool:
    """kubeconfigutil.ClientSetFromFile succeeds: the kubeconfig and its client certificate files load."""
    try:
        config = load_kubeconfig(str(path))
        tls_context(config)
    except (ClientError, OSError):
        return False
    return bool(config.cert_pem and config.key_pem)


def wait_tls_bootstrap(timeout: float, usable: Any = kubelet_conf_usable) -> None:
    """waitForTLSBootstrappedClient: poll every second; KubeletPhaseError after `timeout` seconds."""
    say("[kubelet-start] Waiting for the kubelet to perform the TLS Bootstrap")
    deadline = time.monotonic() + timeout
    while not usable():
        if time.monotonic() >= deadline:
            print(JOIN_FAIL.format("context deadline exceeded"))
            raise KubeletPhaseError("kubelet-start: context deadline exceeded")
        time.sleep(1.0)


def tls_bootstrap_timeout(join: dict[str, Any]) -> float:
    """JoinConfiguration.timeouts.tlsBootstrap (v1beta4), else kubeadm's default of 5 minutes."""
    try:
        return ttl_seconds(str((join.get("timeouts") or {}).get("tlsBootstrap") or TLS_BOOTSTRAP_TIMEOUT))
    except TokenError as exc:
        raise KubeletPhaseError(f"timeouts.tlsBootstrap: {exc}") from None


def join_kubelet_start(config: kc.Config, node: str, server: str, ca_pem: bytes, token: str) -> None:
    """kubelet-start of `kubeadm join` (see the module docstring)."""
    join = config.get("JoinConfiguration")
    kf.write(BOOTSTRAP_CONF, bootstrap_kubeconfig(server, ca_pem, token))
    try:
        say(f'[kubelet-start] Writing bootstrap kubelet configuration to file "{BOOTSTRAP_CONF}"')
        refuse_ready_node(load_kubeconfig(str(BOOTSTRAP_CONF)), node)
        _systemctl("stop")
        kubelet_start(config, "JoinConfiguration", {})
        wait_tls_bootstrap(tls_bootstrap_timeout(join))
    except ClientError as exc:
        raise KubeletPhaseError(f"kubelet-start: {exc}") from None
    finally:
        BOOTSTRAP_CONF.unlink(missing_ok=True)


def kubelet_finalize(config: kc.Config, node: str) -> None:
    """kubelet-finalize/enable-client-cert-rotation of `kubeadm init` (see the module docstring)."""
    registration = config.get("InitConfiguration").get("nodeRegistration") or {}
    flags = kc.extra_args(config, "kubeletExtraArgs", registration.get("kubeletExtraArgs"))
    pem = Path(flags.get("cert-dir", str(kf.KUBELET_DIR / "pki"))) / "kubelet-client-current.pem"
    if not pem.exists():
        return
    say(f'[kubelet-finalize] Updating "{KUBELET_CONF}" to point to a rotatable kubelet client certificate and key')
    try:
        data = yaml.safe_load(KUBELET_CONF.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise KubeletPhaseError(f'kubelet-finalize: could not load "{KUBELET_CONF}": {exc}') from None
    user = next((u for u in data.get("users") or [] if u.get("name") == f"system:node:{node}"), None)
    if user is None:
        raise KubeletPhaseError(f'kubelet-finalize: the file "{KUBELET_CONF}" does not contain authentication for '
                                f'user "{node}"')  # fmt: skip
    user["user"] = {"client-certificate": str(pem), "client-key": str(pem)}
    kf.write(KUBELET_CONF, yaml.safe_dump(data, sort_keys=False))
    _systemctl("restart")
