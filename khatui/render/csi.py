"""CSI drivers in the standard two-part layout: a controller Deployment (the driver plus the
external-provisioner, -attacher and -resizer sidecars, leader-elected) and a node DaemonSet (the
driver plus node-driver-registrar), with their service accounts, RBAC and CSIDriver object.

Every CSI backend khatui supports (ceph-csi RBD, AWS EBS, GCE PD, Azure Disk) ships upstream in this
shape; only the driver image, its arguments, its volumes and a few RBAC rules differ, which is what
`Driver` describes. The snapshotter sidecar is left out: it needs the VolumeSnapshot CRDs and
controller, which khatui does not install. Cloud credentials are only ever referenced (a Secret name),
never written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SIDECARS = {
    "csi-provisioner": "registry.k8s.io/sig-storage/csi-provisioner:v5.0.1",
    "csi-attacher": "registry.k8s.io/sig-storage/csi-attacher:v4.6.1",
    "csi-resizer": "registry.k8s.io/sig-storage/csi-resizer:v1.11.1",
}
REGISTRAR = "registry.k8s.io/sig-storage/csi-node-driver-registrar:v2.11.1"
KUBELET_DIR = "/var/lib/kubelet"
Rule = tuple[str, str, str]
"""(apiGroup, resource, comma-separated verbs)."""

CONTROLLER_RULES: tuple[Rule, ...] = (
    ("", "persistentvolumes", "get,list,watch,create,update,delete,patch"),
    ("", "persistentvolumeclaims", "get,list,watch,update"),
    ("", "persistentvolumeclaims/status", "patch,update"),
    ("", "events", "list,watch,create,update,patch"),
    ("", "nodes", "get,list,watch"),
    ("", "pods", "get,list,watch"),
    ("storage.k8s.io", "storageclasses", "get,list,watch"),
    ("storage.k8s.io", "csinodes", "get,list,watch"),
    ("storage.k8s.io", "volumeattachments", "get,list,watch,update,patch"),
    ("storage.k8s.io", "volumeattachments/status", "patch"),
)
"""What external-provisioner, -attacher and -resizer need cluster-wide."""
NODE_RULES: tuple[Rule, ...] = (("", "nodes", "get"),)


@dataclass(frozen=True)
class Driver:
    """One CSI driver's deployment. Invariant: `name` is the CSI driver name the StorageClass uses."""

    name: str
    prefix: str
    namespace: str
    image: str
    controller_args: list[str]
    node_args: list[str]
    env: list[dict[str, Any]] = field(default_factory=list)
    """Extra environment of the driver container (both parts)."""
    controller_env: list[dict[str, Any]] = field(default_factory=list)
    volumes: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    """(volume, mount path) pairs mounted into the driver container of both parts."""
    controller_volumes: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    node_volumes: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    controller_rules: tuple[Rule, ...] = ()
    node_rules: tuple[Rule, ...] = ()
    host_network: bool = False
    """Node plugin on the host network (ceph-csi: the kernel RBD client talks to the monitors)."""


def _rules(rules: tuple[Rule, ...]) -> list[dict[str, Any]]:
    return [
        {"apiGroups": [group], "resources": [resource], "verbs": verbs.split(",")} for group, resource, verbs in rules
    ]


def _field_env(name: str, path: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"fieldRef": {"fieldPath": path}}}


def _rbac(driver: Driver, part: str, rules: tuple[Rule, ...]) -> list[dict[str, Any]]:
    name = f"{driver.prefix}-{part}"
    subject = {"kind": "ServiceAccount", "name": name, "namespace": driver.namespace}
    role_ref = {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name}
    objects: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": driver.namespace}},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": name},
            "rules": _rules(rules),
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": name},
            "subjects": [subject],
            "roleRef": role_ref,
        },
    ]
    if part == "controller":
        leases = _rules((("coordination.k8s.io", "leases", "get,watch,list,delete,update,create"),))
        objects += [
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "Role",
                "metadata": {"name": f"{name}-leases", "namespace": driver.namespace},
                "rules": leases,
            },
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": {"name": f"{name}-leases", "namespace": driver.namespace},
                "subjects": [subject],
                "roleRef": {**role_ref, "kind": "Role", "name": f"{name}-leases"},
            },
        ]
    return objects


