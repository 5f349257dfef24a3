"""Strict structural schemas for the config kinds kubernetes-validate has no schema for, written
from the upstream Go types (json tags), and a checker that rejects unknown fields and wrong types.

Sources (kubernetes/kubernetes):
- cmd/kubeadm/app/apis/kubeadm/v1beta4/types.go and .../v1beta3/types.go
- staging/src/k8s.io/kubelet/config/v1beta1/types.go (the fields khatui may use)
- staging/src/k8s.io/kube-proxy/config/v1alpha1/types.go
- staging/src/k8s.io/client-go/tools/clientcmd/api/v1/types.go (kubeconfig)

Schema language: a dict is an object with exactly those optional keys (keys ending in "!" are
required); `[x]` a list of x; `str`, `int`, `bool` scalars; MAP a string->string map; ANY anything.
"""

from __future__ import annotations

from typing import Any

MAP = "map[string]string"
ANY = "any"

ARG = {"name!": str, "value!": str}
API_ENDPOINT = {"advertiseAddress": str, "bindPort": int}
TAINT = {"key!": str, "value": str, "effect!": str, "timeAdded": str}
ENV = {"name!": str, "value": str, "valueFrom": ANY}
HOST_PATH_MOUNT = {"name!": str, "hostPath!": str, "mountPath!": str, "readOnly": bool, "pathType": str}
PATCHES = {"directory": str}
BOOTSTRAP_TOKEN = {"token!": str, "description": str, "ttl": str, "expires": str, "usages": [str], "groups": [str]}
TIMEOUTS = {
    "controlPlaneComponentHealthCheck": str,
    "kubeletHealthCheck": str,
    "kubernetesAPICall": str,
    "etcdAPICall": str,
    "tlsBootstrap": str,
    "discovery": str,
    "upgradeManifests": str,
}
EXTERNAL_ETCD = {"endpoints!": [str], "caFile!": str, "certFile!": str, "keyFile!": str}
IMAGE_META = {"imageRepository": str, "imageTag": str}
TYPE_META = {"apiVersion!": str, "kind!": str}


def _kubeadm(v1beta4: bool) -> dict[str, dict[str, Any]]:
    args: Any = [ARG] if v1beta4 else MAP
    component: dict[str, Any] = {"extraArgs": args, "extraVolumes": [HOST_PATH_MOUNT]}
    if v1beta4:
        component["extraEnvs"] = [ENV]
    api_server = {**component, "certSANs": [str]}
    if not v1beta4:
        api_server["timeoutForControlPlane"] = str
    registration: dict[str, Any] = {
        "name": str,
        "criSocket": str,
        "taints": [TAINT],
        "kubeletExtraArgs": args,
        "ignorePreflightErrors": [str],
        "imagePullPolicy": str,
    }
    local_etcd: dict[str, Any] = {
        **IMAGE_META,
        "dataDir": str,
        "extraArgs": args,
        "serverCertSANs": [str],
        "peerCertSANs": [str],
    }
    dns: dict[str, Any] = dict(IMAGE_META)
    discovery: dict[str, Any] = {
        "bootstrapToken": {
            "token!": str,
            "apiServerEndpoint": str,
            "caCertHashes": [str],
            "unsafeSkipCAVerification": bool,
        },
        "file": {"kubeConfigPath!": str},
        "tlsBootstrapToken": str,
    }
    cluster: dict[str, Any] = {
        **TYPE_META,
        "etcd": {"local": local_etcd, "external": EXTERNAL_ETCD},
        "networking": {"serviceSubnet": str, "podSubnet": str, "dnsDomain": str},
        "kubernetesVersion": str,
        "controlPlaneEndpoint": str,
        "apiServer": api_server,
        "controllerManager": component,
        "scheduler": component,
        "dns": dns,
        "certificatesDir": str,
        "imageRepository": str,
        "featureGates": ANY,
        "clusterName": str,
    }
    init: dict[str, Any] = {
        **TYPE_META,
        "bootstrapTokens": [BOOTSTRAP_TOKEN],
        "nodeRegistration": registration,
        "localAPIEndpoint": API_ENDPOINT,
        "certificateKey": str,
        "skipPhases": [str],
        "patches": PATCHES,
    }
    join: dict[str, Any] = {
        **TYPE_META,
        "nodeRegistration": registration,
        "caCertPath": str,
        "discovery!": discovery,
        "controlPlane": {"localAPIEndpoint": API_ENDPOINT, "certificateKey": str},
        "skipPhases": [str],
        "patches": PATCHES,
    }
    if v1beta4:
        registration["imagePullSerial"] = bool
        local_etcd["extraEnvs"] = [ENV]
        dns["disabled"] = bool
        cluster["proxy"] = {"disabled": bool}
        cluster["encryptionAlgorithm"] = str
        cluster["certificateValidityPeriod"] = str
        cluster["caCertificateValidityPeriod"] = str
        init["dryRun"] = bool
        init["timeouts"] = TIMEOUTS
        join["dryRun"] = bool
        join["timeouts"] = TIMEOUTS
    else:
        discovery["timeout"] = str
    return {"InitConfiguration": init, "ClusterConfiguration": cluster, "JoinConfiguration": join}


