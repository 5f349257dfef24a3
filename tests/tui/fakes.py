"""Deterministic stand-ins for the core's slow or random parts (SSH, key generation, clocks).

Only what must be fixed for a snapshot is faked: plans are built by the real `build_plan` (with no
rendered files and a fixed token) and preflight verdicts by the real `preflight` over fixed facts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from khatui.events import (
    EventSink,
    NodeFailed,
    OutputLine,
    PhaseFinished,
    PhaseStarted,
    RolloutFinished,
    RolloutStarted,
    StepFinished,
    StepStarted,
    StepState,
)
from khatui.facts.model import NodeFacts
from khatui.facts.probe import PATH_EXECUTABLES
from khatui.journal import RolloutRecord
from khatui.plan.compose import build_plan
from khatui.plan.model import Plan
from khatui.preflight import mesh
from khatui.preflight.checks import CheckResult, Status, preflight
from khatui.preflight.results import rewaived
from khatui.rollout.desired import Desired
from khatui.rollout.nodes import Observed
from khatui.rollout.rollout import AcceptUnknown, Rollout, RolloutOptions, RolloutResult
from khatui.spec.cluster import Cluster
from khatui.spec.validate import validate_file
from khatui.tui.services import ProbeResult

NOW = 1_750_000_000.0
TOKEN = "abcdef.0123456789abcdef"


def facts_for(cluster: Cluster, no_ipvs: tuple[str, ...] = ()) -> dict[str, NodeFacts]:
    """Healthy Debian nodes with every binary the spec needs (IPVS modules missing on `no_ipvs`)."""
    modules = frozenset({"ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_sh", "nf_conntrack"})
    binaries = {
        "kubeadm": "kubeadm v1.31.4",
        "kubelet": "Kubernetes v1.31.4",
        "etcd": "etcd 3.5.16",
        "haproxy": "HAProxy 2.6.12",
        "keepalived": "Keepalived v2.2.7",
        "nginx": "nginx/1.22.1",
    }
    return {
        node.name: NodeFacts(
            node.name,
            os_id="debian",
            os_version="12",
            os_pretty="Debian GNU/Linux 12 (bookworm)",
            kernel="6.1.0-18-amd64",
            cpus=4,
            memory_mib=8192,
            clock_offset_s=0.01,
            modules_available=frozenset() if node.name in no_ipvs else modules,
            sysctls={"net.ipv4.ip_forward": "1"},
            binaries=binaries,
            in_path=frozenset(PATH_EXECUTABLES),
            sockets=frozenset({"/var/run/containerd/containerd.sock"}),
            containerd_cgroup="systemd",
            package_manager="apt-get",
            disk_free_mib={"/usr/local": 20_000, "/var/lib/containerd": 20_000, "/opt": 20_000},
        )
        for node in cluster.spec.nodes
    }


def record(
    rollout_id: str = "20250615-120000-abc123", state: str = "failed", cluster: str = "prod-stacked"
) -> RolloutRecord:
    failure = (
        f"rollout {rollout_id} failed on node cp2, step etcd/cp2/start: command exited with 1"
        if state == "failed"
        else None
    )
    return RolloutRecord(
        rollout_id,
        cluster,
        "/srv/prod/cluster.yaml",
        "hash",
        "",
        state,
        NOW - 7200,
        NOW - 3600,
        None,
        f"/var/log/khatui/{rollout_id}.log",
        failure,
    )


class FakeRollout(Rollout):
    """A `Rollout` whose nodes, journal and run are fixed: observed facts from `facts_for`, the plan
    from the real `build_plan` with no files and a fixed token, `execute` replaying events."""

    def __init__(self, desired: Desired, options: RolloutOptions, services: FakeServices) -> None:
        super().__init__(desired, options)
        self.services = services

    def observe(self) -> Observed:
        services = self.services
        facts = {
            k: v for k, v in facts_for(self.desired.cluster, services.no_ipvs).items() if k not in services.unreachable
        }
        unreachable = {n: f"{n}: cannot connect: timed out" for n in services.unreachable}
        waivers = frozenset(self.options.waivers)
        checks = preflight(self.desired.cluster, facts, waivers)
        checks += rewaived([CheckResult(n, mesh.CHECK, Status.PASS, "every peer answers") for n in facts], waivers)
        self.observed = Observed({}, facts, unreachable, checks)
        return self.observed

    def make_plan(self) -> Plan:
        observed = self.observed
        self.plan = build_plan(self.desired.cluster, [], "hash", observed.facts if observed else None, TOKEN, {}, [])
        return self.plan

    def start(self) -> RolloutRecord:
        assert self.plan is not None
        self.services.started.append(self.plan)
        self.record = record("20250615-120000-new001", "running", self.desired.cluster.metadata.name)
        return self.record

    def execute(self, sink: EventSink, hold_failures: bool = False) -> RolloutResult:
        assert self.plan is not None and self.record is not None
        self.services.release.wait(30)
        (self.services.script or replay)(self.plan, sink)
        return RolloutResult(self.record.id, True, summary="done")

    def hand_over(self) -> int:
        assert self.record is not None
        self.services.detached.append((self.record.id, list(self.options.waivers)))
        return 4242


def recorded(cluster: Cluster, plan: Plan, services: FakeServices) -> FakeRollout:
    """A fake rollout of `plan`, already recorded in the journal (as the review step leaves it)."""
    rollout = FakeRollout(Desired(cluster, "", "", "hash", "", [], {}), RolloutOptions(), services)
    rollout.plan, rollout.observed = plan, Observed({}, {}, {})
    rollout.record = record("20250615-120000-new001", "running")
    return rollout


class FakeServices:
    """The `Services` protocol with fixed answers; a rollout's `execute` replays `script` (events) if given."""

    def __init__(
        self,
        records: list[RolloutRecord] | None = None,
        no_ipvs: tuple[str, ...] = (),
        unreachable: tuple[str, ...] = (),
    ) -> None:
        self.records = records or []
        self.no_ipvs = no_ipvs
        self.unreachable = unreachable
        self.started: list[Plan] = []
        self.detached: list[tuple[str, list[str]]] = []
        self.script: Callable[[Plan, EventSink], None] | None = None
        self.release = threading.Event()
        self.release.set()

    def rollouts(self) -> list[RolloutRecord]:
        return self.records

    def probe(self, cluster: Cluster, base_dir: str, node: str, accept: AcceptUnknown | None) -> ProbeResult:
        if node in self.unreachable:
            return ProbeResult(node, False, f"{node}: cannot connect: timed out")
        return ProbeResult(node, True, "Debian GNU/Linux 12 (bookworm)", True, "ssh-ed25519 SHA256:FAKEfingerprint")

    def open(self, spec_path: str, options: RolloutOptions) -> Rollout:
        report = validate_file(spec_path)
        assert report.cluster is not None, report.problems
        text = Path(spec_path).read_text()
        sans = "DNS:kubernetes, DNS:kubernetes.default, DNS:api.prod.example.com, IP:10.96.0.1, IP:10.20.0.100"
        pki = "/etc/kubernetes/pki/"
        summaries = {  # as khatui.pki.nodefiles words them, per (node, path)
            ("cp1", pki + "apiserver.crt"): f"certificate CN=kube-apiserver [{sans}] expires 2030-06-15 (1826 days)",
            ("cp1", pki + "apiserver-kubelet-client.crt"): (
                "certificate CN=kube-apiserver-kubelet-client,O=kubeadm:cluster-admins [no SANs] expires 2030-06-15"
                " (1826 days)"
            ),
            ("cp1", pki + "etcd/healthcheck-client.crt"): (
                "certificate CN=kube-etcd-healthcheck-client [no SANs] expires 2030-06-15 (1826 days)"
            ),
            ("cp1", pki + "ca.crt"): "certificate CN=kubernetes [DNS:kubernetes] expires 2035-06-15 (3652 days)",
            ("cp2", pki + "ca.crt"): "certificate CN=kubernetes [DNS:kubernetes] expires 2035-06-15 (3652 days)",
            ("cp1", pki + "etcd/peer.crt"): "certificate CN=cp1 [DNS:cp1, IP:10.0.0.11] expires 2030-06-15 (1826 days)",
            ("cp2", pki + "etcd/peer.crt"): "certificate CN=cp2 [DNS:cp2, IP:10.0.0.12] expires 2030-06-15 (1826 days)",
        }
        desired = Desired(report.cluster, spec_path, text, "hash", str(Path(spec_path).parent), [], summaries)
        return FakeRollout(desired, options, self)

    def resume(self, rollout_id: str, options: RolloutOptions) -> Rollout:
        raise NotImplementedError


