"""What a renderer produces: one file for one node, with where it goes and how it is owned.

A `RenderedFile` is a plain value (no I/O): the engine uploads it, `khatui render` writes it under a
folder, tests feed it to the real tool that reads it. Cluster-wide Kubernetes objects (CoreDNS,
storage, the kube-proxy ConfigMap) are files too: they live on the first control plane, where the
engine applies them with kubectl, so "what does node X get" stays the only question.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from khatui.quoting.lines import UnsafeValue, one_line


class FileKind(StrEnum):
    """What a file is, which decides how the engine installs it and which tool checks it."""

    CONFIG = "config"
    """A configuration file read by a daemon or tool on the node."""
    UNIT = "unit"
    """A systemd unit or drop-in (`systemctl daemon-reload` after writing)."""
    MANIFEST = "manifest"
    """A kubelet static-pod manifest in /etc/kubernetes/manifests."""
    ADDON = "addon"
    """Kubernetes objects the engine applies with kubectl once the API is up."""
    SCRIPT = "script"
    """An executable a daemon runs (a keepalived check script)."""
    CERTIFICATE = "certificate"
    """A PEM certificate (from the PKI store; never rendered here)."""
    KEY = "key"
    """A PEM private key (from the PKI store; never rendered here)."""


class Stage(StrEnum):
    """When the engine puts a file in place relative to kubeadm."""

    BEFORE_KUBEADM = "before-kubeadm"
    """Needed before `kubeadm init/join` runs (etcd, load balancer, kubeadm's own config)."""
    UNTIL_KUBEADM = "until-kubeadm"
    """Needed before kubeadm and removed right before it runs: the standalone kubelet that starts
    static-pod etcd on a node kubeadm is about to take over."""
    AFTER_KUBEADM = "after-kubeadm"
    """Replaces or adds to what kubeadm created: kubeadm's join preflight refuses some of these files
    when they already exist, and addons need a running API."""


@dataclass(frozen=True, slots=True)
class RenderedFile:
    """One file for one node. Invariant: `path` is absolute, one line, without `.` or `..` (a spec value
    in a file name cannot leave its folder), and `mode` has no type bits."""

    node: str
    """Name of the node the file belongs to."""
    path: str
    """Absolute path on the node."""
    content: str | bytes
    """File content; text is written as UTF-8."""
    kind: FileKind
    """What the file is."""
    component: str
    """Which part of the cluster it configures (etcd, haproxy, kubeadm, coredns, ...)."""
    mode: int = 0o644
    """Permission bits."""
    owner: str = "root:root"
    """user:group on the node."""
    stage: Stage = Stage.BEFORE_KUBEADM
    """When the engine installs it."""

    def __post_init__(self) -> None:
        one_line(self.path, "a file path")
        if not self.path.startswith("/") or any(part in ("", ".", "..") for part in self.path[1:].split("/")):
            raise UnsafeValue(f"{self.path!r} cannot be a file path: it must be absolute and plain (no . or ..)")

    @property
    def data(self) -> bytes:
        """The content as bytes."""
        return self.content.encode() if isinstance(self.content, str) else self.content

    @property
    def text(self) -> str:
        """The content as text (certificates and keys are ASCII PEM)."""
        return self.content if isinstance(self.content, str) else self.content.decode()