def _driver_container(
    driver: Driver, args: list[str], extra_env: list[dict[str, Any]], mounts: list[dict[str, Any]], node: bool
) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": "csi-driver",
        "image": driver.image,
        "imagePullPolicy": "IfNotPresent",
        "args": args,
        "env": [
            {"name": "CSI_ENDPOINT", "value": "unix:///csi/csi.sock"},
            _field_env("NODE_ID", "spec.nodeName"),
            _field_env("POD_NAMESPACE", "metadata.namespace"),
            *driver.env,
            *extra_env,
        ],
        "volumeMounts": [{"name": "socket-dir", "mountPath": "/csi"}, *mounts],
    }
    if node:
        container["securityContext"] = {"privileged": True, "capabilities": {"add": ["SYS_ADMIN"]}}
    return container


def _mounts(volumes: list[tuple[dict[str, Any], str]]) -> list[dict[str, Any]]:
    return [{"name": volume["name"], "mountPath": path} for volume, path in volumes]


def controller(driver: Driver) -> dict[str, Any]:
    """The controller Deployment (two replicas, sidecars leader-elected)."""
    name = f"{driver.prefix}-controller"
    labels = {"app": name}
    volumes = driver.volumes + driver.controller_volumes
    sidecars = [
        {
            "name": sidecar,
            "image": image,
            "imagePullPolicy": "IfNotPresent",
            "args": ["--csi-address=/csi/csi.sock", "--leader-election=true", "--timeout=150s", "--v=2"],
            "volumeMounts": [{"name": "socket-dir", "mountPath": "/csi"}],
        }
        for sidecar, image in SIDECARS.items()
    ]
    mounts = _mounts(volumes)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": driver.namespace},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "serviceAccountName": name,
                    "priorityClassName": "system-cluster-critical",
                    "containers": [
                        _driver_container(driver, driver.controller_args, driver.controller_env, mounts, False),
                        *sidecars,
                    ],
                    "volumes": [{"name": "socket-dir", "emptyDir": {"medium": "Memory"}}, *(v for v, _ in volumes)],
                },
            },
        },
    }


def _host(name: str, path: str, kind: str | None = None) -> dict[str, Any]:
    host_path: dict[str, Any] = {"path": path}
    if kind:
        host_path["type"] = kind
    return {"name": name, "hostPath": host_path}


def node_plugin(driver: Driver) -> dict[str, Any]:
    """The node DaemonSet (runs on every node, control planes included)."""
    name = f"{driver.prefix}-node"
    labels = {"app": name}
    plugin_dir = f"{KUBELET_DIR}/plugins/{driver.name}"
    volumes = driver.volumes + driver.node_volumes
    mounts = _mounts(volumes)
    mounts += [
        {"name": "kubelet-dir", "mountPath": KUBELET_DIR, "mountPropagation": "Bidirectional"},
        {"name": "device-dir", "mountPath": "/dev"},
    ]
    registrar = {
        "name": "node-driver-registrar",
        "image": REGISTRAR,
        "imagePullPolicy": "IfNotPresent",
        "args": ["--csi-address=/csi/csi.sock", f"--kubelet-registration-path={plugin_dir}/csi.sock", "--v=2"],
        "volumeMounts": [
            {"name": "socket-dir", "mountPath": "/csi"},
            {"name": "registration-dir", "mountPath": "/registration"},
        ],
    }
    spec: dict[str, Any] = {
        "serviceAccountName": name,
        "priorityClassName": "system-node-critical",
        "tolerations": [{"operator": "Exists"}],
        "containers": [_driver_container(driver, driver.node_args, [], mounts, True), registrar],
        "volumes": [
            _host("socket-dir", plugin_dir, "DirectoryOrCreate"),
            _host("registration-dir", f"{KUBELET_DIR}/plugins_registry", "Directory"),
            _host("kubelet-dir", KUBELET_DIR, "Directory"),
            _host("device-dir", "/dev", "Directory"),
            *(v for v, _ in volumes),
        ],
    }
    if driver.host_network:
        spec["hostNetwork"] = True
        spec["dnsPolicy"] = "ClusterFirstWithHostNet"
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": name, "namespace": driver.namespace},
        "spec": {"selector": {"matchLabels": labels}, "template": {"metadata": {"labels": labels}, "spec": spec}},
    }


def objects(driver: Driver) -> list[dict[str, Any]]:
    """Everything the driver needs, in apply order."""
    csi_driver = {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "CSIDriver",
        "metadata": {"name": driver.name},
        "spec": {"attachRequired": True, "podInfoOnMount": False, "fsGroupPolicy": "File"},
    }
    return [
        csi_driver,
        *_rbac(driver, "controller", CONTROLLER_RULES + driver.controller_rules),
        *_rbac(driver, "node", NODE_RULES + driver.node_rules),
        controller(driver),
        node_plugin(driver),
    ]