def replay(plan: Plan, sink: EventSink, fail: str | None = None, lines: int = 3, hold: bool = False) -> None:
    """Every step of `plan` run in order with `lines` output lines each; `fail` names a node that fails
    (with `hold`, the failure waits for the operator and the replay stops there)."""
    nodes = tuple(dict.fromkeys(s.node for s in plan.steps()))
    sink(RolloutStarted("20250615-120000-new001", plan.cluster, nodes, len(plan.steps()), "/var/log/khatui/r.log"))
    failed: set[str] = set()
    for phase in plan.phases:
        sink(PhaseStarted(phase.name, phase.title, tuple(phase.nodes())))
        for step in phase.steps:
            if step.node in failed:
                sink(StepFinished(step.node, step.id, StepState.SKIPPED, "node failed earlier"))
                continue
            sink(StepStarted(step.node, step.id, step.title))
            for index in range(lines):
                sink(OutputLine(step.node, step.id, f"{step.name}: line {index + 1}"))
            if step.node == fail:
                failed.add(step.node)
                sink(StepFinished(step.node, step.id, StepState.FAILED, "command exited with 1", 1))
                sink(
                    NodeFailed(
                        step.node,
                        step.id,
                        "systemctl start etcd",
                        1,
                        "command exited with 1",
                        (f"{step.name}: line {lines}", "Job for etcd.service failed"),
                        hold,
                    )
                )
                if hold:
                    return
            else:
                sink(StepFinished(step.node, step.id, StepState.DONE, seconds=1.0))
        sink(PhaseFinished(phase.name, not (failed & set(phase.nodes()))))
    ok = not failed
    sink(
        RolloutFinished(
            "20250615-120000-new001", ok, "rollout done" if ok else "rollout failed", "/var/log/khatui/r.log"
        )
    )
