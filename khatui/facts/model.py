"""`NodeFacts`: the observed state of one node, as the probe script reported it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class EtcdMember:
    """One member of a running etcd cluster, as a running member lists it."""

    name: str
    """Empty for a member added but not started yet."""
    member_id: str
    peer_urls: tuple[str, ...] = ()
    client_urls: tuple[str, ...] = ()
    learner: bool = False


@dataclass(frozen=True)
class NodeFacts:
    """Read-only observations of one node. Empty values mean "not reported", never "zero"."""

    node: str
    os_id: str = ""
    os_version: str = ""
    os_pretty: str = ""
    os_codename: str = ""
    """VERSION_CODENAME of /etc/os-release (bookworm, jammy, noble; empty on RHEL)."""
    kernel: str = ""
    arch: str = ""
    """`uname -m`: x86_64, aarch64."""
    cpus: int = 0
    memory_mib: int = 0
    swap_devices: tuple[str, ...] = ()
    clock_offset_s: float = 0.0
    """Node clock minus the operator's clock when the probe ran (round trip included)."""
    listening: dict[int, str] = field(default_factory=dict)
    """TCP port -> the process listening on it ('' when ss cannot tell)."""
    modules_loaded: frozenset[str] = frozenset()
    modules_available: frozenset[str] = frozenset()
    sysctls: dict[str, str] = field(default_factory=dict)
    binaries: dict[str, str] = field(default_factory=dict)
    """Binary name -> first line of its version output (present binaries only)."""
    cni_version: str = ""
    """The CNI plugins' version line (`CNI loopback plugin v1.4.0`); "" when none is installed."""
    cni_plugins: frozenset[str] = frozenset()
    """The plugins in /opt/cni/bin."""
    file_hashes: dict[str, str] = field(default_factory=dict)
    """Absolute path -> sha256 of every file khatui would write that exists now."""
    file_contents: dict[str, bytes] = field(default_factory=dict)
    """Current content of the non-secret files khatui would write (for diffs)."""
    addresses: frozenset[str] = frozenset()
    """IP addresses on the node's interfaces (a keepalived VIP shows here on its holder)."""
    services: dict[str, str] = field(default_factory=dict)
    """systemd unit -> ActiveState, for the units khatui manages."""
    in_path: frozenset[str] = frozenset()
    """Which of kubeadm's PATH executables (`probe.PATH_EXECUTABLES`) `command -v` finds."""
    sockets: frozenset[str] = frozenset()
    """Which of the known container runtime sockets (`probe.CRI_SOCKETS`) exist as sockets."""
    containerd_cgroup: str = ""
    """containerd's runc cgroup driver from /etc/containerd/config.toml: "systemd" (SystemdCgroup =
    true), "cgroupfs" (false or not set: containerd's default), "no-config"; "" when not reported."""
    etcd_members: tuple[EtcdMember, ...] | None = None
    """The running etcd cluster as this node's member lists it; None where no member answered."""
    etcd_members_error: str = ""
    """Why a node set up as an etcd member (it has khatui's etcdctl.env) did not list the members."""
    package_manager: str = ""
    """"apt-get", "dnf", or "none" (neither found); "" when not reported."""
    packages: dict[str, str] = field(default_factory=dict)
    """Installed package (of `distro.names`) -> its version, as dpkg or rpm reports it."""
    fstab_swap: tuple[str, ...] = ()
    """The /etc/fstab lines that mount swap now (not commented out)."""
    swap_units: dict[str, str] = field(default_factory=dict)
    """swap.target -> its enablement (static, masked); each swap unit -> its ActiveState."""
    modules_builtin: frozenset[str] = frozenset()
    """Modules built into the running kernel (modules.builtin): never in /proc/modules, always there."""
    disk_free_mib: dict[str, int] = field(default_factory=dict)
    """Path binaries and images go to -> MiB free on its file system."""
    package_locks: tuple[str, ...] = ()
    """Package database locks held now: 'PATH held by COMMAND (pid N)'."""
    images: frozenset[str] = frozenset()
    """Image references containerd holds in the kubelet's namespace (`ctr -n k8s.io images ls -q`)."""

    def has_module(self, name: str) -> bool:
        """Loaded, built in, or available to load."""
        return name in self.modules_loaded or name in self.modules_builtin or name in self.modules_available

    def module_in_use(self, name: str) -> bool:
        """Loaded now or built into the kernel."""
        return name in self.modules_loaded or name in self.modules_builtin
