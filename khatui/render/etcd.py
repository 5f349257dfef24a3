"""etcd members: the flags, a systemd unit or a kubelet static pod, and the health check.

One flag list feeds both ways of running a member (`spec.etcd.runAs`), so a unit and a static pod
of the same member can never disagree. Flags are limited to those etcd 3.4
and 3.5 (Debian trixie's etcd-server 3.5.16, which the tests run) both accept: nothing `--experimental-*`, no metrics listener.

Every member listens for clients on its address and on loopback (the health probe and a stacked
apiserver can use loopback; the certificates carry 127.0.0.1 / ::1 as kubeadm's do), and for peers on
its address only. Client and peer traffic both require certificates signed by the etcd CA.

`state=existing` renders the member that `etcdctl member add` has announced to a running cluster:
same flags, `--initial-cluster-state=existing`, the same member list (the spec already holds it).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import PurePosixPath

from khatui import nodepaths
from khatui.quoting import shell, systemd
from khatui.render import yamltext
from khatui.render.context import RenderContext
from khatui.render.files import FileKind, RenderedFile
from khatui.render.urls import https_url
from khatui.spec.components import EtcdRunAs
from khatui.spec.nodes import Node, Role

UNIT_PATH = PurePosixPath("/etc/systemd/system/etcd.service")
"""Same name as Debian's packaged unit, so the packaged one is overridden rather than run twice."""
MANIFEST_PATH = nodepaths.MANIFESTS_DIR / "etcd.yaml"
ETCD_BINARY = "/usr/bin/etcd"
"""Where Debian's etcd-server installs etcd (the systemd unit runs it)."""
IMAGE_ETCDCTL = "etcdctl"
"""etcdctl inside the registry.k8s.io/etcd image (on its PATH)."""


class ClusterState(StrEnum):
    """`--initial-cluster-state`: founding member or one added to a running cluster."""

    NEW = "new"
    EXISTING = "existing"


def _loopback(node: Node) -> str | None:
    if node.address.is_loopback:
        return None
    return "::1" if node.address.version == 6 else "127.0.0.1"


def initial_cluster(ctx: RenderContext) -> str:
    """`name=https://addr:peerPort,...` for every member, in spec order."""
    port = ctx.spec.etcd.peer_port
    return ",".join(f"{m.name}={https_url(m.address, port)}" for m in ctx.etcd_members)


def flags(ctx: RenderContext, node: Node, state: ClusterState = ClusterState.NEW) -> list[str]:
    """Command-line flags of the etcd member on `node`."""
    etcd = ctx.spec.etcd
    client = https_url(node.address, etcd.client_port)
    peer = https_url(node.address, etcd.peer_port)
    loopback = _loopback(node)
    listen_client = f"{https_url(loopback, etcd.client_port)},{client}" if loopback else client
    return [
        f"--name={node.name}",
        f"--data-dir={etcd.data_dir}",
        f"--listen-client-urls={listen_client}",
        f"--advertise-client-urls={client}",
        f"--listen-peer-urls={peer}",
        f"--initial-advertise-peer-urls={peer}",
        f"--initial-cluster={initial_cluster(ctx)}",
        f"--initial-cluster-state={state}",
        f"--initial-cluster-token=khatui-{ctx.name}",
        "--client-cert-auth=true",
        f"--trusted-ca-file={nodepaths.ETCD_CA_CERT}",
        f"--cert-file={nodepaths.ETCD_SERVER_CERT}",
        f"--key-file={nodepaths.ETCD_SERVER_KEY}",
        "--peer-client-cert-auth=true",
        f"--peer-trusted-ca-file={nodepaths.ETCD_CA_CERT}",
        f"--peer-cert-file={nodepaths.ETCD_PEER_CERT}",
        f"--peer-key-file={nodepaths.ETCD_PEER_KEY}",
        "--snapshot-count=10000",
    ]


def health_endpoint(ctx: RenderContext, node: Node) -> str:
    """The URL the health check uses: loopback when the member listens there, else its address."""
    host = _loopback(node) or str(node.address)
    return https_url(host, ctx.spec.etcd.client_port)


def health_command(ctx: RenderContext, node: Node, etcdctl: str = "etcdctl") -> list[str]:
    """`etcdctl endpoint health` for the member on `node`, authenticated with the healthcheck client cert."""
    return [
        etcdctl,
        f"--endpoints={health_endpoint(ctx, node)}",
        f"--cacert={nodepaths.ETCD_CA_CERT}",
        f"--cert={nodepaths.ETCD_HEALTHCHECK_CERT}",
        f"--key={nodepaths.ETCD_HEALTHCHECK_KEY}",
        "--command-timeout=5s",
        "endpoint",
        "health",
    ]


