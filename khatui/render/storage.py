"""Persistent storage: a StorageClass per spec class, plus what each backend needs to provision.

- local, iscsi: no provisioner (`kubernetes.io/no-provisioner`); khatui writes the PersistentVolumes:
  one per path per worker node for local disks (pinned to the node by nodeAffinity), one for the LUN.
  Their size is the class's `capacity`; their reclaim policy is Retain, as nothing could delete a
  static volume.
- nfs: one nfs-subdir-external-provisioner Deployment (+ RBAC) per class.
- ceph-rbd, aws-ebs, gce-pd, azure-disk: the backend's CSI driver, once however many classes use it.
- glusterfs: refused. Kubernetes removed its in-tree GlusterFS plugin in v1.26 and there is no
  maintained CSI driver; khatui installs v1.29+, so no rendering of it could mount a volume.

Exactly the classes marked `default` get the default-class annotation (the spec rules allow one).
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from khatui.render import csi, csidrivers, yamltext
from khatui.render.context import RenderContext
from khatui.render.errors import RenderError
from khatui.render.files import FileKind, RenderedFile, Stage
from khatui.spec.nodes import Node, Role
from khatui.spec.persistence import (
    AWSEBSClass,
    AzureDiskClass,
    CephRBDClass,
    GCEPDClass,
    ISCSIClass,
    LocalClass,
    NFSClass,
    StorageClass,
)

NFS_IMAGE = "registry.k8s.io/sig-storage/nfs-subdir-external-provisioner:v4.0.2"
DEFAULT_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
NO_PROVISIONER = "kubernetes.io/no-provisioner"


def _provisioner(klass: StorageClass) -> str:
    if isinstance(klass, LocalClass | ISCSIClass):
        return NO_PROVISIONER
    if isinstance(klass, NFSClass):
        return f"khatui.io/nfs-{klass.name}"
    if isinstance(klass, CephRBDClass):
        return "rbd.csi.ceph.com"
    if isinstance(klass, AWSEBSClass):
        return "ebs.csi.aws.com"
    if isinstance(klass, GCEPDClass):
        return "pd.csi.storage.gke.io"
    if isinstance(klass, AzureDiskClass):
        return "disk.csi.azure.com"
    raise RenderError(
        f"storage class {klass.name!r}: GlusterFS cannot be provisioned on Kubernetes v1.26 or newer "
        "(the in-tree plugin was removed and no maintained CSI driver exists); use nfs or ceph-rbd"
    )


def _parameters(klass: StorageClass) -> dict[str, str]:
    if isinstance(klass, NFSClass):
        return {"archiveOnDelete": "false"}
    if isinstance(klass, CephRBDClass):
        ref = {"name": klass.secret_ref.name, "namespace": klass.secret_ref.namespace}
        params = {"clusterID": klass.cluster_id, "pool": klass.pool, "imageFeatures": "layering"}
        for use in ("provisioner", "controller-expand", "node-stage"):
            params[f"csi.storage.k8s.io/{use}-secret-name"] = ref["name"]
            params[f"csi.storage.k8s.io/{use}-secret-namespace"] = ref["namespace"]
        params["csi.storage.k8s.io/fstype"] = "ext4"
        return params
    if isinstance(klass, AWSEBSClass):
        return {
            "type": klass.type,
            "encrypted": str(klass.encrypted).lower(),
            "csi.storage.k8s.io/fstype": klass.fs_type,
        }
    if isinstance(klass, GCEPDClass):
        return {"type": klass.type, "replication-type": klass.replication_type}
    if isinstance(klass, AzureDiskClass):
        return {"skuName": klass.sku_name, "cachingMode": klass.caching_mode}
    return {}


def storage_class(klass: StorageClass) -> dict[str, Any]:
    """The StorageClass object of `klass`."""
    metadata: dict[str, Any] = {"name": klass.name}
    annotations = {DEFAULT_ANNOTATION: "true"} if klass.default else {}
    if isinstance(klass, CephRBDClass):
        annotations["khatui.io/ceph-user"] = klass.user
    if annotations:
        metadata["annotations"] = annotations
    obj: dict[str, Any] = {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": metadata,
        "provisioner": _provisioner(klass),
        "reclaimPolicy": klass.reclaim_policy,
    }
    params = _parameters(klass)
    if params:
        obj["parameters"] = params
    static = isinstance(klass, LocalClass | ISCSIClass)
    obj["volumeBindingMode"] = "WaitForFirstConsumer" if static or _is_cloud(klass) else "Immediate"
    if not static:
        obj["allowVolumeExpansion"] = not isinstance(klass, NFSClass)
    if isinstance(klass, NFSClass) and klass.mount_options:
        obj["mountOptions"] = list(klass.mount_options)
    if isinstance(klass, CephRBDClass):
        obj["mountOptions"] = ["discard"]
    return obj


def _is_cloud(klass: StorageClass) -> bool:
    return isinstance(klass, AWSEBSClass | GCEPDClass | AzureDiskClass)


def _static_pv(name: str, klass: LocalClass | ISCSIClass, source: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": name},
        "spec": {
            "capacity": {"storage": klass.capacity},
            "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": klass.name,
            "volumeMode": "Filesystem",
            **source,
        },
    }


def local_volumes(ctx: RenderContext, klass: LocalClass) -> list[dict[str, Any]]:
    """One PV per path per worker node, pinned to that node."""
    volumes = []
    for node in ctx.spec.with_role(Role.WORKER):
        for index, path in enumerate(klass.paths, 1):
            affinity = {"key": "kubernetes.io/hostname", "operator": "In", "values": [node.name]}
            source = {
                "local": {"path": path},
                "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [affinity]}]}},
            }
            volumes.append(_static_pv(f"{klass.name}-{node.name}-{index}", klass, source))
    return volumes


def iscsi_volume(klass: ISCSIClass) -> dict[str, Any]:
    """The PV of an iSCSI LUN (port 3260 when the portal has none)."""
    portal = klass.portal if klass.portal.rsplit("]", 1)[-1].count(":") == 1 else f"{klass.portal}:3260"
    source = {"iscsi": {"targetPortal": portal, "iqn": klass.iqn, "lun": klass.lun, "fsType": klass.fs_type}}
    return _static_pv(f"{klass.name}-lun{klass.lun}", klass, source)


def nfs_provisioner(klass: NFSClass) -> list[dict[str, Any]]:
    """nfs-subdir-external-provisioner for one NFS class (its own name, RBAC and Deployment)."""
    name = f"nfs-provisioner-{klass.name}"
    namespace = "kube-system"
    subject = [{"kind": "ServiceAccount", "name": name, "namespace": namespace}]
    rules = [
        {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": [""], "resources": ["persistentvolumes"], "verbs": ["get", "list", "watch", "create", "delete"]},
        {"apiGroups": [""], "resources": ["persistentvolumeclaims"], "verbs": ["get", "list", "watch", "update"]},
        {"apiGroups": ["storage.k8s.io"], "resources": ["storageclasses"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "update", "patch"]},
    ]
    # Its leader lock, as upstream's deploy/rbac.yaml grants it (kubernetes-sigs/nfs-subdir-external-provisioner
    # @55d05cc: Role leader-locking-nfs-client-provisioner): an Endpoints lock, and leases.
    lease_rules = [
        {"apiGroups": [""], "resources": ["endpoints"], "verbs": ["get", "list", "watch", "create", "update", "patch"]},
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "create", "update"]},
    ]
    rbac = "rbac.authorization.k8s.io/v1"
    labels = {"app": name}
    env = [
        {"name": "PROVISIONER_NAME", "value": _provisioner(klass)},
        {"name": "NFS_SERVER", "value": klass.server},
        {"name": "NFS_PATH", "value": klass.path},
    ]
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "replicas": 1,
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "serviceAccountName": name,
                    "containers": [
                        {
                            "name": "nfs-client-provisioner",
                            "image": NFS_IMAGE,
                            "env": env,
                            "volumeMounts": [{"name": "nfs-client-root", "mountPath": "/persistentvolumes"}],
                        }
                    ],
                    "volumes": [{"name": "nfs-client-root", "nfs": {"server": klass.server, "path": klass.path}}],
                },
            },
        },
    }
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": namespace}},
        {"apiVersion": rbac, "kind": "ClusterRole", "metadata": {"name": name}, "rules": rules},
        {
            "apiVersion": rbac,
            "kind": "ClusterRoleBinding",
            "metadata": {"name": name},
            "subjects": subject,
            "roleRef": {"kind": "ClusterRole", "name": name, "apiGroup": "rbac.authorization.k8s.io"},
        },
        {"apiVersion": rbac, "kind": "Role", "metadata": {"name": name, "namespace": namespace}, "rules": lease_rules},
        {
            "apiVersion": rbac,
            "kind": "RoleBinding",
            "metadata": {"name": name, "namespace": namespace},
            "subjects": subject,
            "roleRef": {"kind": "Role", "name": name, "apiGroup": "rbac.authorization.k8s.io"},
        },
        deployment,
    ]


def class_objects(ctx: RenderContext, klass: StorageClass) -> list[dict[str, Any]]:
    """The StorageClass and the objects that belong to it alone (PVs, an NFS provisioner)."""
    objects = [storage_class(klass)]
    if isinstance(klass, LocalClass):
        objects += local_volumes(ctx, klass)
    elif isinstance(klass, ISCSIClass):
        objects.append(iscsi_volume(klass))
    elif isinstance(klass, NFSClass):
        objects = nfs_provisioner(klass) + objects
    return objects


def driver_objects(classes: list[StorageClass]) -> dict[str, list[dict[str, Any]]]:
    """CSI driver objects shared by classes, by backend name, each backend once."""
    drivers: dict[str, list[dict[str, Any]]] = {}
    ceph = [k for k in classes if isinstance(k, CephRBDClass)]
    if ceph:
        drivers["ceph-rbd"] = csidrivers.ceph_config_maps(ceph) + csi.objects(csidrivers.ceph_rbd())
    for backend, kind, factory in (
        ("aws-ebs", AWSEBSClass, csidrivers.aws_ebs),
        ("gce-pd", GCEPDClass, csidrivers.gce_pd),
        ("azure-disk", AzureDiskClass, csidrivers.azure_disk),
    ):
        if any(isinstance(k, kind) for k in classes):
            drivers[backend] = csi.objects(factory())
    return drivers


def addon_files(ctx: RenderContext, node: Node, directory: PurePosixPath) -> list[RenderedFile]:
    """Storage addons, applied from `node`: drivers first (40-), then classes (41-)."""
    classes = list(ctx.spec.persistence.classes)
    for klass in classes:
        _provisioner(klass)  # refuses what cannot work before any file is produced
    files = []
    for backend, objects in driver_objects(classes).items():
        path = directory / f"40-csi-{backend}.yaml"
        files.append(
            ctx.config(node, path, yamltext.dump_all(objects), "storage", FileKind.ADDON, stage=Stage.AFTER_KUBEADM)
        )
    for klass in classes:
        path = directory / f"41-storage-{klass.name}.yaml"
        body = yamltext.dump_all(class_objects(ctx, klass))
        files.append(ctx.config(node, path, body, "storage", FileKind.ADDON, stage=Stage.AFTER_KUBEADM))
    return files
