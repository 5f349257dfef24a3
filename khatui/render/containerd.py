"""containerd for Kubernetes: its config.toml, its systemd unit, one hosts.toml per image mirror.

Rendered only when khatui installs the nodes (`spec.install.enabled`) and only for nodes that run a
kubelet (control planes, workers, static-pod etcd members); otherwise the runtime is the operator's.
The config is the smallest one that makes containerd what the kubelet expects: the CRI plugin on
(`disabled_plugins = []`: some distribution packages ship it disabled), runc with `SystemdCgroup =
true` (the kubelet's cgroup driver, see `kubelet.CGROUP_DRIVER`), the pause image kubeadm pins for
the Kubernetes version, and registry hosts read from /etc/containerd/certs.d (containerd
docs/hosts.md), where each `spec.install.images.mirrors` registry gets its hosts.toml. Everything
else keeps containerd's defaults (docs/cri/config.md).

The config's format follows containerd's major version: `version = 3` (plugin ids
io.containerd.cri.v1.*) when the spec pins containerd 2.x, else `version = 2`, which containerd 1.x
reads and 2.x converts on load, so the version khatui pairs by default (1.7) and any later one work.
The unit is upstream's containerd.service, run from where the runtime phase installs containerd.
"""

from __future__ import annotations

from functools import partial
from pathlib import PurePosixPath

from khatui.quoting import systemd, toml
from khatui.render.context import RenderContext
from khatui.render.errors import RenderError
from khatui.render.files import FileKind, RenderedFile
from khatui.render.kubelet import installs_kubelet
from khatui.spec.nodes import Node

CONFIG_PATH = PurePosixPath("/etc/containerd/config.toml")
UNIT_PATH = PurePosixPath("/etc/systemd/system/containerd.service")
"""Under /etc: it takes precedence over a containerd.service a distribution package may ship."""
HOSTS_DIR = PurePosixPath("/etc/containerd/certs.d")
SOCKET = "/run/containerd/containerd.sock"
"""The kubelet's `containerRuntimeEndpoint` (/var/run is a link to /run)."""
CONTAINERD_BINARY = "/usr/local/bin/containerd"
"""Where the runtime phase installs containerd (artifacts.catalog) and upstream's unit runs it."""
IMAGE_REPOSITORY = "registry.k8s.io"
"""kubeadm's default imageRepository, where the control plane's images (and the pause image) come from."""
PAUSE_VERSIONS = {29: "3.9", 30: "3.9", 31: "3.10", 32: "3.10", 33: "3.10"}
"""Kubernetes minor -> the pause image kubeadm pins (kubernetes/kubernetes@v1.<minor>.0
cmd/kubeadm/app/constants/constants.go, PauseVersion)."""
UPSTREAM_SERVERS = {"docker.io": "https://registry-1.docker.io"}
"""Registry hosts whose API is not at https://<host> (containerd docs/hosts.md, "Setup a Local Mirror")."""


def sandbox_image(ctx: RenderContext) -> str:
    """The pause image of the Kubernetes version, from the control plane's image repository."""
    pause = PAUSE_VERSIONS.get(ctx.minor)
    if pause is None:
        known = ", ".join(f"1.{minor}" for minor in PAUSE_VERSIONS)
        raise RenderError(
            f"spec.controlPlane.kubernetesVersion: khatui knows the pause image of Kubernetes {known}, not 1.{ctx.minor}"
        )
    return f"{IMAGE_REPOSITORY}/pause:{pause}"


def _major(version: str | None) -> int:
    return int(version.removeprefix("v").split(".")[0]) if version else 1


def config(ctx: RenderContext) -> str:
    """/etc/containerd/config.toml for the containerd version the spec installs."""
    sandbox, hosts = toml.string(sandbox_image(ctx)), toml.string(str(HOSTS_DIR))
    head = f"disabled_plugins = []\n\n[grpc]\n  address = {toml.string(SOCKET)}\n"
    if _major(ctx.spec.install.binaries.containerd) >= 2:
        runtime = "plugins.'io.containerd.cri.v1.runtime'.containerd"
        return f"""\
version = 3
{head}
[plugins.'io.containerd.cri.v1.images'.pinned_images]
  sandbox = {sandbox}

[plugins.'io.containerd.cri.v1.images'.registry]
  config_path = {hosts}

[{runtime}]
  default_runtime_name = "runc"

[{runtime}.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[{runtime}.runtimes.runc.options]
  SystemdCgroup = true
"""
    cri = 'plugins."io.containerd.grpc.v1.cri"'
    return f"""\
version = 2
{head}
[{cri}]
  sandbox_image = {sandbox}

[{cri}.containerd]
  default_runtime_name = "runc"

[{cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[{cri}.containerd.runtimes.runc.options]
  SystemdCgroup = true

[{cri}.registry]
  config_path = {hosts}
"""


def hosts_toml(registry: str, mirrors: list[str]) -> str:
    """certs.d/<registry>/hosts.toml: the mirrors first, in spec order, then the registry itself."""
    server = UPSTREAM_SERVERS.get(registry, f"https://{registry}")
    tables = "".join(f'\n[host.{toml.string(url)}]\n  capabilities = ["pull", "resolve"]\n' for url in mirrors)
    return f"server = {toml.string(server)}\n{tables}"


def unit() -> str:
    """Upstream's containerd.service (containerd/containerd containerd.service)."""
    return f"""\
[Unit]
Description=containerd container runtime
Documentation=https://containerd.io
After=network.target

[Service]
ExecStartPre=-/sbin/modprobe overlay
ExecStart={systemd.exec_line([CONTAINERD_BINARY])}

Restart=always
Delegate=yes
KillMode=process
# Having non-zero Limit*s causes performance problems due to accounting overhead
# in the kernel. We recommend using cgroups to do container-local accounting.
LimitNPROC=infinity
LimitCORE=infinity
LimitNOFILE=1048576
TasksMax=infinity

[Install]
WantedBy=multi-user.target
"""


def node_files(ctx: RenderContext, node: Node) -> list[RenderedFile]:
    """containerd's files on `node` (none when khatui does not install it there)."""
    if not installs_kubelet(ctx, node):
        return []
    files = [
        ctx.config(node, CONFIG_PATH, ctx.shared("containerd-config", lambda: config(ctx)), "containerd"),
        ctx.config(node, UNIT_PATH, ctx.shared("containerd-unit", unit), "containerd", FileKind.UNIT),
    ]
    for registry, mirrors in ctx.spec.install.images.mirrors.items():
        body = ctx.shared(f"hosts {registry}", partial(hosts_toml, registry, mirrors))
        files.append(ctx.config(node, HOSTS_DIR / registry / "hosts.toml", body, "containerd"))
    return files