def unit(ctx: RenderContext, node: Node, state: ClusterState = ClusterState.NEW) -> str:
    """The systemd unit running the member (Type=notify: etcd reports ready once it has joined)."""
    args = systemd.exec_line([ETCD_BINARY, *flags(ctx, node, state)], separator=" \\\n  ")
    description = systemd.value(f"etcd member {node.name} of cluster {ctx.name}")
    return f"""\
[Unit]
Description={description}
Documentation=https://etcd.io/docs/
Wants=network-online.target
After=network-online.target

[Service]
Type=notify
ExecStart={args}
Restart=on-failure
RestartSec=5s
# The first members of a new cluster report ready only once a quorum has formed.
TimeoutStartSec=infinity
LimitNOFILE=65536

[Install]
WantedBy=multi-user.target
"""


def _probe(ctx: RenderContext, node: Node, failure_threshold: int) -> dict[str, object]:
    return {
        "exec": {"command": health_command(ctx, node, IMAGE_ETCDCTL)},
        "initialDelaySeconds": 10,
        "periodSeconds": 10,
        "timeoutSeconds": 15,
        "failureThreshold": failure_threshold,
    }


def static_pod(ctx: RenderContext, node: Node, state: ClusterState = ClusterState.NEW) -> dict[str, object]:
    """The kubelet static pod running the member (kubeadm's shape: host network, hostPath data)."""
    etcd = ctx.spec.etcd
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "etcd",
            "namespace": "kube-system",
            "labels": {"component": "etcd", "tier": "control-plane"},
            "annotations": {
                "kubeadm.kubernetes.io/etcd.advertise-client-urls": https_url(node.address, etcd.client_port)
            },
        },
        "spec": {
            "hostNetwork": True,
            "priorityClassName": "system-node-critical",
            "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [
                {
                    "name": "etcd",
                    "image": f"registry.k8s.io/etcd:{etcd.version.lstrip('v')}-0",
                    "imagePullPolicy": "IfNotPresent",
                    "command": ["etcd", *flags(ctx, node, state)],
                    "resources": {"requests": {"cpu": "100m", "memory": "100Mi"}},
                    "livenessProbe": _probe(ctx, node, 8),
                    "startupProbe": _probe(ctx, node, 24),
                    "volumeMounts": [
                        {"name": "etcd-data", "mountPath": etcd.data_dir},
                        {"name": "etcd-certs", "mountPath": str(nodepaths.ETCD_PKI_DIR), "readOnly": True},
                    ],
                }
            ],
            "volumes": [
                {"name": "etcd-data", "hostPath": {"path": etcd.data_dir, "type": "DirectoryOrCreate"}},
                {"name": "etcd-certs", "hostPath": {"path": str(nodepaths.ETCD_PKI_DIR), "type": "Directory"}},
            ],
        },
    }


def etcdctl_env(ctx: RenderContext, node: Node) -> str:
    """ETCDCTL_* variables so `etcdctl endpoint health` on the node needs no flags (sourced by `sh`)."""
    return shell.env_file(
        {
            "ETCDCTL_API": 3,
            "ETCDCTL_ENDPOINTS": health_endpoint(ctx, node),
            "ETCDCTL_CACERT": nodepaths.ETCD_CA_CERT,
            "ETCDCTL_CERT": nodepaths.ETCD_HEALTHCHECK_CERT,
            "ETCDCTL_KEY": nodepaths.ETCD_HEALTHCHECK_KEY,
        }
    )


def node_files(ctx: RenderContext, node: Node, state: ClusterState = ClusterState.NEW) -> list[RenderedFile]:
    """The files an etcd member's node needs (nothing for other nodes)."""
    if not node.has(Role.ETCD):
        return []
    env = ctx.config(node, nodepaths.ETCDCTL_ENV, etcdctl_env(ctx, node), "etcd", mode=0o600)
    if ctx.spec.etcd.run_as is EtcdRunAs.SYSTEMD:
        return [ctx.config(node, UNIT_PATH, unit(ctx, node, state), "etcd", FileKind.UNIT), env]
    manifest = yamltext.dump(static_pod(ctx, node, state))
    return [ctx.config(node, MANIFEST_PATH, manifest, "etcd", FileKind.MANIFEST, mode=0o600), env]
