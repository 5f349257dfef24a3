"""kubeadm stand-in: which preflight checks `kubeadm init` and `kubeadm join` run, in kubeadm's order
(checks.go InitNodeChecks / JoinNodeChecks / addCommonChecks, checks_linux.go addExecChecks), plus the
two checks that talk to other programs: ExternalEtcdVersion (etcd's /version over TLS) and ImagePull
(the images `kubeadm config images list` names, present in the node's runtime or pulled into it).

The version table is kubeadm v1.31's (the version the stand-ins claim): crictl is only a warning
since v1.31, conntrack is still mandatory (dropped in v1.32), the bridge-nf-call-iptables check is
gone (v1.30). Not checked by the stand-in: SystemVerification, Firewalld, HTTPProxy(CIDR) and the
kubelet service (their outcome here is a warning at most), the Hostname DNS lookup.
"""

from __future__ import annotations

import ipaddress
import json
import ssl
import subprocess
import urllib.request
from typing import Any

from . import kubeadm_preflight as pf
from .common import version

MANIFESTS = "/etc/kubernetes/manifests"
MIN_EXTERNAL_ETCD_VERSION = "3.5.11-0"
"""kubeadm v1.31's MinExternalEtcdVersion (later patch releases raise it: 3.5.24-0 on release-1.32)."""
DEFAULT_CRI_SOCKET = "unix:///var/run/containerd/containerd.sock"
DEFAULT_IMAGE_REPOSITORY = "registry.k8s.io"
COREDNS_VERSION = "v1.11.3"
PAUSE_VERSION = "3.10"
ETCD_VERSION = "3.5.15-0"
EXECUTABLES = (
    ("crictl", False), ("conntrack", True), ("ip", True), ("iptables", True), ("mount", True), ("nsenter", True),
    ("ebtables", False), ("ethtool", False), ("socat", False), ("tc", False), ("touch", False),
)  # fmt: skip


def _is_v4(text: str) -> bool | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False).version == 4
    except ValueError:
        return None


def common_checks(node: pf.Node, registration: dict[str, Any], kubernetes: str) -> list[pf.Check]:
    """addCommonChecks: CRI, Swap, the executables, Hostname, KubeletVersion, Port-10250."""
    checks = [pf.cri(node, str(registration.get("criSocket") or DEFAULT_CRI_SOCKET)), pf.swap(node)]
    checks += [pf.in_path(node, exe, mandatory) for exe, mandatory in EXECUTABLES]
    checks += [
        pf.hostname(str(registration.get("name") or "")),
        pf.kubelet_version(node, version(), kubernetes),
        pf.port_open(10250),
    ]
    return checks


def forwarding_checks(node: pf.Node, addresses: list[str]) -> list[pf.Check]:
    """ip_forward (IPv4) / default forwarding (IPv6) for the families among `addresses`."""
    families = {_is_v4(a) for a in addresses if a} - {None}
    checks = []
    if True in families:
        checks.append(pf.file_content(node, "/proc/sys/net/ipv4/ip_forward", "1"))
    if False in families:
        checks.append(pf.file_content(node, "/proc/sys/net/ipv6/conf/default/forwarding", "1"))
    return checks


def init_checks(
    node: pf.Node, init: dict[str, Any], cluster: dict[str, Any], secondary: bool = False
) -> list[pf.Check]:
    """InitNodeChecks (`secondary`: a control plane joining, which skips the common checks)."""
    local = init.get("localAPIEndpoint") or {}
    kubernetes = str(cluster.get("kubernetesVersion") or version())
    checks = [pf.num_cpu(), pf.mem(), pf.kubernetes_version(version(), kubernetes)]
    checks += [pf.port_open(int(local.get("bindPort", 6443))), pf.port_open(10259), pf.port_open(10257)]
    checks += [
        pf.file_available(node, f"{MANIFESTS}/{name}.yaml")
        for name in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd")
    ]
    etcd = cluster.get("etcd") or {}
    external = etcd.get("external")
    if not secondary:
        checks += common_checks(node, init.get("nodeRegistration") or {}, kubernetes)
        networking = cluster.get("networking") or {}
        addresses = str(networking.get("serviceSubnet", "10.96.0.0/12")).split(",")
        addresses += str(networking.get("podSubnet", "")).split(",")
        addresses.append(str(local.get("advertiseAddress") or ""))
        checks += forwarding_checks(node, addresses)
        if external is not None:
            checks.append(external_etcd_version(node, external))
    if external is None:
        data_dir = str((etcd.get("local") or {}).get("dataDir", "/var/lib/etcd"))
        checks += [pf.port_open(2379), pf.port_open(2380), pf.dir_available(node, data_dir)]
    else:
        checks += [
            pf.file_existing(node, external[key], "ExternalEtcdClientCertificates")
            for key in ("caFile", "certFile", "keyFile")
            if external.get(key)
        ]
    return checks


