"""What the plan fixtures cannot say: which paths the facts probe looks at, and that a phase written
outside the rollout's tuple composes like the built-in ones."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from khatui.plan.compose import build_plan, probed_paths
from khatui.plan.context import KUBEADM_DONE, PlanContext, PlanNode
from khatui.plan.model import Run, Step
from khatui.plan.phases import ROLLOUT, PhaseRule
from khatui.quoting import shell as sh
from khatui.spec.nodes import Role
from tests.plan.test_fixtures import cluster_of, files_of

TOKEN = "abcdef.0123456789abcdef"


@pytest.mark.parametrize("example", ["stacked-haproxy-ipvs-nfs", "external-etcd-cloudlb-ceph"])
def test_probe_reads_contents_but_never_keys(example: str) -> None:
    hashes, contents = probed_paths(files_of(cluster_of({"example": example})))
    assert all(KUBEADM_DONE in paths for paths in hashes.values())
    assert not any(path.endswith(".key") for paths in contents.values() for path in paths)
    assert any("/etc/kubernetes/pki/etcd/peer.key" in paths for paths in hashes.values())


class Uptime(PhaseRule):
    """A phase as a new module would define it: one read-only step per worker."""

    name = "uptime"
    title = "Worker uptime"
    requires = ("workers",)

    def targets(self, ctx: PlanContext) -> Sequence[PlanNode]:
        return ctx.with_role(Role.WORKER)

    def steps(self, ctx: PlanContext, node: PlanNode) -> Sequence[Step]:
        return [Step(self.name, node.name, "uptime", "uptime", (Run(sh.cmd("uptime")),), read_only=True)]


def test_a_new_phase_composes_after_the_rollout() -> None:
    cluster = cluster_of({"example": "stacked-haproxy-ipvs-nfs"})
    plan = build_plan(cluster, files_of(cluster), "h", token=TOKEN, phases=(*ROLLOUT, Uptime()))
    assert [p.name for p in plan.phases][-2:] == ["verify", "uptime"]
    assert [s.id for s in plan.phases[-1].steps] == ["uptime/worker1/uptime", "uptime/worker2/uptime"]
    assert plan.phases[-1].requires == ("workers",)
