"""Persistent storage: the StorageClasses the cluster gets. No classes means no persistence."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from khatui.spec.base import AbsolutePath, Host, HostPort, MountOption, Name, SpecModel, is_dns_label

_IQN = r"^iqn\.[0-9]{4}-[0-9]{2}\.[a-z0-9.-]+(:[A-Za-z0-9.:_-]+)?$"
_SIZE = r"^[1-9][0-9]{0,8}(Ki|Mi|Gi|Ti|Pi)$"
Size = Annotated[str, Field(pattern=_SIZE)]
"""A Kubernetes quantity in binary units: 500Gi, 2Ti."""


def _secret_name(value: str) -> str:
    if not is_dns_label(value):
        # Never repeat the value: the usual mistake is the key itself in place of the Secret's name.
        raise ValueError("is not a Secret name (a DNS label): give the name of the Secret that holds the key")
    return value


SecretName = Annotated[str, AfterValidator(_secret_name)]


class _Class(SpecModel):
    name: Name
    """StorageClass name."""
    default: bool = False
    """Make this the cluster's default StorageClass (exactly one class may be default)."""
    reclaim_policy: Literal["Delete", "Retain"] = "Delete"
    """What happens to a volume when its claim is deleted."""


class SecretRef(SpecModel):
    """A reference to a Kubernetes Secret; khatui never takes the secret's value in the spec."""

    name: SecretName
    """Secret name."""
    namespace: Name = "kube-system"
    """Secret namespace."""


class LocalClass(_Class):
    """Local volumes on the nodes' own disks or RAID arrays (no dynamic provisioning)."""

    backend: Literal["local"] = "local"
    """Storage backend."""
    paths: list[AbsolutePath] = Field(min_length=1)
    """Mount points on the nodes (a disk or RAID array each) offered as local PersistentVolumes."""
    capacity: Size = "100Gi"
    """Usable size of each of those disks: claims bind only to volumes at least as large as they ask."""


class NFSClass(_Class):
    """An NFS export, provisioned by the NFS subdir external provisioner."""

    backend: Literal["nfs"] = "nfs"
    """Storage backend."""
    server: Host
    """NFS server address."""
    path: AbsolutePath
    """Exported path."""
    mount_options: list[MountOption] = []
    """Mount options, e.g. nfsvers=4.1."""


class ISCSIClass(_Class):
    """An iSCSI target (statically provisioned volumes)."""

    backend: Literal["iscsi"] = "iscsi"
    """Storage backend."""
    portal: HostPort
    """Target portal as host[:port] (port 3260 when not given)."""
    iqn: str = Field(pattern=_IQN)
    """Target IQN, e.g. iqn.2024-01.com.example:storage."""
    lun: int = Field(default=0, ge=0, le=16383)
    """LUN number."""
    fs_type: Literal["ext4", "xfs"] = "ext4"
    """Filesystem on the LUN."""
    capacity: Size = "100Gi"
    """Usable size of the LUN: claims bind only to volumes at least as large as they ask."""


class GlusterFSClass(_Class):
    """A GlusterFS volume."""

    backend: Literal["glusterfs"] = "glusterfs"
    """Storage backend."""
    endpoints: list[Host] = Field(min_length=1)
    """Gluster server addresses."""
    volume: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    """Gluster volume name."""


class CephRBDClass(_Class):
    """Ceph RBD images through the ceph-csi RBD driver."""

    backend: Literal["ceph-rbd"] = "ceph-rbd"
    """Storage backend."""
    cluster_id: str = Field(pattern=r"^[A-Za-z0-9-]+$")
    """Ceph cluster fsid."""
    monitors: list[HostPort] = Field(min_length=1, max_length=32)
    """Monitor addresses as host[:port] ([IPv6]:port for IPv6)."""
    pool: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    """RBD pool."""
    user: str = Field(default="kubernetes", pattern=r"^[A-Za-z0-9_.-]+$")
    """Ceph user (without the client. prefix)."""
    secret_ref: SecretRef
    """Secret holding the user's key (create it beforehand; never put the key in the spec)."""


class AWSEBSClass(_Class):
    """AWS EBS volumes through the EBS CSI driver."""

    backend: Literal["aws-ebs"] = "aws-ebs"
    """Storage backend."""
    type: Literal["gp3", "gp2", "io1", "io2", "st1", "sc1"] = "gp3"
    """EBS volume type."""
    encrypted: bool = True
    """Encrypt volumes."""
    fs_type: Literal["ext4", "xfs"] = "ext4"
    """Filesystem."""


class GCEPDClass(_Class):
    """GCE persistent disks through the PD CSI driver."""

    backend: Literal["gce-pd"] = "gce-pd"
    """Storage backend."""
    type: Literal["pd-standard", "pd-balanced", "pd-ssd"] = "pd-balanced"
    """Disk type."""
    replication_type: Literal["none", "regional-pd"] = "none"
    """Zonal or regional disks."""


class AzureDiskClass(_Class):
    """Azure managed disks through the Azure Disk CSI driver."""

    backend: Literal["azure-disk"] = "azure-disk"
    """Storage backend."""
    sku_name: Literal[
        "Standard_LRS", "Premium_LRS", "StandardSSD_LRS", "UltraSSD_LRS", "Premium_ZRS", "StandardSSD_ZRS"
    ] = "StandardSSD_LRS"
    """Disk SKU."""
    caching_mode: Literal["None", "ReadOnly", "ReadWrite"] = "ReadOnly"
    """Host caching."""


StorageClass = Annotated[
    LocalClass | NFSClass | ISCSIClass | GlusterFSClass | CephRBDClass | AWSEBSClass | GCEPDClass | AzureDiskClass,
    Field(discriminator="backend"),
]

BACKENDS = ("local", "nfs", "iscsi", "glusterfs", "ceph-rbd", "aws-ebs", "gce-pd", "azure-disk")


class Persistence(SpecModel):
    """Storage for the cluster's workloads."""

    classes: list[StorageClass] = []
    """StorageClasses to create; an empty list means no persistence backend."""