KUBEADM = {"kubeadm.k8s.io/v1beta4": _kubeadm(True), "kubeadm.k8s.io/v1beta3": _kubeadm(False)}

KUBELET_CONFIGURATION: dict[str, Any] = {
    **TYPE_META,
    "address": str,
    "port": int,
    "readOnlyPort": int,
    "staticPodPath": str,
    "authentication": {
        "x509": {"clientCAFile": str},
        "webhook": {"enabled": bool, "cacheTTL": str},
        "anonymous": {"enabled": bool},
    },
    "authorization": {"mode": str, "webhook": {"cacheAuthorizedTTL": str, "cacheUnauthorizedTTL": str}},
    "cgroupDriver": str,
    "clusterDNS": [str],
    "clusterDomain": str,
    "containerRuntimeEndpoint": str,
    "rotateCertificates": bool,
    "serverTLSBootstrap": bool,
    "healthzBindAddress": str,
    "healthzPort": int,
    "resolvConf": str,
    "maxPods": int,
    "failSwapOn": bool,
}

_MODE_TABLE = {"masqueradeBit": int, "masqueradeAll": bool, "syncPeriod": str, "minSyncPeriod": str}
KUBE_PROXY_CONFIGURATION: dict[str, Any] = {
    **TYPE_META,
    "featureGates": ANY,
    "clientConnection": {"kubeconfig": str, "acceptContentTypes": str, "contentType": str, "qps": ANY, "burst": int},
    "logging": ANY,
    "hostnameOverride": str,
    "bindAddress": str,
    "healthzBindAddress": str,
    "metricsBindAddress": str,
    "bindAddressHardFail": bool,
    "enableProfiling": bool,
    "showHiddenMetricsForVersion": str,
    "mode": str,
    "iptables": {**_MODE_TABLE, "localhostNodePorts": bool},
    "ipvs": {
        "syncPeriod": str,
        "minSyncPeriod": str,
        "scheduler": str,
        "excludeCIDRs": [str],
        "strictARP": bool,
        "tcpTimeout": str,
        "tcpFinTimeout": str,
        "udpTimeout": str,
    },
    "nftables": _MODE_TABLE,
    "detectLocalMode": str,
    "detectLocal": {"bridgeInterface": str, "interfaceNamePrefix": str},
    "clusterCIDR": str,
    "nodePortAddresses": [str],
    "oomScoreAdj": int,
    "conntrack": ANY,
    "configSyncPeriod": str,
    "portRange": str,
}

KUBECONFIG: dict[str, Any] = {
    **TYPE_META,
    "preferences": {"colors": bool, "extensions": ANY},
    "clusters!": [
        {
            "name!": str,
            "cluster!": {
                "server!": str,
                "tls-server-name": str,
                "insecure-skip-tls-verify": bool,
                "certificate-authority": str,
                "certificate-authority-data": str,
                "proxy-url": str,
                "disable-compression": bool,
                "extensions": ANY,
            },
        }
    ],
    "users!": [
        {
            "name!": str,
            "user!": {
                "client-certificate": str,
                "client-certificate-data": str,
                "client-key": str,
                "client-key-data": str,
                "token": str,
                "tokenFile": str,
                "as": str,
                "as-uid": str,
                "as-groups": [str],
                "username": str,
                "password": str,
                "exec": ANY,
                "extensions": ANY,
            },
        }
    ],
    "contexts!": [{"name!": str, "context!": {"cluster!": str, "user!": str, "namespace": str, "extensions": ANY}}],
    "current-context!": str,
    "extensions": ANY,
}


def problems(value: Any, schema: Any, where: str = "") -> list[str]:
    """Every way `value` departs from `schema` (empty when it conforms)."""
    if schema == ANY:
        return []
    if schema == MAP:
        ok = isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
        return [] if ok else [f"{where}: expected a string map, got {value!r}"]
    if isinstance(schema, list):
        if not isinstance(value, list):
            return [f"{where}: expected a list, got {value!r}"]
        return [p for i, item in enumerate(value) for p in problems(item, schema[0], f"{where}[{i}]")]
    if isinstance(schema, dict):
        if not isinstance(value, dict):
            return [f"{where}: expected an object, got {value!r}"]
        fields = {key.rstrip("!"): sub for key, sub in schema.items()}
        found = [f"{where}.{key}: unknown field" for key in value if key not in fields]
        found += [f"{where}.{key[:-1]}: required" for key in schema if key.endswith("!") and key[:-1] not in value]
        return found + [
            p for key, sub in value.items() if key in fields for p in problems(sub, fields[key], f"{where}.{key}")
        ]
    if schema is int and isinstance(value, bool):
        return [f"{where}: expected int, got {value!r}"]
    return [] if isinstance(value, schema) else [f"{where}: expected {schema.__name__}, got {value!r}"]
