"""kubeadm stand-in: reading and checking a `--config` file as kubeadm v1beta3/v1beta4 would.

All problems are collected and reported together. Like kubeadm, unknown fields and documents of
other API groups only warn; a wrong apiVersion or kind, a wrong `extraArgs` shape for the API
version, a missing or malformed controlPlaneEndpoint, bad certSANs or addresses, and external etcd
files that do not exist on the node are errors.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

GROUP = "kubeadm.k8s.io"
VERSIONS = ("v1beta3", "v1beta4")
KINDS = ("InitConfiguration", "ClusterConfiguration", "JoinConfiguration", "ResetConfiguration", "UpgradeConfiguration")
COMPONENT_KINDS = {
    "kubelet.config.k8s.io/v1beta1": "KubeletConfiguration",
    "kubeproxy.config.k8s.io/v1alpha1": "KubeProxyConfiguration",
}
FIELDS = {
    "InitConfiguration": {
        "apiVersion", "kind", "bootstrapTokens", "dryRun", "nodeRegistration", "localAPIEndpoint",
        "certificateKey", "skipPhases", "patches", "timeouts",
    },
    "ClusterConfiguration": {
        "apiVersion", "kind", "etcd", "networking", "kubernetesVersion", "controlPlaneEndpoint", "apiServer",
        "controllerManager", "scheduler", "dns", "proxy", "certificatesDir", "imageRepository", "featureGates",
        "clusterName", "encryptionAlgorithm", "certificateValidityPeriod", "caCertificateValidityPeriod",
    },
    "JoinConfiguration": {
        "apiVersion", "kind", "dryRun", "nodeRegistration", "caCertPath", "discovery", "controlPlane",
        "skipPhases", "patches", "timeouts",
    },
}  # fmt: skip
_DNS_NAME = re.compile(r"^(\*\.)?[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$")
_VERSION = re.compile(r"^v?[0-9]+\.[0-9]+\.[0-9]+$")
_TOKEN = re.compile(r"^[a-z0-9]{6}\.[a-z0-9]{16}$")


@dataclass
class Config:
    """The documents of one config file, by kind, plus what was found wrong with them."""

    api_version: str = ""
    docs: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def get(self, kind: str) -> dict[str, Any]:
        """The document of `kind` (empty when absent)."""
        return self.docs.get(kind, {})

    @property
    def v1beta4(self) -> bool:
        """True for kubeadm.k8s.io/v1beta4 (extraArgs as {name, value} lists)."""
        return self.api_version.endswith("/v1beta4")


def load(path: str) -> Config:
    """Read every YAML document of `path`; problems of shape go to `errors`/`warnings`."""
    config = Config()
    try:
        documents = list(yaml.safe_load_all(Path(path).read_text()))
    except OSError as exc:
        config.errors.append(f"unable to read config from {path!r}: {exc.strerror}")
        return config
    except yaml.YAMLError as exc:
        config.errors.append(f"{path}: not valid YAML: {exc}")
        return config
    for index, doc in enumerate(d for d in documents if d is not None):
        if not isinstance(doc, dict) or "apiVersion" not in doc or "kind" not in doc:
            config.errors.append(f"document {index + 1}: apiVersion and kind are required")
            continue
        api_version, kind = str(doc["apiVersion"]), str(doc["kind"])
        group, _, version = api_version.partition("/")
        if group == GROUP:
            if version not in VERSIONS:
                config.errors.append(
                    f"document {index + 1}: {api_version} is not supported: use {GROUP}/v1beta3 or {GROUP}/v1beta4"
                )
                continue
            if kind not in KINDS:
                config.errors.append(f"document {index + 1}: unknown kind {kind!r} for {api_version}")
                continue
            if config.api_version and config.api_version != api_version:
                config.errors.append(f"document {index + 1}: {api_version} mixed with {config.api_version}")
            config.api_version = config.api_version or api_version
            for name in sorted(set(doc) - FIELDS.get(kind, set(doc))):
                config.warnings.append(f'{kind}: strict decoding error: unknown field "{name}"')
        elif COMPONENT_KINDS.get(api_version) != kind:
            config.warnings.append(f"Ignored YAML document with GroupVersionKind {api_version}, Kind={kind}")
            continue
        if kind in config.docs:
            config.errors.append(f"document {index + 1}: a second {kind}")
        config.docs[kind] = doc
    return config


def endpoint(text: Any) -> tuple[str, int] | None:
    """(host, port) of a controlPlaneEndpoint 'host[:port]' ('[v6]:port' allowed); None when malformed."""
    if not isinstance(text, str) or not text:
        return None
    match = re.match(r"^\[([0-9a-fA-F:.]+)\](?::([0-9]+))?$", text) or re.match(r"^([^:\[\]]+)(?::([0-9]+))?$", text)
    if match is None:
        return None
    host, port = match.group(1), int(match.group(2) or 6443)
    if not (is_ip(host) or _DNS_NAME.match(host)) or not 1 <= port <= 65535:
        return None
    return host, port


def is_ip(text: str) -> bool:
    """True for an IPv4 or IPv6 address."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def extra_args(config: Config, where: str, value: Any) -> dict[str, str]:
    """extraArgs as a dict; an error when the shape does not match the API version."""
    if value is None:
        return {}
    if config.v1beta4:
        if isinstance(value, list) and all(isinstance(a, dict) and "name" in a and "value" in a for a in value):
            return {str(a["name"]): str(a["value"]) for a in value}
        config.errors.append(
            f"{where}: {config.api_version} wants a list of {{name, value}} (got {type(value).__name__})"
        )
    else:
        if isinstance(value, dict):
            return {str(k): str(v) for k, v in value.items()}
        config.errors.append(f"{where}: {config.api_version} wants a map of flag names to values")
    return {}


