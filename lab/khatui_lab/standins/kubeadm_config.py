"""kubeadm stand-in: reading and checking a `--config` file as kubeadm v1beta3/v1beta4 would.

All problems are collected and reported together. Like kubeadm, unknown fields and documents of
other API groups only warn; a wrong apiVersion or kind, a wrong `extraArgs` shape for the API
version (a decoding error), a missing or malformed controlPlaneEndpoint, bad certSANs or addresses are
errors. Which API versions are read depends on the kubeadm version (`load(minor=...)`).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

GROUP = "kubeadm.k8s.io"
V1BETA4_FROM_MINOR = 31
"""kubeadm registers v1beta4 from v1.31, where v1beta3 turns deprecated (still read, with a warning)."""
OLD_VERSIONS = {"v1alpha1": "v1.11", "v1alpha2": "v1.12", "v1alpha3": "v1.14", "v1beta1": "v1.15", "v1beta2": "v1.22"}
KINDS = ("InitConfiguration", "ClusterConfiguration", "JoinConfiguration", "ResetConfiguration", "UpgradeConfiguration")
COMPONENT_VERSIONS = {"kubelet.config.k8s.io": "v1beta1", "kubeproxy.config.k8s.io": "v1alpha1"}
COMPONENT_KINDS = {"kubelet.config.k8s.io": "KubeletConfiguration", "kubeproxy.config.k8s.io": "KubeProxyConfiguration"}
_BOTH = {
    "InitConfiguration": "apiVersion kind bootstrapTokens nodeRegistration localAPIEndpoint certificateKey skipPhases patches",
    "ClusterConfiguration": "apiVersion kind etcd networking kubernetesVersion controlPlaneEndpoint apiServer "
    "controllerManager scheduler dns certificatesDir imageRepository featureGates clusterName",
    "JoinConfiguration": "apiVersion kind nodeRegistration caCertPath discovery controlPlane skipPhases patches",
    "nodeRegistration": "name criSocket taints kubeletExtraArgs ignorePreflightErrors imagePullPolicy",
    "localAPIEndpoint": "advertiseAddress bindPort",
    "etcd": "local external",
    "external": "endpoints caFile certFile keyFile",
    "networking": "serviceSubnet podSubnet dnsDomain",
    "apiServer": "extraArgs extraVolumes certSANs",
    "controllerManager": "extraArgs extraVolumes",
    "scheduler": "extraArgs extraVolumes",
    "discovery": "bootstrapToken file tlsBootstrapToken",
    "file": "kubeConfigPath",
    "controlPlane": "localAPIEndpoint certificateKey",
    "dns": "imageRepository imageTag",
}
_ONLY = {
    "v1beta3": {"apiServer": "timeoutForControlPlane", "discovery": "timeout"},
    "v1beta4": {
        "InitConfiguration": "dryRun timeouts",
        "ClusterConfiguration": "proxy encryptionAlgorithm certificateValidityPeriod caCertificateValidityPeriod",
        "JoinConfiguration": "dryRun timeouts",
        "nodeRegistration": "imagePullSerial",
        "dns": "disabled",
        "proxy": "disabled",
        "apiServer": "extraEnvs",
        "controllerManager": "extraEnvs",
        "scheduler": "extraEnvs",
    },
}
FIELDS = {
    version: {
        key: set((_BOTH.get(key, "") + " " + _ONLY[version].get(key, "")).split()) for key in (*_BOTH, *_ONLY[version])
    }
    for version in ("v1beta3", "v1beta4")
}
"""The fields of each kind and of the nested structs khatui renders (cmd/kubeadm/app/apis/kubeadm/v1beta3|4/types.go)."""
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


def load(path: str, minor: int = 31) -> Config:
    """Read every YAML document of `path` as kubeadm v1.`minor` does; problems go to `errors`/`warnings`."""
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
            if not _kubeadm_version(config, api_version, kind, minor):
                continue
            _unknown_fields(config, doc, FIELDS[version], kind, _gvk(group, version, kind))
        elif group in COMPONENT_VERSIONS:
            if not _component_version(config, group, version, kind):
                continue
        else:
            config.warnings.append(
                f"[config] WARNING: Ignored configuration document with GroupVersionKind {_gvk(group, version, kind)}"
            )
            continue
        if kind in config.docs:
            config.errors.append(f"document {index + 1}: a second {kind}")
        config.docs[kind] = doc
    return config


def _gvk(group: str, version: str, kind: str) -> str:
    return f'schema.GroupVersionKind{{Group:"{group}", Version:"{version}", Kind:"{kind}"}}'


def _kubeadm_version(config: Config, api_version: str, kind: str, minor: int) -> bool:
    """validateSupportedVersion + the scheme: old versions refused, v1beta3 deprecated from v1.31."""
    version = api_version.partition("/")[2]
    if version in OLD_VERSIONS:
        config.errors.append(
            f'your configuration file uses an old API spec: "{api_version}" (kind: "{kind}"). Please use kubeadm '
            f"{OLD_VERSIONS[version]} instead and run 'kubeadm config migrate --old-config old.yaml --new-config "
            "new.yaml', which will write the new, similar spec using a newer API version."
        )
        return False
    registered = {"v1beta3", "v1beta4"} if minor >= V1BETA4_FROM_MINOR else {"v1beta3"}
    if version not in registered or kind not in KINDS:
        config.errors.append(f'no kind "{kind}" is registered for version "{api_version}" in scheme')
        return False
    if version == "v1beta3" and minor >= V1BETA4_FROM_MINOR:
        config.warnings.append(
            f'your configuration file uses a deprecated API spec: "{api_version}" (kind: "{kind}"). Please use '
            "'kubeadm config migrate --old-config old.yaml --new-config new.yaml', which will write the new, "
            "similar spec using a newer API version."
        )
    if config.api_version and config.api_version != api_version:
        config.errors.append(f"{api_version} mixed with {config.api_version} (khatui lab stand-in)")
    config.api_version = config.api_version or api_version
    return True


def _component_version(config: Config, group: str, version: str, kind: str) -> bool:
    """componentconfigs: the one version kubeadm knows; an older one is an error, a newer one is ignored."""
    known = COMPONENT_VERSIONS[group]
    if kind != COMPONENT_KINDS[group]:
        config.errors.append(f'no kind "{kind}" is registered for version "{group}/{version}" in scheme')
        return False
    if version == known:
        return True
    if _kube_version_rank(version) < _kube_version_rank(known):
        config.errors.append(
            f'unexpected apiVersion "{group}/{version}", you may have to do manual conversion to "{group}/{known}" '
            "and execute kubeadm again"
        )
    else:
        config.warnings.append(
            f'WARNING: Newer apiVersion "{group}/{version}" ignored: kubeadm only knows {group}/{known}'
        )
    return False


def _kube_version_rank(version: str) -> tuple[int, int, int]:
    """Kubernetes' version order: v1alpha1 < v1beta1 < v1 < v2alpha1 (version.CompareKubeAwareVersionStrings)."""
    match = re.fullmatch(r"v([0-9]+)(?:(alpha|beta)([0-9]+))?", version)
    if match is None:
        return (-1, 0, 0)
    return (int(match[1]), {"alpha": 0, "beta": 1, None: 2}[match[2]], int(match[3] or 0))


