"""Settings of the cluster's components: etcd, PKI, control plane, kube-proxy and DNS."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field, model_validator

from khatui.spec.addresses import CIDR, LocalDNSAddress
from khatui.spec.base import AbsolutePath, DNSName, Duration, Host, Port, SpecModel, Version
from khatui.spec.nodes import EnvName


class EtcdTopology(StrEnum):
    """Where etcd runs."""

    STACKED = "stacked"
    EXTERNAL = "external"


class EtcdRunAs(StrEnum):
    """How etcd is run on its nodes."""

    STATIC_POD = "static-pod"
    SYSTEMD = "systemd"


class Etcd(SpecModel):
    """The etcd cluster: the nodes with the `etcd` role are its members."""

    topology: EtcdTopology = EtcdTopology.STACKED
    """stacked: members run on the control-plane nodes; external: members have nodes of their own."""
    run_as: EtcdRunAs = EtcdRunAs.SYSTEMD
    """static-pod: a manifest in /etc/kubernetes/manifests run by the kubelet; systemd: a unit."""
    data_dir: AbsolutePath = "/var/lib/etcd"
    """Where each member keeps its data."""
    version: Version = "3.5.16"
    """etcd version to run."""
    client_port: Port = 2379
    """Port for client traffic (apiserver, etcdctl)."""
    peer_port: Port = 2380
    """Port for traffic between members."""


class KeyAlgorithm(StrEnum):
    """Key type and size for every key khatui generates."""

    RSA_2048 = "rsa-2048"
    RSA_3072 = "rsa-3072"
    RSA_4096 = "rsa-4096"
    ECDSA_P256 = "ecdsa-p256"
    ECDSA_P384 = "ecdsa-p384"


class CASource(SpecModel):
    """Where a certificate authority comes from."""

    mode: Literal["generate", "import"] = "generate"
    """generate: khatui creates the CA; import: an existing CA is read from certFile and keyFile."""
    cert_file: str | None = None
    """PEM certificate of the CA to import (mode: import)."""
    key_file: str | None = None
    """PEM private key of the CA to import (mode: import)."""
    key_passphrase_env: EnvName | None = None
    """Environment variable holding the passphrase of an encrypted keyFile."""

    @model_validator(mode="after")
    def _files_match_mode(self) -> CASource:
        if self.mode == "import" and not (self.cert_file and self.key_file):
            raise ValueError("mode 'import' needs both certFile and keyFile")
        if self.mode == "generate" and (self.cert_file or self.key_file or self.key_passphrase_env):
            raise ValueError("certFile, keyFile and keyPassphraseEnv are only used with mode 'import'")
        return self


class Authorities(SpecModel):
    """The cluster's certificate authorities."""

    etcd: CASource = CASource()
    """Signs the etcd server, peer and client certificates."""
    kubernetes: CASource = CASource()
    """The cluster CA: apiserver, kubelet and component certificates."""
    front_proxy: CASource = CASource()
    """Signs the front-proxy client certificate of the aggregation layer."""


class PKI(SpecModel):
    """Certificates and keys."""

    key_algorithm: KeyAlgorithm = KeyAlgorithm.ECDSA_P256
    """Algorithm of every key khatui generates."""
    validity: Duration = "43800h"
    """Lifetime of issued certificates (the guide's 43800h, five years); CAs get twice as long."""
    ca: Authorities = Authorities()
    """Generate or import each CA."""
    extra_sans: list[Host] = Field(default=[], alias="extraSANs")
    """More DNS names or addresses to put in every server certificate (apiserver, etcd)."""


class ImagePullPolicy(StrEnum):
    """When kubeadm pulls the control plane's images (its nodeRegistration.imagePullPolicy)."""

    IF_NOT_PRESENT = "IfNotPresent"
    ALWAYS = "Always"
    NEVER = "Never"


class ControlPlane(SpecModel):
    """The Kubernetes control plane (kubeadm)."""

    kubernetes_version: Version = "v1.31.4"
    """Kubernetes version to install."""
    pod_cidr: CIDR = Field(default="10.244.0.0/16", alias="podCIDR")  # type: ignore[assignment]
    """Address range for pods."""
    service_cidr: CIDR = Field(default="10.96.0.0/12", alias="serviceCIDR")  # type: ignore[assignment]
    """Address range for Services; its first address is the `kubernetes` Service, its tenth the cluster DNS."""
    api_port: Port = 6443
    """Port each kube-apiserver listens on."""
    dns_domain: DNSName = "cluster.local"
    """Cluster DNS domain."""
    leader_elect: bool = True
    """--leader-elect for controller-manager and scheduler; must stay on with several control planes."""
    image_pull_policy: ImagePullPolicy = ImagePullPolicy.IF_NOT_PRESENT
    """When kubeadm pulls the images `kubeadm config images list` names: IfNotPresent, Always, or Never
    (air-gapped nodes whose runtime already holds every image; kubeadm then skips its ImagePull check)."""


class ProxyMode(StrEnum):
    """How kube-proxy implements Services."""

    IPTABLES = "iptables"
    IPVS = "ipvs"
    NFTABLES = "nftables"


class IPVSScheduler(StrEnum):
    """IPVS scheduling algorithm."""

    RR = "rr"
    WRR = "wrr"
    LC = "lc"
    WLC = "wlc"
    SH = "sh"
    DH = "dh"
    SED = "sed"
    NQ = "nq"


class KubeProxy(SpecModel):
    """kube-proxy; it always talks to the apiserver through the load balancer address."""

    mode: ProxyMode = ProxyMode.IPTABLES
    """iptables, ipvs or nftables."""
    ipvs_scheduler: IPVSScheduler | None = None
    """IPVS scheduler (mode: ipvs only; rr when not given)."""


class NodeLocalDNS(SpecModel):
    """NodeLocal DNSCache: a caching DNS agent on every node."""

    enabled: bool = False
    """Run NodeLocal DNSCache."""
    address: LocalDNSAddress = Field(default="169.254.20.10")  # type: ignore[assignment]
    """Address the node cache listens on on every node (link-local, outside the pod and Service CIDRs)."""


class DNS(SpecModel):
    """Cluster DNS (CoreDNS), sized for large clusters as in the guide."""

    replicas: int = Field(default=2, ge=1, le=100)
    """CoreDNS replicas."""
    cache_size: int = Field(default=10000, ge=0, le=1_000_000)
    """Entries in CoreDNS's cache (the guide: 10000)."""
    max_concurrent: int = Field(default=1000, ge=1, le=100_000)
    """Concurrent upstream queries CoreDNS forwards (the guide's --dns-forward-max=1000)."""
    memory_limit: str = Field(default="512Mi", pattern=r"^[1-9][0-9]*(Mi|Gi)$")
    """Memory limit of each CoreDNS pod (raised from kubeadm's 170Mi for large clusters)."""
    node_local_dns: NodeLocalDNS = Field(default=NodeLocalDNS(), alias="nodeLocalDNS")
    """Optional node-local DNS cache."""