def check_cluster(config: Config) -> None:
    """The ClusterConfiguration's rules (endpoint, version, networks, etcd, certSANs, extraArgs)."""
    cluster = config.get("ClusterConfiguration")
    if not cluster:
        config.errors.append("a ClusterConfiguration is required (khatui lab stand-in: no cluster to read it from)")
        return
    if endpoint(cluster.get("controlPlaneEndpoint")) is None:
        config.errors.append(
            f"ClusterConfiguration.controlPlaneEndpoint {cluster.get('controlPlaneEndpoint')!r}: "
            "an HA control plane needs a load-balanced endpoint written host:port"
        )
    version = cluster.get("kubernetesVersion")
    if version is not None and not _VERSION.match(str(version)):
        config.errors.append(f"ClusterConfiguration.kubernetesVersion {version!r} is not a version like v1.31.4")
    networking = cluster.get("networking") or {}
    for key in ("podSubnet", "serviceSubnet"):
        if key in networking:
            try:
                ipaddress.ip_network(str(networking[key]))
            except ValueError:
                config.errors.append(f"ClusterConfiguration.networking.{key} {networking[key]!r} is not a CIDR")
    for index, san in enumerate((cluster.get("apiServer") or {}).get("certSANs") or []):
        if not (is_ip(str(san)) or _DNS_NAME.match(str(san))):
            config.errors.append(
                f"ClusterConfiguration.apiServer.certSANs[{index}] {san!r}: not a valid IP address or DNS name"
            )
    for component in ("apiServer", "controllerManager", "scheduler"):
        extra_args(
            config, f"ClusterConfiguration.{component}.extraArgs", (cluster.get(component) or {}).get("extraArgs")
        )
    check_etcd(config, cluster.get("etcd") or {})


def check_etcd(config: Config, etcd: dict[str, Any]) -> None:
    """local xor external; external needs https endpoints and its three files on this node."""
    if "local" in etcd and "external" in etcd:
        config.errors.append("ClusterConfiguration.etcd: local and external are mutually exclusive")
    external = etcd.get("external")
    if external is None:
        return
    endpoints = external.get("endpoints") or []
    if not endpoints:
        config.errors.append("ClusterConfiguration.etcd.external.endpoints: at least one endpoint is required")
    for url in endpoints:
        if not re.match(r"^https?://[^/]+$", str(url)):
            config.errors.append(
                f"ClusterConfiguration.etcd.external.endpoints: {url!r} is not a URL like https://host:2379"
            )
    for key in ("caFile", "certFile", "keyFile"):
        value = external.get(key)
        if not value:
            if any(str(url).startswith("https") for url in endpoints):
                config.errors.append(f"ClusterConfiguration.etcd.external.{key} is required with https endpoints")
        elif not Path(str(value)).is_file():
            config.errors.append(f"ClusterConfiguration.etcd.external.{key}: {value} does not exist on this node")


