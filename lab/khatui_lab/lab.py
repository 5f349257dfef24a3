"""`Lab`: the local lab as the CLI and the end-to-end tests use it (up, down, status, faults).

The lab is real machines made of namespaces on this host: each node has its own network (a veth on
the lab's bridge), mount, pid, uts, ipc and cgroup namespaces, overlays of /etc /usr /var /opt
/home /srv, and the host's systemd as PID 1 running a real sshd. A bare lab (`bare=True`) puts a
minimal Debian image under its nodes instead of the host, and serves them a signed package
repository and a files mirror from the bridge (`khatui_lab.bare`): the rollout installs the rest. Every operation is idempotent and
`down` works from the lab's name alone (see `khatui_lab.layout`), so it cleans up after a crash too.
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from khatui.errors import InputError, KhatuiError
from khatui.userdirs import data_dir
from khatui_lab import bare, boot, cgroups, files, network, preflight, rootfs, serve
from khatui_lab.boot import NodeState
from khatui_lab.host import node_env, run
from khatui_lab.layout import (
    DEFAULT_NAME,
    DEFAULT_NODES,
    DEFAULT_SUBNET,
    LabLayout,
    NodePlan,
    check_name,
    lab_cgroup_name,
    parse_subnet,
    plan_layout,
)
from khatui_lab.standins_install import LIB, install_standins

Progress = Callable[[str], None]


def _quiet(_message: str) -> None:
    """A progress callback that says nothing."""


def labs_dir() -> Path:
    """Where labs live by default: `<data dir>/lab`."""
    return data_dir() / "lab"


@dataclass(frozen=True)
class LabStatus:
    """A lab as seen now."""

    name: str
    """Lab name."""
    exists: bool
    """False when no lab of that name was found."""
    subnet: str | None = None
    """The lab's subnet."""
    lab_dir: str | None = None
    """The lab's folder."""
    nodes: list[NodeState] = field(default_factory=list)
    """Every node's state, in spec order."""
    repository: str | None = None
    """A bare lab's package repository URL (None: not bare)."""
    files: str | None = None
    """A bare lab's files mirror URL."""
    server_up: bool = False
    """True when a bare lab's server runs and answers."""

    @property
    def up(self) -> bool:
        """True when the lab exists, every node is up and a bare lab's server answers."""
        nodes_up = self.exists and bool(self.nodes) and all(node.up for node in self.nodes)
        return nodes_up and (self.repository is None or self.server_up)


