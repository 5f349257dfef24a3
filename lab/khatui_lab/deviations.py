"""Where the lab cannot meet a rule of the real tools: each deviation, in this one place.

The lab never relaxes a rule quietly. What it cannot meet for real is listed here with the reason,
the real rule it sets aside, how the lab's spec does it, and the test that checks the real rule on
recorded facts or a stand-in. `lab.yaml` carries the list in its header, `khatui lab status` prints
it, and the setting it needs in the spec makes khatui print a note at the top of every preview and
every rollout log of the lab.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Deviation:
    """One rule of the real tools that the lab does not meet, and how it says so."""

    rule: str
    """The real rule, by the name the real tool reports."""
    why: str
    """Why the lab cannot meet it."""
    setting: str
    """What the lab's spec sets because of it (khatui notes it wherever the plan is shown or run)."""
    test: str
    """The test that checks the real rule."""


BARE = (
    Deviation(
        rule="kubeadm, kubelet, kubectl and crictl are the upstream release binaries (dl.k8s.io, cri-tools releases)",
        why="no registry this machine reaches has them; the lab's files mirror serves stand-ins headed "
        "'khatui lab stand-in' (they run the stand-ins package the lab itself puts on its nodes)",
        setting="install.binaries.mirror: the lab's files mirror, install.binaries.checksums: its SHA256SUMS",
        test="tests/lab/test_bare.py::test_files_mirror_serves_stand_ins_and_debian_binaries",
    ),
    Deviation(
        rule="containerd, runc, CNI plugins and etcd archives are the upstream release archives with upstream's sha256",
        why="no registry this machine reaches has them; the lab repackages Debian's binaries (bookworm; etcd from "
        "trixie) into the upstream archives' layout",
        setting="install.binaries.checksums: the lab's SHA256SUMS (sums of the repackaged archives)",
        test="tests/lab/test_bare.py::test_files_mirror_serves_stand_ins_and_debian_binaries",
    ),
)
"""What a bare lab (`khatui lab up`, the default) adds: its files mirror cannot hold upstream's own files."""

DEVIATIONS = (
    Deviation(
        rule="kubeadm ImagePull (every image `kubeadm config images list` names is in the runtime or pullable)",
        why="this machine reaches no container registry, and the lab's kubelet stand-in runs host binaries, not images",
        setting="controlPlane.imagePullPolicy: Never (kubeadm then skips ImagePull, as it does on real air-gapped nodes)",
        test="tests/lab/test_rules_kubeadm.py::test_image_pull_fails_without_a_runtime",
    ),
    Deviation(
        rule="nodes Ready (a pod network's DaemonSet running on every node, so the kubelet finds a CNI config)",
        why="the lab's kubelet stand-in runs static pods only: no DaemonSet or Deployment pod runs in the lab yet",
        setting="network.plugin: none (the nodes stay NotReady with the kubelet's real reason, and the "
        "verification does not wait for them)",
        test="tests/e2e/test_stacked_rollout.py::test_every_node_registers_not_ready_without_a_pod_network",
    ),
)


def describe(bare: bool = False) -> list[str]:
    """One line per deviation, for `lab.yaml`'s header and `khatui lab status` (`bare`: a bare lab's)."""
    return [f"{d.rule}: not met ({d.why}); the spec sets {d.setting}" for d in (*DEVIATIONS, *(BARE if bare else ()))]