def check_registration(config: Config, kind: str) -> None:
    """nodeRegistration: a DNS-subdomain name, kubeletExtraArgs in the version's shape."""
    registration = config.get(kind).get("nodeRegistration") or {}
    name = registration.get("name")
    if name is not None and not _DNS_NAME.match(str(name)):
        config.errors.append(f"{kind}.nodeRegistration.name {name!r} is not a valid node name")
    extra_args(config, f"{kind}.nodeRegistration.kubeletExtraArgs", registration.get("kubeletExtraArgs"))


def check_local_endpoint(config: Config, where: str, local: dict[str, Any]) -> None:
    """advertiseAddress is an IP, bindPort a port."""
    address = local.get("advertiseAddress")
    if address is not None and not is_ip(str(address)):
        config.errors.append(f"{where}.advertiseAddress {address!r} is not an IP address")
    port = local.get("bindPort", 6443)
    if not isinstance(port, int) or not 1 <= port <= 65535:
        config.errors.append(f"{where}.bindPort {port!r} is not a port")


def check_init(config: Config) -> None:
    """Everything `kubeadm init --config` needs."""
    for kind in ("InitConfiguration", "JoinConfiguration"):
        if kind == "JoinConfiguration" and kind in config.docs:
            config.warnings.append("JoinConfiguration is ignored by kubeadm init")
    init = config.get("InitConfiguration")
    if not init:
        config.errors.append("an InitConfiguration is required (khatui lab stand-in)")
    check_registration(config, "InitConfiguration")
    check_local_endpoint(config, "InitConfiguration.localAPIEndpoint", init.get("localAPIEndpoint") or {})
    for index, token in enumerate(init.get("bootstrapTokens") or []):
        if not _TOKEN.match(str((token or {}).get("token", ""))):
            config.errors.append(
                f"InitConfiguration.bootstrapTokens[{index}].token does not match [a-z0-9]{{6}}.[a-z0-9]{{16}}"
            )
    check_cluster(config)


def check_join(config: Config) -> None:
    """Everything `kubeadm join --config` needs."""
    join = config.get("JoinConfiguration")
    if not join:
        config.errors.append("a JoinConfiguration is required for kubeadm join")
        return
    check_registration(config, "JoinConfiguration")
    discovery = join.get("discovery") or {}
    by_file, by_token = discovery.get("file"), discovery.get("bootstrapToken")
    if bool(by_file) == bool(by_token):
        config.errors.append("JoinConfiguration.discovery: exactly one of file and bootstrapToken is required")
    if by_file:
        path = by_file.get("kubeConfigPath")
        if not path or not (Path(str(path)).is_file() or str(path).startswith("https://")):
            config.errors.append(f"JoinConfiguration.discovery.file.kubeConfigPath: {path} does not exist on this node")
    if by_token:
        if not _TOKEN.match(str(by_token.get("token", ""))):
            config.errors.append("JoinConfiguration.discovery.bootstrapToken.token is malformed")
        if endpoint(by_token.get("apiServerEndpoint")) is None:
            config.errors.append("JoinConfiguration.discovery.bootstrapToken.apiServerEndpoint must be host:port")
        if not by_token.get("caCertHashes") and not by_token.get("unsafeSkipCAVerification"):
            config.errors.append(
                "JoinConfiguration.discovery.bootstrapToken: caCertHashes or unsafeSkipCAVerification is required"
            )
    control_plane = join.get("controlPlane")
    if control_plane is not None:
        check_local_endpoint(
            config, "JoinConfiguration.controlPlane.localAPIEndpoint", control_plane.get("localAPIEndpoint") or {}
        )
