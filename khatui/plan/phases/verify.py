"""`verify`: the last phase, read-only: does the cluster work?

Every etcd member answers its health check (node by node); then, once for the whole cluster: the API
answers through the load balancer with TLS verified against the cluster CA, the etcd member list is
exactly the spec's, every Kubernetes node is registered and Ready, every workload khatui's addons
(and kubeadm) deploy is available, the controller-manager and scheduler leases are held by control
planes, and with `smoke` a test pod resolves `kubernetes.default` through the cluster DNS. The
cluster-wide checks are one `kubectl get ... -o json` each, judged on the operator's machine
(`khatui.plan.readiness`), so a failure names what is missing; the phase `verifies`, so its failure
leaves the rollout `incomplete`, not failed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import yaml

from khatui import nodepaths
from khatui.plan.context import ADMIN, PlanContext, PlanNode
from khatui.plan.model import Action, Phase, Run, Step, WaitFor
from khatui.plan.phases.etcd import etcdctl
from khatui.plan.phases.rule import PhaseRule
from khatui.plan.readiness import WORKLOAD_KINDS, ClusterWorking, EtcdMembers, Workload
from khatui.quoting import shell as sh
from khatui.render.files import FileKind, RenderedFile
from khatui.spec.network import NetworkPlugin
from khatui.spec.nodes import Role

SMOKE_POD = "khatui-smoke"
SMOKE_IMAGE = "registry.k8s.io/e2e-test-images/jessie-dnsutils:1.3"
"""The image of Kubernetes' "Debugging DNS Resolution" page (it has nslookup)."""
CLUSTER_KINDS = "nodes,deployments,daemonsets,statefulsets,leases"


def addon_workloads(files: Iterable[RenderedFile]) -> list[Workload]:
    """Every Deployment, DaemonSet and StatefulSet the addon files apply (the pod network's too)."""
    found = []
    for file in files:
        if file.kind is not FileKind.ADDON:
            continue
        for doc in yaml.safe_load_all(file.data):
            if isinstance(doc, dict) and doc.get("kind") in WORKLOAD_KINDS:
                meta = doc.get("metadata") or {}
                found.append(Workload(doc["kind"], meta.get("namespace", "default"), meta["name"]))
    return found


def kubeadm_workloads(ctx: PlanContext) -> list[Workload]:
    """What `kubeadm init` deploys itself rather than khatui's addons: the kube-proxy DaemonSet."""
    return [Workload("DaemonSet", "kube-system", "kube-proxy")]


def expected_workloads(ctx: PlanContext) -> tuple[Workload, ...]:
    """The workloads that must be available, sorted, each once."""
    first = ctx.first_control_plane()
    return tuple(sorted({*addon_workloads(first.files), *kubeadm_workloads(ctx)}))


def kubectl(*args: str) -> sh.Command:
    """kubectl with the first control plane's admin kubeconfig."""
    return sh.cmd("kubectl", "--kubeconfig", ADMIN, *args)


class Verify(PhaseRule):
    """Read-only checks that the rollout worked (`smoke`: and a pod resolves a name)."""

    name = "verify"
    title = "Verify"
    requires = ("etcd-health", "control-plane-init")

    def __init__(self, smoke: bool = False) -> None:
        self.smoke = smoke

    def targets(self, ctx: PlanContext) -> Sequence[PlanNode]:
        return ctx.with_role(Role.ETCD)

    def steps(self, ctx: PlanContext, node: PlanNode) -> Sequence[Step]:
        health = Run(etcdctl("endpoint", "health"), description="etcdctl endpoint health")
        return [Step(self.name, node.name, "etcd", "etcd member healthy", (health,), read_only=True)]

    def plan(self, ctx: PlanContext) -> Phase:
        members = PhaseRule.plan(self, ctx)
        closing = [self._api(ctx), self._members(ctx)]
        if ctx.cluster.spec.network.plugin is not NetworkPlugin.NONE:  # with none, Ready waits for the operator's CNI
            closing.append(self._cluster(ctx))
        if self.smoke:
            closing.append(self._smoke(ctx))
        return Phase(self.name, self.title, (*members.steps, *closing), self.requires, verifies=True)

    def _check(self, node: PlanNode, name: str, title: str, *actions: Action) -> Step:
        return Step(self.name, node.name, name, title, actions, read_only=True)

    def _api(self, ctx: PlanContext) -> Step:
        url = ctx.api_url("/healthz")
        wait = WaitFor(
            sh.cmd("curl", "-fsS", "--max-time", "5", "--cacert", nodepaths.CA_CERT, url),
            timeout=120,
            interval=2,
            description=f"GET {url} verified against the cluster CA",
        )
        return self._check(ctx.first_control_plane(), "api", "API answers through the load balancer", wait)

    def _members(self, ctx: PlanContext) -> Step:
        names = tuple(n.name for n in ctx.with_role(Role.ETCD))
        wait = WaitFor(
            etcdctl("member", "list", "-w", "json"),
            timeout=60,
            interval=2,
            description=f"the etcd member list is exactly {', '.join(names)}, every member started",
            judge=EtcdMembers(names),
        )
        return self._check(ctx.with_role(Role.ETCD)[0], "etcd-members", "etcd members are the spec's", wait)

    def _cluster(self, ctx: PlanContext) -> Step:
        nodes = tuple(n.name for n in ctx.all() if n.node.has(Role.CONTROL_PLANE) or n.node.has(Role.WORKER))
        planes = tuple(n.name for n in ctx.with_role(Role.CONTROL_PLANE))
        workloads = expected_workloads(ctx)
        wait = WaitFor(
            kubectl("get", CLUSTER_KINDS, "--all-namespaces", "-o", "json"),
            timeout=600,
            interval=5,
            description=(
                f"nodes {', '.join(nodes)} Ready; {', '.join(map(str, workloads))} available; "
                "the kube-controller-manager and kube-scheduler leases held by control planes"
            ),
            judge=ClusterWorking(nodes, workloads, planes),
        )
        return self._check(ctx.first_control_plane(), "cluster", "nodes Ready, workloads available", wait)

    def _smoke(self, ctx: PlanContext) -> Step:
        pod = ("--namespace", "default")
        actions = (
            Run(kubectl("delete", "pod", SMOKE_POD, *pod, "--ignore-not-found", "--wait=true")),
            Run(
                kubectl(
                    "run",
                    SMOKE_POD,
                    *pod,
                    f"--image={SMOKE_IMAGE}",
                    "--restart=Never",
                    "--command",
                    "--",
                    "nslookup",
                    "kubernetes.default",
                ),
                description=f"start pod default/{SMOKE_POD}: nslookup kubernetes.default",
            ),
            Run(
                kubectl("wait", f"pod/{SMOKE_POD}", *pod, "--for=jsonpath={.status.phase}=Succeeded", "--timeout=300s"),
                timeout=330,
                description=f"wait until it succeeds (on failure: kubectl logs {SMOKE_POD})",
            ),
            Run(kubectl("logs", SMOKE_POD, *pod)),
            Run(kubectl("delete", "pod", SMOKE_POD, *pod, "--wait=false")),
        )
        title = "a test pod resolves kubernetes.default through the cluster DNS"
        return self._check(ctx.first_control_plane(), "smoke", title, *actions)