class Lab:
    """A named lab of `nodes` nodes on `subnet`, kept in `base_dir/<name>` (default: the data dir);
    `bare`: nodes over a minimal Debian image, served their packages and binaries by the lab."""

    def __init__(
        self,
        name: str = DEFAULT_NAME,
        subnet: str = DEFAULT_SUBNET,
        nodes: int = DEFAULT_NODES,
        base_dir: Path | None = None,
        bare: bool = False,
    ) -> None:
        self.layout: LabLayout = plan_layout(name, parse_subnet(subnet), nodes)
        self.lab_dir: Path = (base_dir or labs_dir()) / name
        self.bare = bare

    @classmethod
    def existing(cls, name: str = DEFAULT_NAME, base_dir: Path | None = None) -> Lab | None:
        """The lab called `name` as recorded in its folder, None when there is none."""
        check_name(name)
        saved = files.load((base_dir or labs_dir()) / name)
        if saved is None:
            return None
        return cls(saved.name, saved.subnet, saved.nodes, base_dir, bare=saved.image is not None)

    @property
    def name(self) -> str:
        """Lab name."""
        return self.layout.name

    @property
    def spec_path(self) -> Path:
        """The lab's cluster spec (`lab.yaml`)."""
        return self.lab_dir / files.SPEC

    @property
    def identity_file(self) -> Path:
        """The private key that logs in as root on every node."""
        return self.lab_dir / files.IDENTITY

    @property
    def known_hosts(self) -> Path:
        """known_hosts with every node's address and host key."""
        return self.lab_dir / files.KNOWN_HOSTS

    @property
    def node_names(self) -> list[str]:
        """The nodes' names, in spec order."""
        return [node.name for node in self.layout.nodes]

    def address(self, node: str) -> str:
        """The node's IP address."""
        return str(self.layout.node(node).address)

    # Life cycle -------------------------------------------------------------------------------

    def up(self, progress: Progress = _quiet) -> list[str]:
        """Bring the lab up (creating what is missing), stand-ins installed (or refreshed) on every node
        so `khatui apply` can run on it; returns the nodes that were booted."""
        preflight.require_linux_root()
        preflight.install_packages(progress, preflight.BARE_PACKAGES if self.bare else ())
        preflight.check_host()
        sources = bare.ensure_sources(progress) if self.bare else None
        with self._lock():
            saved = files.load(self.lab_dir)
            wanted = (str(self.layout.subnet), len(self.layout.nodes), self.bare)
            if saved is not None and (saved.subnet, saved.nodes, saved.image is not None) != wanted:
                raise InputError(
                    f"lab {self.name!r} already exists with {saved.nodes} {'bare' if saved.image else 'host-image'} "
                    f"node(s) on {saved.subnet}: run `khatui lab down --name {self.name}` first"
                )
            if saved is None:
                self._refuse_running_leftovers()
                network.check_subnet_free(self.layout)
                progress(
                    f"creating lab {self.name!r} in {self.lab_dir}: {len(self.layout.nodes)} nodes on {self.layout.subnet}"
                )
                files.create(self.lab_dir, self.layout, sources.image if sources else None)
            network.ensure_bridge(self.layout)
            if sources is not None:
                bare.populate(self.lab_dir, self.name, sources)
                serve.ensure_running(self.layout, self.lab_dir)
                progress(f"repository {serve.repository_url(self.layout)} and files {serve.files_url(self.layout)}: up")
            booted: list[NodePlan] = []
            for node in self.layout.nodes:
                network.ensure_node_network(self.layout, node)
                if boot.pid1(self.layout, node) is None:
                    progress(f"{node.name} {node.address}: booting")
                    boot.start(self.layout, node, rootfs.node_dir(self.lab_dir, node.name), self._lower())
                    booted.append(node)
            started = time.monotonic()
            deadline = started + boot.SSH_TIMEOUT
            for node in self.layout.nodes:
                console = rootfs.node_dir(self.lab_dir, node.name) / "console.log"
                boot.wait_for_sshd(self.layout, node, console, deadline)
                if node in booted:
                    progress(f"{node.name} {node.address}: up, sshd listening ({time.monotonic() - started:.1f} s)")
                else:
                    progress(f"{node.name} {node.address}: already up")
            for node in self.layout.nodes:
                self.install_standins(node.name)
            what = (
                "the control plane (kubeadm, kubelet, kubectl: the files mirror)"
                if self.bare
                else "kubeadm, kubelet, kubectl and the control plane"
            )
            progress(f"stand-ins for {what} installed on every node ({LIB})")
            return [node.name for node in booted]

    def down(self, progress: Progress = _quiet) -> list[str]:
        """Remove everything of the lab (processes, cgroups, namespaces, links, files); returns what went."""
        preflight.require_linux_root()
        with self._lock():
            return remove_lab(self.name, self.lab_dir, progress)

    def status(self) -> LabStatus:
        """Every node's state (PID 1, systemd, sshd)."""
        if files.load(self.lab_dir) is None:
            return LabStatus(self.name, exists=False)
        states = [boot.state(self.layout, node) for node in self.layout.nodes]
        status = LabStatus(self.name, True, str(self.layout.subnet), str(self.lab_dir), states)
        if not self.bare:
            return status
        running = serve.running_pid(self.layout, self.lab_dir) is not None and serve.answering(self.layout)
        return replace(
            status, repository=serve.repository_url(self.layout), files=serve.files_url(self.layout), server_up=running
        )

    # Inside a node ------------------------------------------------------------------------------

    def pid1(self, node: str) -> int:
        """Host pid of the node's PID 1; `KhatuiError` when the node is off."""
        pid = boot.pid1(self.layout, self.layout.node(node))
        if pid is None:
            raise KhatuiError(f"node {node} of lab {self.name!r} is not running")
        return pid

    def run_in(
        self, node: str, argv: Sequence[str], *, input: bytes | None = None, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess[bytes]:
        """Run `argv` inside the node (all its namespaces, a clean environment), capturing output."""
        pid = self.pid1(node)
        return run(
            ["nsenter", "-t", str(pid), "-a", "--", *argv], input=input, check=check, env=node_env(), timeout=timeout
        )

    def put_file(self, node: str, path: str, data: bytes, mode: int = 0o644) -> None:
        """Write `data` to absolute `path` inside the node (parents created), with `mode`."""
        script = 'mkdir -p "$(dirname "$1")" && cat > "$1.khatui-tmp" && chmod "$2" "$1.khatui-tmp" && mv -f "$1.khatui-tmp" "$1"'
        self.run_in(node, ["/bin/sh", "-c", script, "put_file", path, f"{mode:o}"], input=data)

    def install_standins(self, node: str) -> list[str]:
        """Install (or refresh) the kubeadm/kubelet/kubectl/control-plane stand-ins in the node; returns
        their launchers' paths. `up` does it for every node."""
        return install_standins(self, node, bare=self.bare)

    # Faults ---------------------------------------------------------------------------------------

    def cut_link(self, node: str) -> None:
        """Take the node off the network (its veth's host end goes down)."""
        network.set_link(self.layout.node(node), up=False)

    def restore_link(self, node: str) -> None:
        """Put the node back on the network."""
        network.set_link(self.layout.node(node), up=True)

    def power_off(self, node: str) -> bool:
        """Hard power-off: SIGKILL of the node's PID 1; False when it was already off."""
        return boot.power_off(self.layout, self.layout.node(node))

    def power_on(self, node: str, progress: Progress = _quiet) -> None:
        """Boot a powered-off node again (its files are kept, as after a power cut); waits for sshd."""
        plan = self.layout.node(node)
        if boot.pid1(self.layout, plan) is not None:
            return
        node_dir = rootfs.node_dir(self.lab_dir, node)
        boot.start(self.layout, plan, node_dir, self._lower())
        boot.wait_for_sshd(self.layout, plan, node_dir / "console.log", time.monotonic() + boot.SSH_TIMEOUT)
        progress(f"{node} {plan.address}: up again")

    # Internals ------------------------------------------------------------------------------------

    def _lower(self) -> Path:
        """The nodes' lower layer: the image recorded in lab.json (bare), else the host's /."""
        saved = files.load(self.lab_dir)
        return Path(saved.image) if saved is not None and saved.image else rootfs.HOST

    @contextmanager
    def _lock(self) -> Iterator[None]:
        """Serialise lab operations on this lab (two `up`s at once would race on links)."""
        self.lab_dir.parent.mkdir(parents=True, exist_ok=True)
        with open(self.lab_dir.parent / f".{self.name}.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    def _refuse_running_leftovers(self) -> None:
        if cgroups.pids_in(cgroups.lab_cgroup(self.layout.cgroup_name)):
            raise KhatuiError(
                f"processes of an earlier lab {self.name!r} are still running but its folder {self.lab_dir} "
                f"is gone: run `khatui lab down --name {self.name}` first"
            )


def remove_lab(name: str, lab_dir: Path, progress: Progress = _quiet) -> list[str]:
    """Remove every trace of lab `name`, found by name (works without its folder); returns what went."""
    removed: list[str] = []
    lab_cgroup = cgroups.lab_cgroup(lab_cgroup_name(name))
    pids = cgroups.pids_in(lab_cgroup)
    if lab_cgroup.exists():
        for node_cgroup in sorted(path for path in lab_cgroup.iterdir() if path.is_dir()):
            if cgroups.pids_in(node_cgroup):
                server = node_cgroup.name == serve.CGROUP
                progress(f"{node_cgroup.name}: {'stopping' if server else 'powering off'}")
                cgroups.kill_all(node_cgroup)
                removed.append(f"{'server' if server else 'node'} {node_cgroup.name}")
        cgroups.kill_all(lab_cgroup)
        left = cgroups.wait_gone(pids)
        if left:
            progress(f"{len(left)} exited process(es) still wait for this host's PID 1 to reap them: {left}")
        cgroups.remove_tree(lab_cgroup)
        removed.append(f"cgroup {lab_cgroup}")
    removed += network.remove_lab_network(name)
    mounted = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines() if str(lab_dir) in line]
    for point in sorted(mounted, reverse=True):
        run(["umount", "-l", point], check=False)
        removed.append(f"mount {point}")
    if lab_dir.exists():
        shutil.rmtree(lab_dir)
        removed.append(f"folder {lab_dir}")
    return removed
