"""kubeadm stand-in: the files kubeadm writes, in kubeadm's shapes (static pods, kubeconfigs, kubelet).

The static pods run the stand-in binaries under the real names (kube-apiserver,
kube-controller-manager, kube-scheduler), with kubeadm's flags plus the config's extraArgs (which
override a default of the same name), so the kubelet stand-in runs what a real kubelet would.
Kubeconfigs carry client certificates signed by the cluster CA; admin.conf, super-admin.conf and
kubelet.conf talk to the controlPlaneEndpoint, controller-manager.conf and scheduler.conf to the
local apiserver (kubeadm's choice since v1.20).
"""

from __future__ import annotations

import base64
import ipaddress
from pathlib import Path
from typing import Any

import yaml

from .kubeadm_pki import Leaf, issue

KUBERNETES = Path("/etc/kubernetes")
MANIFESTS = KUBERNETES / "manifests"
KUBELET_DIR = Path("/var/lib/kubelet")
CLUSTER_CONFIG_COPY = KUBERNETES / "khatui-lab-standin" / "kubeadm-config.yaml"
"""The ClusterConfiguration as the kubeadm-config ConfigMap would hold it (served by the apiserver stand-in)."""


def write(path: Path, text: str, mode: int = 0o600) -> None:
    """Write a file as kubeadm does (parents created, 0600 unless told)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)


def host_port(host: str, port: int) -> str:
    """'host:port' with IPv6 in brackets."""
    try:
        if ipaddress.ip_address(host).version == 6:
            return f"[{host}]:{port}"
    except ValueError:
        pass
    return f"{host}:{port}"


def _pod(name: str, image: str, command: list[str], probe_port: int, scheme: str, host: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "kube-system", "labels": {"component": name, "tier": "control-plane"}},
        "spec": {
            "hostNetwork": True,
            "priorityClassName": "system-node-critical",
            "containers": [
                {
                    "name": name,
                    "image": image,
                    "imagePullPolicy": "IfNotPresent",
                    "command": command,
                    "livenessProbe": {
                        "httpGet": {
                            "host": host,
                            "path": "/livez" if name == "kube-apiserver" else "/healthz",
                            "port": probe_port,
                            "scheme": scheme,
                        },
                        "initialDelaySeconds": 10,
                        "periodSeconds": 10,
                        "failureThreshold": 8,
                    },
                    "volumeMounts": [
                        {"name": "k8s-certs", "mountPath": "/etc/kubernetes/pki", "readOnly": True},
                        {"name": "kubeconfig", "mountPath": "/etc/kubernetes", "readOnly": True},
                    ],
                }
            ],
            "volumes": [
                {"name": "k8s-certs", "hostPath": {"path": "/etc/kubernetes/pki", "type": "DirectoryOrCreate"}},
                {"name": "kubeconfig", "hostPath": {"path": "/etc/kubernetes", "type": "DirectoryOrCreate"}},
            ],
        },
    }


def _flags(defaults: dict[str, str], extra: dict[str, str]) -> list[str]:
    merged = {**defaults, **extra}
    return [f"--{name}={value}" for name, value in sorted(merged.items())]


def control_plane_pods(
    cluster: dict[str, Any], extra: dict[str, dict[str, str]], address: str, port: int, version: str
) -> dict[str, dict[str, Any]]:
    """The three control-plane static pods kubeadm writes, by file stem."""
    pki = str(cluster.get("certificatesDir", "/etc/kubernetes/pki"))
    networking = cluster.get("networking") or {}
    service = str(networking.get("serviceSubnet", "10.96.0.0/12"))
    domain = str(networking.get("dnsDomain", "cluster.local"))
    repo = str(cluster.get("imageRepository", "registry.k8s.io"))
    etcd = (cluster.get("etcd") or {}).get("external") or {}
    apiserver = {
        "advertise-address": address,
        "allow-privileged": "true",
        "authorization-mode": "Node,RBAC",
        "client-ca-file": f"{pki}/ca.crt",
        "enable-admission-plugins": "NodeRestriction",
        "enable-bootstrap-token-auth": "true",
        "etcd-servers": ",".join(etcd.get("endpoints") or ["https://127.0.0.1:2379"]),
        "kubelet-client-certificate": f"{pki}/apiserver-kubelet-client.crt",
        "kubelet-client-key": f"{pki}/apiserver-kubelet-client.key",
        "kubelet-preferred-address-types": "InternalIP,ExternalIP,Hostname",
        "proxy-client-cert-file": f"{pki}/front-proxy-client.crt",
        "proxy-client-key-file": f"{pki}/front-proxy-client.key",
        "requestheader-allowed-names": "front-proxy-client",
        "requestheader-client-ca-file": f"{pki}/front-proxy-ca.crt",
        "requestheader-extra-headers-prefix": "X-Remote-Extra-",
        "requestheader-group-headers": "X-Remote-Group",
        "requestheader-username-headers": "X-Remote-User",
        "secure-port": str(port),
        "service-account-issuer": f"https://kubernetes.default.svc.{domain}",
        "service-account-key-file": f"{pki}/sa.pub",
        "service-account-signing-key-file": f"{pki}/sa.key",
        "service-cluster-ip-range": service,
        "tls-cert-file": f"{pki}/apiserver.crt",
        "tls-private-key-file": f"{pki}/apiserver.key",
    }
    for key, flag in (("caFile", "etcd-cafile"), ("certFile", "etcd-certfile"), ("keyFile", "etcd-keyfile")):
        if etcd.get(key):
            apiserver[flag] = str(etcd[key])
    conf = str(KUBERNETES)
    controller_manager = {
        "authentication-kubeconfig": f"{conf}/controller-manager.conf",
        "authorization-kubeconfig": f"{conf}/controller-manager.conf",
        "bind-address": "127.0.0.1",
        "client-ca-file": f"{pki}/ca.crt",
        "cluster-name": str(cluster.get("clusterName", "kubernetes")),
        "cluster-signing-cert-file": f"{pki}/ca.crt",
        "cluster-signing-key-file": f"{pki}/ca.key",
        "controllers": "*,bootstrapsigner,tokencleaner",
        "kubeconfig": f"{conf}/controller-manager.conf",
        "leader-elect": "true",
        "requestheader-client-ca-file": f"{pki}/front-proxy-ca.crt",
        "root-ca-file": f"{pki}/ca.crt",
        "service-account-private-key-file": f"{pki}/sa.key",
        "service-cluster-ip-range": service,
        "use-service-account-credentials": "true",
    }
    if networking.get("podSubnet"):
        controller_manager |= {"allocate-node-cidrs": "true", "cluster-cidr": str(networking["podSubnet"])}
    scheduler = {
        "authentication-kubeconfig": f"{conf}/scheduler.conf",
        "authorization-kubeconfig": f"{conf}/scheduler.conf",
        "bind-address": "127.0.0.1",
        "kubeconfig": f"{conf}/scheduler.conf",
        "leader-elect": "true",
    }
    image = f"{repo}/{{}}:{version}"
    return {
        "kube-apiserver": _pod(
            "kube-apiserver",
            image.format("kube-apiserver"),
            ["kube-apiserver", *_flags(apiserver, extra["apiServer"])],
            port,
            "HTTPS",
            address,
        ),
        "kube-controller-manager": _pod(
            "kube-controller-manager",
            image.format("kube-controller-manager"),
            ["kube-controller-manager", *_flags(controller_manager, extra["controllerManager"])],
            10257,
            "HTTPS",
            "127.0.0.1",
        ),
        "kube-scheduler": _pod(
            "kube-scheduler",
            image.format("kube-scheduler"),
            ["kube-scheduler", *_flags(scheduler, extra["scheduler"])],
            10259,
            "HTTPS",
            "127.0.0.1",
        ),
    }


def kubeconfig(pki: Path, server: str, user: str, cert: Path, key: Path, cluster_name: str) -> str:
    """A kubeconfig with the CA and the client certificate embedded, as kubeadm writes them."""
    ca = base64.b64encode((pki / "ca.crt").read_bytes()).decode()
    credentials = {
        "client-certificate-data": base64.b64encode(cert.read_bytes()).decode(),
        "client-key-data": base64.b64encode(key.read_bytes()).decode(),
    }
    context = f"{user}@{cluster_name}"
    data = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster_name, "cluster": {"certificate-authority-data": ca, "server": server}}],
        "contexts": [{"name": context, "context": {"cluster": cluster_name, "user": user}}],
        "current-context": context,
        "preferences": {},
        "users": [{"name": user, "user": credentials}],
    }
    return str(yaml.safe_dump(data, sort_keys=False))


def write_kubeconfig(pki: Path, name: str, server: str, leaf: Leaf, cluster_name: str) -> Path:
    """Write /etc/kubernetes/<name> with a fresh client certificate for `leaf`."""
    path = KUBERNETES / name
    folder = KUBERNETES / "khatui-lab-standin" / "clients"
    cert, key = folder / f"{leaf.stem}.crt", folder / f"{leaf.stem}.key"
    issue(cert, key, pki / "ca.crt", pki / "ca.key", leaf)
    write(path, kubeconfig(pki, server, leaf.common_name, cert, key, cluster_name))
    return path


def kubelet_files(kubelet_config: dict[str, Any], flags: dict[str, str]) -> list[Path]:
    """/var/lib/kubelet/config.yaml and kubeadm-flags.env, as kubeadm's kubelet-start phase writes them."""
    config: dict[str, Any] = {"apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration"}
    config |= {k: v for k, v in kubelet_config.items() if k not in ("apiVersion", "kind")}
    config.setdefault("staticPodPath", str(MANIFESTS))
    # kubeadm's default (cmd/kubeadm/app/componentconfigs/kubelet.go, kubeletConfig.Default: an empty
    # cgroupDriver becomes "systemd"); a join gets the same through the kubelet-config ConfigMap.
    config.setdefault("cgroupDriver", "systemd")
    config.setdefault("rotateCertificates", True)  # kubeletConfig.Default: kubeletRotateCertificates
    write(KUBELET_DIR / "config.yaml", yaml.safe_dump(config, sort_keys=False), 0o644)
    args = " ".join(f"--{name}={value}" for name, value in sorted(flags.items()))
    write(KUBELET_DIR / "kubeadm-flags.env", f'KUBELET_KUBEADM_ARGS="{args}"\n', 0o644)
    return [KUBELET_DIR / "config.yaml", KUBELET_DIR / "kubeadm-flags.env"]
