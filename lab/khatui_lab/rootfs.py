"""A node's own files, prepared on the host before its first boot (the overlay upper layers).

A node sees its lower layer's /etc, /usr, /var, /opt, /home and /srv (the host's, or a bare lab's
minimal Debian image, `khatui_lab.image`) through overlays whose upper layers live in
`nodes/<node>/upper/<dir>`; what is written here before boot is simply "the node's file".
Deletions are overlayfs whiteouts (a 0:0 character device), which is how the node loses the lower
layer's enabled units (postgresql, etcd, nginx... would otherwise boot in every node) and the
host's own SSH host keys. /root and /tmp are plain folders bind-mounted by node-init.sh.
"""

from __future__ import annotations

import os
import stat
import uuid
from pathlib import Path

from khatui_lab.keys import write_private
from khatui_lab.layout import LabLayout, NodePlan

OVERLAID = ("etc", "usr", "var", "opt", "home", "srv")
"""Host folders each node sees through an overlay of its own."""
KEEP_WANTS = ("ssh.service", "containerd.service")
"""Units enabled in every node (whatever else the lower layer enables is whited out): sshd, and the
real containerd (Debian's) as the container runtime kubeadm and the kubelet talk to, where the lower
layer has it (a bare node gets containerd from the rollout)."""
CONTAINERD = "usr/bin/containerd"
CONTAINERD_CONFIG = """\
# khatui lab: the node's container runtime, set up before the rollout as the lab pre-installs it.
# The kubelet's cgroup driver is systemd (khatui's KubeletConfiguration), so runc's must be too;
# the sandbox image is the one kubeadm v1.31 names.
version = 2
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.10"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  SystemdCgroup = true
"""
MASK = ("console-getty.service", "getty@tty1.service", "systemd-timesyncd.service")
"""Units masked in every node: no console to log in on, and the host owns the clock."""
HOST = Path("/")
SSHD_DROPIN = """\
# khatui lab: each node has its own ed25519 host key; root logs in with the lab's key only.
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
"""


def node_dir(lab_dir: Path, node: str) -> Path:
    """The folder holding everything of one node."""
    return lab_dir / "nodes" / node


def upper(lab_dir: Path, node: str, path: str) -> Path:
    """Where the node's version of absolute path `path` lives before boot (e.g. '/etc/hostname')."""
    return node_dir(lab_dir, node) / "upper" / path.lstrip("/")


def prepare(
    lab_dir: Path, layout: LabLayout, node: NodePlan, client_public: bytes, host_key: bytes, lower: Path = HOST
) -> None:
    """Create the node's folders and its own files over `lower`: hostname, hosts, machine-id, SSH, units."""
    base = node_dir(lab_dir, node.name)
    (base / "upper").mkdir(parents=True, exist_ok=True)
    for name in OVERLAID:
        _shadow_dirs(lab_dir, node.name, f"/{name}", lower)
        (base / "work" / name).mkdir(parents=True, exist_ok=True)
    (base / "tmp").mkdir(parents=True, exist_ok=True)
    (base / "tmp").chmod(0o1777)
    ssh_dir = base / "root" / ".ssh"
    ssh_dir.mkdir(parents=True, exist_ok=True)
    (base / "root").chmod(0o700)
    ssh_dir.chmod(0o700)
    write_private(ssh_dir / "authorized_keys", client_public)

    _write(lab_dir, node.name, "/etc/hostname", f"{node.name}\n", lower)
    hosts = ["127.0.0.1 localhost", "::1 localhost ip6-localhost ip6-loopback"]
    hosts += [f"{other.address} {other.name}" for other in layout.nodes]
    _write(lab_dir, node.name, "/etc/hosts", "\n".join(hosts) + "\n", lower)
    _write(lab_dir, node.name, "/etc/machine-id", uuid.uuid4().hex + "\n", lower, mode=0o444)
    _ssh_host_key(lab_dir, node.name, host_key, lower)
    runtime = (lower / CONTAINERD).exists()
    if runtime:
        _write(lab_dir, node.name, "/etc/containerd/config.toml", CONTAINERD_CONFIG, lower)
    _units(lab_dir, node.name, lower, KEEP_WANTS if runtime else KEEP_WANTS[:1])


def _ssh_host_key(lab_dir: Path, node: str, host_key: bytes, lower: Path) -> None:
    key = upper(lab_dir, node, "/etc/ssh/ssh_host_ed25519_key")
    _shadow_dirs(lab_dir, node, "/etc/ssh", lower)
    write_private(key, host_key)
    for kind in ("rsa", "ecdsa", "dsa"):
        for suffix in ("", ".pub"):
            if (lower / f"etc/ssh/ssh_host_{kind}_key{suffix}").exists():
                _whiteout(lab_dir, node, f"/etc/ssh/ssh_host_{kind}_key{suffix}", lower)
    _write(lab_dir, node, "/etc/ssh/sshd_config.d/00-khatui-lab.conf", SSHD_DROPIN, lower)


def _units(lab_dir: Path, node: str, lower: Path, keep: tuple[str, ...]) -> None:
    system = lower / "etc/systemd/system"
    for wants in sorted(system.glob("*.wants")):
        for link in sorted(wants.iterdir()):
            if link.name not in keep:
                _whiteout(lab_dir, node, f"/etc/systemd/system/{wants.name}/{link.name}", lower)
    for unit in keep:
        link = upper(lab_dir, node, f"/etc/systemd/system/multi-user.target.wants/{unit}")
        if not (system / "multi-user.target.wants" / unit).exists() and not link.is_symlink():
            _shadow_dirs(lab_dir, node, "/etc/systemd/system/multi-user.target.wants", lower)
            link.symlink_to(f"/lib/systemd/system/{unit}")
    for unit in MASK:
        masked = upper(lab_dir, node, f"/etc/systemd/system/{unit}")
        _shadow_dirs(lab_dir, node, "/etc/systemd/system", lower)
        if not masked.is_symlink():
            masked.symlink_to("/dev/null")


def _write(lab_dir: Path, node: str, path: str, text: str, lower: Path, mode: int = 0o644) -> None:
    target = upper(lab_dir, node, path)
    _shadow_dirs(lab_dir, node, str(Path(path).parent), lower)
    target.write_text(text)
    target.chmod(mode)


def _whiteout(lab_dir: Path, node: str, path: str, lower: Path) -> None:
    target = upper(lab_dir, node, path)
    _shadow_dirs(lab_dir, node, str(Path(path).parent), lower)
    if not target.exists() and not target.is_symlink():
        os.mknod(target, stat.S_IFCHR | 0o000, os.makedev(0, 0))


def _shadow_dirs(lab_dir: Path, node: str, folder: str, lower: Path) -> None:
    """Create the upper-layer folders of absolute `folder`, each with the mode and owner of `lower`'s."""
    parts = Path(folder).parts[1:]
    for depth in range(1, len(parts) + 1):
        relative = "/".join(parts[:depth])
        target = upper(lab_dir, node, relative)
        if target.is_dir():
            continue
        target.mkdir()
        try:
            info = (lower / relative).stat()
        except FileNotFoundError:
            continue
        os.chown(target, info.st_uid, info.st_gid)
        target.chmod(stat.S_IMODE(info.st_mode))