def _unknown_fields(config: Config, doc: dict[str, Any], fields: dict[str, set[str]], key: str, gvk: str) -> None:
    """Strict decoding (strict.VerifyUnmarshalStrict): kubeadm init/join only warn and drop the field."""
    for name, value in doc.items():
        if name not in fields[key]:
            config.warnings.append(
                f"error unmarshaling configuration {gvk}: error unmarshaling JSON: while decoding JSON: "
                f'json: unknown field "{name}"'
            )
        elif name in fields and isinstance(value, dict):
            _unknown_fields(config, value, fields, name, gvk)


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
    """extraArgs as a dict; a decoding error when the shape does not match the API version."""
    if value is None:
        return {}
    if config.v1beta4:
        if isinstance(value, list) and all(isinstance(a, dict) and "name" in a and "value" in a for a in value):
            return {str(a["name"]): str(a["value"]) for a in value}
        shape = "object" if isinstance(value, dict) else "array" if isinstance(value, list) else "string"
        config.errors.append(f"json: cannot unmarshal {shape} into Go struct field {where} of type []v1beta4.Arg")
    else:
        if isinstance(value, dict):
            return {str(k): str(v) for k, v in value.items()}
        shape = "array" if isinstance(value, list) else "string"
        config.errors.append(f"json: cannot unmarshal {shape} into Go struct field {where} of type map[string]string")
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
    """local xor external; external needs endpoints and, with https, its three files (their presence is
    the ExternalEtcdClientCertificates preflight check)."""
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
        if not value and any(str(url).startswith("https") for url in endpoints):
            config.errors.append(f"ClusterConfiguration.etcd.external.{key} is required with https endpoints")


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