def join_checks(node: pf.Node, join: dict[str, Any]) -> list[pf.Check]:
    """JoinNodeChecks: kubelet kubeconfigs free, the common checks, the CA free on a worker."""
    checks = [
        pf.file_available(node, "/etc/kubernetes/kubelet.conf"),
        pf.file_available(node, "/etc/kubernetes/bootstrap-kubelet.conf"),
    ]
    checks += common_checks(node, join.get("nodeRegistration") or {}, "")
    if join.get("controlPlane") is None:
        checks.append(pf.file_available(node, str(join.get("caCertPath", "/etc/kubernetes/pki/ca.crt"))))
    token = (join.get("discovery") or {}).get("bootstrapToken") or {}
    host = str(token.get("apiServerEndpoint", "")).rpartition(":")[0].strip("[]")
    if host and _is_v4(host) is not None:
        checks += forwarding_checks(node, [host])
    return checks


def external_etcd_version(node: pf.Node, external: dict[str, Any]) -> pf.Check:
    """ExternalEtcdVersion: every endpoint's /version says etcdserver >= MinExternalEtcdVersion.

    kubeadm retries three times 5 s apart; the stand-in asks once.
    """
    errors = []
    try:
        context = ssl.create_default_context(
            cafile=str(node.file(external["caFile"])) if external.get("caFile") else None
        )
        if external.get("certFile") and external.get("keyFile"):
            context.load_cert_chain(str(node.file(external["certFile"])), str(node.file(external["keyFile"])))
    except (OSError, ssl.SSLError) as exc:
        return pf.Check("ExternalEtcdVersion", (f"couldn't load external etcd's certificate and key pair: {exc}",))
    floor = pf.parse_version(MIN_EXTERNAL_ETCD_VERSION)
    for endpoint in external.get("endpoints") or []:
        url = f"{str(endpoint).rstrip('/')}/version"
        try:
            with urllib.request.urlopen(url, context=context, timeout=10) as reply:
                server = str(json.load(reply).get("etcdserver", ""))
        except (OSError, ValueError) as exc:
            errors.append(f'Get "{url}": {exc}')
            continue
        found = pf.parse_version(server)
        if found is None:
            errors.append(f'couldn\'t parse external etcd version "{server}"')
        elif floor is not None and found < floor:
            errors.append(
                f"this version of kubeadm only supports external etcd version >= {MIN_EXTERNAL_ETCD_VERSION}. "
                f"Current version: {server}"
            )
    return pf.Check("ExternalEtcdVersion", tuple(errors))


def images(cluster: dict[str, Any]) -> list[str]:
    """What `kubeadm config images list` names for this ClusterConfiguration (images.GetControlPlaneImages)."""
    repository = str(cluster.get("imageRepository") or DEFAULT_IMAGE_REPOSITORY).rstrip("/")
    tag = str(cluster.get("kubernetesVersion") or version())
    names = [f"{repository}/{c}:{tag}" for c in ("kube-apiserver", "kube-controller-manager", "kube-scheduler")]
    if not (cluster.get("proxy") or {}).get("disabled"):
        names.append(f"{repository}/kube-proxy:{tag}")
    if not (cluster.get("dns") or {}).get("disabled"):
        coredns = "coredns/coredns" if repository == DEFAULT_IMAGE_REPOSITORY else "coredns"
        names.append(f"{repository}/{coredns}:{COREDNS_VERSION}")
    names.append(f"{repository}/pause:{PAUSE_VERSION}")
    if "external" not in (cluster.get("etcd") or {}):
        names.append(f"{repository}/etcd:{ETCD_VERSION}")
    return names


def _crictl(node: pf.Node, endpoint: str, *args: str) -> subprocess.CompletedProcess[str] | None:
    binary = node.which("crictl")
    if binary is None:
        return None
    command = [str(binary), "--runtime-endpoint", endpoint, *args]
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None


def present_images(node: pf.Node, endpoint: str) -> set[str]:
    """Images the runtime at `endpoint` holds (`crictl images -o json`); none without an answering runtime."""
    if pf.cri(node, endpoint).errors:
        return set()
    listed = _crictl(node, endpoint, "images", "-o", "json")
    if listed is None or listed.returncode != 0:
        return set()
    try:
        return {tag for image in json.loads(listed.stdout).get("images", []) for tag in image.get("repoTags", [])}
    except (ValueError, AttributeError):
        return set()


def image_pull(node: pf.Node, cluster: dict[str, Any], registration: dict[str, Any]) -> pf.Check:
    """ImagePull: each image is in the runtime, or pulled into it now (`crictl pull`, policy IfNotPresent)."""
    if registration.get("imagePullPolicy") == "Never":
        return pf.Check("ImagePull")
    endpoint = str(registration.get("criSocket") or DEFAULT_CRI_SOCKET)
    present = present_images(node, endpoint)
    errors = []
    for image in images(cluster):
        if image in present and registration.get("imagePullPolicy") != "Always":
            continue
        if pf.cri(node, endpoint).errors:
            errors.append(f"failed to pull image {image}: the container runtime at {endpoint} does not answer")
            continue
        pulled = _crictl(node, endpoint, "pull", image)
        if pulled is None:
            errors.append(f"failed to pull image {image}: the stand-in pulls with crictl, not found in PATH")
        elif pulled.returncode != 0:
            errors.append(f"failed to pull image {image}: {pulled.stderr.strip()}")
    return pf.Check("ImagePull", tuple(errors))
