"""Putting the stand-ins on a lab node, only when asked (never on a real node: this needs a `Lab`).

It sits beside `khatui_lab.standins`, not in it, so that package is exactly what goes on a node:
every module of it, found with importlib.resources wherever khatui-lab is installed.

Layout on the node, mirroring where Debian's kubeadm/kubelet packages and kubeadm's manifests put
things, so khatui's rendered paths (/usr/bin/kubelet, kubelet.service drop-ins) work unchanged:

    /usr/local/lib/khatui-lab/khatui_lab_standins/   this package (+ VERSION, and schemas.json: the
                                                     version's API schemas, see standins_schemas)
    /usr/local/bin/{kubeadm,kubelet,kubectl,kube-apiserver,kube-controller-manager,kube-scheduler}
                                                     launchers headed "khatui lab stand-in"
    /usr/bin/kubeadm, /usr/bin/kubelet, /usr/bin/kubectl   symlinks to the launchers
    /usr/lib/systemd/system/kubelet.service (+ kubelet.service.d/10-kubeadm.conf)

A bare lab's nodes get only the package and the control-plane launchers here: their kubeadm, kubelet
and kubectl (launchers, symlinks, the kubelet unit) are the rollout's to install, from the lab's
files mirror (`khatui_lab.mirror`), as the real ones would be.

Everything goes in as one tar stream per node (one command, not one per file), replacing the
package folder whole, so installing again is cheap and leaves no stale module behind.
"""

from __future__ import annotations

import io
import tarfile
import time
from importlib import resources
from typing import Protocol

from .standins_schemas import schemas_for

LIB = "/usr/local/lib/khatui-lab"
PACKAGE = "khatui_lab_standins"
LAUNCHERS = {
    "kubeadm": "from khatui_lab_standins.kubeadm import main\nsys.exit(main(sys.argv[1:]))",
    "kubelet": "from khatui_lab_standins.kubelet import main\nsys.exit(main(sys.argv[1:]))",
    "kubectl": "from khatui_lab_standins.kubectl import main\nsys.exit(main(sys.argv[1:]))",
    "kube-apiserver": "from khatui_lab_standins.apiserver import main\nsys.exit(main(sys.argv[1:]))",
    "kube-controller-manager": "from khatui_lab_standins.controller_manager import main\nsys.exit(main(sys.argv[1:]))",
    "kube-scheduler": "from khatui_lab_standins.idle import main\nsys.exit(main(sys.argv[1:], 'kube-scheduler'))",
}
HEADER = """\
#!/usr/bin/python3
# khatui lab stand-in for {name}: NOT the real {name}.
# Put here by `khatui lab` (khatui_lab/standins) on a lab node only, because the real binary cannot
# be installed on the lab's machine. It checks its input and does the minimum real work.
import sys

sys.path.insert(0, "{lib}")
"""
KUBELET_UNIT = """\
# khatui lab stand-in: the kubelet unit of Debian's kubelet package, running the stand-in.
[Unit]
Description=kubelet: The Kubernetes Node Agent (khatui lab stand-in)
Documentation=https://kubernetes.io/docs/
Wants=network-online.target
After=network-online.target

[Service]
ExecStart=/usr/bin/kubelet
Restart=always
StartLimitInterval=0
RestartSec=2
# Static pods outlive a kubelet restart, as containers do with a real container runtime.
KillMode=process

[Install]
WantedBy=multi-user.target
"""
KUBEADM_DROPIN = """\
# khatui lab stand-in: kubeadm's drop-in for the kubelet (as Debian's kubeadm package ships it).
[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
"""


SYMLINKS = ("kubeadm", "kubelet", "kubectl")
"""Stand-ins also reachable as /usr/bin/<name>, where Debian's packages put them."""


class NodeFiles(Protocol):
    """What installing needs from a lab: run a command inside a node, feeding it `input`."""

    def run_in(self, node: str, argv: list[str], *, input: bytes | None = None) -> object:
        """Run `argv` inside `node` (failing loudly)."""


def launcher(name: str) -> str:
    """The /usr/local/bin launcher of stand-in `name`."""
    return HEADER.format(name=name, lib=LIB) + LAUNCHERS[name] + "\n"


def archive(version: str = "v1.31.4", bare: bool = False) -> bytes:
    """Every stand-in file as a tar stream to unpack at / (mtimes now, so Python's caches refresh);
    `bare`: without what the rollout installs (kubeadm, kubelet, kubectl and the kubelet unit)."""
    now = time.time()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:

        def add(path: str, data: bytes, mode: int = 0o644) -> None:
            info = tarfile.TarInfo(path.lstrip("/"))
            info.size, info.mode, info.mtime = len(data), mode, now
            tar.addfile(info, io.BytesIO(data))

        source = resources.files("khatui_lab.standins")
        for module in sorted(entry.name for entry in source.iterdir() if entry.name.endswith(".py")):
            add(f"{LIB}/{PACKAGE}/{module}", (source / module).read_bytes())
        add(f"{LIB}/{PACKAGE}/VERSION", f"{version}\n".encode())
        add(f"{LIB}/{PACKAGE}/schemas.json", schemas_for(version))
        for name in LAUNCHERS:
            if not (bare and name in SYMLINKS):
                add(f"/usr/local/bin/{name}", launcher(name).encode(), 0o755)
        for name in () if bare else SYMLINKS:
            link = tarfile.TarInfo(f"usr/bin/{name}")
            link.type, link.linkname, link.mtime = tarfile.SYMTYPE, f"/usr/local/bin/{name}", now
            tar.addfile(link)
        if not bare:
            add("/usr/lib/systemd/system/kubelet.service", KUBELET_UNIT.encode())
            add("/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf", KUBEADM_DROPIN.encode())
    return buffer.getvalue()


def install_standins(lab: NodeFiles, node: str, version: str = "v1.31.4", bare: bool = False) -> list[str]:
    """Install (or refresh) the stand-ins in `node`, claiming Kubernetes `version`; returns the launchers."""
    script = f"rm -rf {LIB}/{PACKAGE} && tar -x -C / --no-same-owner -f - && systemctl daemon-reload"
    lab.run_in(node, ["/bin/sh", "-c", script], input=archive(version, bare))
    return [f"/usr/local/bin/{name}" for name in LAUNCHERS if not (bare and name in SYMLINKS)]
