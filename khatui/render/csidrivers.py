"""The CSI drivers khatui deploys, one `csi.Driver` each, following each project's upstream manifests:
ceph-csi (deploy/rbd/kubernetes), aws-ebs-csi-driver, gcp-compute-persistent-disk-csi-driver and
azuredisk-csi-driver. Images are pinned here, in one place.

Credentials: EBS uses the node's instance profile, or the optional `aws-secret` Secret; GCE PD reads a
service-account key from the `cloud-sa` Secret; Azure Disk reads `azure-cloud-provider`; ceph-csi
reads the Secret each StorageClass names. All are references — the values are created by the operator.
"""

from __future__ import annotations

import json
from typing import Any

from khatui.render.csi import Driver
from khatui.spec.persistence import CephRBDClass

CEPH_NAMESPACE = "ceph-csi-rbd"
CEPH_IMAGE = "quay.io/cephcsi/cephcsi:v3.12.2"
EBS_IMAGE = "public.ecr.aws/ebs-csi-driver/aws-ebs-csi-driver:v1.35.0"
GCE_PD_IMAGE = "registry.k8s.io/cloud-provider-gcp/gcp-compute-persistent-disk-csi-driver:v1.13.2"
AZURE_DISK_IMAGE = "mcr.microsoft.com/oss/kubernetes-csi/azuredisk-csi:v1.30.4"


def _config_map_volume(name: str, optional: bool = False) -> dict[str, Any]:
    config_map: dict[str, Any] = {"name": name}
    if optional:
        config_map["optional"] = True
    return {"name": name, "configMap": config_map}


def _host(name: str, path: str) -> dict[str, Any]:
    return {"name": name, "hostPath": {"path": path}}


def _secret_env(name: str, secret: str, key: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key, "optional": True}}}


def ceph_rbd() -> Driver:
    """ceph-csi's RBD plugin."""
    common = ["--type=rbd", "--endpoint=$(CSI_ENDPOINT)", "--v=5", "--drivername=rbd.csi.ceph.com"]
    return Driver(
        name="rbd.csi.ceph.com",
        prefix="rbd-csi",
        namespace=CEPH_NAMESPACE,
        image=CEPH_IMAGE,
        controller_args=["--nodeid=$(NODE_ID)", "--controllerserver=true", "--pidlimit=-1", *common],
        node_args=[
            "--nodeid=$(NODE_ID)",
            "--nodeserver=true",
            "--pluginpath=/var/lib/kubelet/plugins",
            "--stagingpath=/var/lib/kubelet/plugins/kubernetes.io/csi/",
            *common,
        ],
        volumes=[
            (_config_map_volume("ceph-csi-config"), "/etc/ceph-csi-config/"),
            (_config_map_volume("ceph-config"), "/etc/ceph/"),
            (
                _config_map_volume("ceph-csi-encryption-kms-config", optional=True),
                "/etc/ceph-csi-encryption-kms-config/",
            ),
            ({"name": "keys-tmp-dir", "emptyDir": {"medium": "Memory"}}, "/tmp/csi/keys"),
            (_host("host-sys", "/sys"), "/sys"),
            (_host("lib-modules", "/lib/modules"), "/lib/modules"),
        ],
        controller_volumes=[(_host("host-dev", "/dev"), "/dev")],
        node_volumes=[(_host("host-mount", "/run/mount"), "/run/mount")],
        controller_rules=(("", "secrets", "get,list"), ("", "configmaps", "get")),
        node_rules=(
            ("", "secrets", "get"),
            ("", "configmaps", "get"),
            ("", "persistentvolumes", "get"),
            ("storage.k8s.io", "volumeattachments", "list,get"),
        ),
        host_network=True,
    )


def ceph_config_maps(classes: list[CephRBDClass]) -> list[dict[str, Any]]:
    """ceph-csi's cluster list (clusterID -> monitors) and a minimal ceph.conf (cephx everywhere)."""
    clusters: dict[str, list[str]] = {}
    for klass in classes:
        clusters.setdefault(klass.cluster_id, [])
        clusters[klass.cluster_id] += [m for m in klass.monitors if m not in clusters[klass.cluster_id]]
    config = [{"clusterID": cid, "monitors": monitors} for cid, monitors in clusters.items()]
    ceph_conf = "[global]\nauth_cluster_required = cephx\nauth_service_required = cephx\nauth_client_required = cephx\n"
    metadata = {"namespace": CEPH_NAMESPACE}
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": CEPH_NAMESPACE}},
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "ceph-csi-config", **metadata},
            "data": {"config.json": json.dumps(config, indent=2) + "\n"},
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "ceph-config", **metadata},
            "data": {"ceph.conf": ceph_conf, "keyring": ""},
        },
    ]


def aws_ebs() -> Driver:
    """The AWS EBS CSI driver."""
    common = ["--endpoint=$(CSI_ENDPOINT)", "--logging-format=text", "--v=2"]
    return Driver(
        name="ebs.csi.aws.com",
        prefix="ebs-csi",
        namespace="kube-system",
        image=EBS_IMAGE,
        controller_args=["controller", *common],
        node_args=["node", *common],
        env=[{"name": "CSI_NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
        controller_env=[
            _secret_env("AWS_ACCESS_KEY_ID", "aws-secret", "key_id"),
            _secret_env("AWS_SECRET_ACCESS_KEY", "aws-secret", "access_key"),
        ],
    )


def gce_pd() -> Driver:
    """The GCE Persistent Disk CSI driver."""
    key = {"name": "cloud-sa-volume", "secret": {"secretName": "cloud-sa"}}
    return Driver(
        name="pd.csi.storage.gke.io",
        prefix="gce-pd-csi",
        namespace="kube-system",
        image=GCE_PD_IMAGE,
        controller_args=["--v=5", "--endpoint=$(CSI_ENDPOINT)", "--run-node-service=false"],
        node_args=["--v=5", "--endpoint=$(CSI_ENDPOINT)", "--run-controller-service=false"],
        controller_env=[{"name": "GOOGLE_APPLICATION_CREDENTIALS", "value": "/etc/cloud-sa/cloud-sa.json"}],
        controller_volumes=[(key, "/etc/cloud-sa")],
    )


def azure_disk() -> Driver:
    """The Azure Disk CSI driver (cloud config from the azure-cloud-provider Secret)."""
    common = ["--v=5", "--endpoint=$(CSI_ENDPOINT)", "--drivername=disk.csi.azure.com"]
    secret = ["--cloud-config-secret-name=azure-cloud-provider", "--cloud-config-secret-namespace=kube-system"]
    return Driver(
        name="disk.csi.azure.com",
        prefix="azuredisk-csi",
        namespace="kube-system",
        image=AZURE_DISK_IMAGE,
        controller_args=[*common, *secret],
        node_args=[*common, "--nodeid=$(NODE_ID)", *secret],
        controller_rules=(("", "secrets", "get"),),
        node_rules=(("", "secrets", "get"),),
    )
