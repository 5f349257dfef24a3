"""Spec + rendered files + facts -> the ordered plan (pure: no SSH, no disk).

The phases follow the guide's order: certificates everywhere, etcd members in parallel, an etcd
health barrier, the load balancer, the first control plane (`kubeadm init`), the other control
planes and the workers (`kubeadm join`), the addons, and a verification. A phase `requires` the
phases whose failure would make it pointless, so a broken etcd stops kubeadm but not the load
balancer. Every step compares what it would write with what the facts say is on the node and
becomes a no-op with its reason when nothing differs; services restart only when their files change.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from khatui import layout
from khatui.facts.model import NodeFacts
from khatui.plan.model import Action, Phase, Plan, Run, Step, Upload, WaitFor
from khatui.quoting import shell as sh
from khatui.quoting.shell import Script
from khatui.render import yamltext
from khatui.render.context import host_port
from khatui.render.files import FileKind, RenderedFile, Stage
from khatui.render.header import body_of
from khatui.render.kubeadm import INIT_PATH, JOIN_PATH
from khatui.render.kubelet import STANDALONE_CONFIG, STANDALONE_DROPIN
from khatui.spec.cluster import Cluster
from khatui.spec.components import EtcdRunAs
from khatui.spec.loadbalancer import endpoint
from khatui.spec.nodes import Node, Role

KUBEADM_DONE = "/var/lib/kubelet/config.yaml"
"""Written by `kubeadm init/join` (kubelet-start phase): its presence means the node is joined."""
ADMIN = str(layout.ADMIN_KUBECONFIG)
LB_COMPONENTS = ("haproxy", "keepalived", "nginx")
SERVICE_OF = {"haproxy": "haproxy", "keepalived": "keepalived", "nginx": "nginx", "etcd": "etcd"}


def bootstrap_token() -> str:
    """A fresh kubeadm bootstrap token (`[a-z0-9]{6}.[a-z0-9]{16}`), generated on the operator's machine."""
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return (
        "".join(secrets.choice(alphabet) for _ in range(6)) + "." + "".join(secrets.choice(alphabet) for _ in range(16))
    )


def probed_paths(files: Iterable[RenderedFile]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """What the facts probe must look at per node: (paths to hash, non-secret paths to read)."""
    hashes: dict[str, list[str]] = {}
    contents: dict[str, list[str]] = {}
    for file in files:
        hashes.setdefault(file.node, [KUBEADM_DONE, ADMIN]).append(file.path)
        if file.kind not in (FileKind.KEY, FileKind.CERTIFICATE):
            contents.setdefault(file.node, []).append(file.path)
    return hashes, contents


@dataclass(frozen=True)
class _Node:
    """What the builder knows of one node: its spec, its files, its facts."""

    node: Node
    files: tuple[RenderedFile, ...]
    facts: NodeFacts | None

    def pick(
        self, components: Sequence[str] = (), kinds: Sequence[FileKind] = (), stage: Stage | None = None
    ) -> list[RenderedFile]:
        return [
            f
            for f in self.files
            if (not components or f.component in components)
            and (not kinds or f.kind in kinds)
            and (stage is None or f.stage is stage)
        ]

    def current(self, path: str) -> str | None:
        return self.facts.file_hashes.get(path) if self.facts else None

    def changed(self, files: Iterable[RenderedFile]) -> list[RenderedFile]:
        """Files whose content on the node differs; a difference in the khatui header alone (the
        spec changed elsewhere) does not count."""
        return [f for f in files if self.current(f.path) != Upload(f.path, f.data).sha256 and not self._same_body(f)]

    def _same_body(self, file: RenderedFile) -> bool:
        old = self.facts.file_contents.get(file.path) if self.facts else None
        if old is None:
            return False
        body = body_of(old)
        return body is not None and body == body_of(file.data)

    def has(self, path: str) -> bool:
        return self.current(path) is not None

    def active(self, service: str) -> bool:
        return bool(self.facts and self.facts.services.get(service) == "active")


def _upload(file: RenderedFile, summary: str = "") -> Upload:
    secret = file.kind is FileKind.KEY
    return Upload(
        file.path, file.data, file.mode, file.owner, secret=secret, summary=summary or ("private key" if secret else "")
    )


def _hash_check(files: Sequence[RenderedFile]) -> Script:
    lines = [f"{Upload(f.path, f.data).sha256}  {f.path}" for f in files]
    return sh.pipe(sh.cmd("printf", "%s\\n", *lines), sh.cmd("sha256sum", "-c", "--quiet"))


def _reload_and(*commands: sh.Command) -> Script:
    return sh.and_(sh.cmd("systemctl", "daemon-reload"), *commands)


class _Builder:
    def __init__(
        self,
        cluster: Cluster,
        files: Sequence[RenderedFile],
        facts: dict[str, NodeFacts] | None,
        token: str,
        redo: frozenset[str] = frozenset(),
    ) -> None:
        self.cluster = cluster
        self.token = token
        self.redo = redo
        self.offline = facts is None
        by_node: dict[str, list[RenderedFile]] = {}
        for file in files:
            by_node.setdefault(file.node, []).append(file)
        self.nodes = {
            n.name: _Node(n, tuple(by_node.get(n.name, ())), (facts or {}).get(n.name)) for n in cluster.spec.nodes
        }

    def upload_step(
        self,
        phase: str,
        n: _Node,
        name: str,
        title: str,
        files: Sequence[RenderedFile],
        then: Sequence[Action] = (),
        summaries: dict[str, str] | None = None,
    ) -> Step:
        """Upload `files` (and run `then`) unless every file already matches.

        A step in `redo` (it failed, or was cut off, in the rollout being resumed) is never a no-op:
        its files may all be in place while the commands after them never ran. Only a step without
        such commands gets a `check`, since matching files then prove the whole step.
        """
        changed = n.changed(files)
        if f"{phase}/{n.node.name}/{name}" in self.redo:
            changed = list(files)
        if not files or not changed:
            what = ", ".join(sorted({f.path.rsplit("/", 1)[-1] for f in files})) or "nothing"
            return Step(phase, n.node.name, name, title, noop_reason=f"{what} already up to date")
        uploads = tuple(_upload(f, (summaries or {}).get(f.path, "")) for f in changed)
        return Step(phase, n.node.name, name, title, (*uploads, *then), check=None if then else _hash_check(files))

    # -- phases ----------------------------------------------------------------------------
    def pki(self, summaries: dict[str, str]) -> Phase:
        steps = []
        for n in self.nodes.values():
            files = n.pick(kinds=(FileKind.CERTIFICATE, FileKind.KEY))
            if files:
                steps.append(
                    self.upload_step("pki", n, "certificates", "certificates and keys", files, summaries=summaries)
                )
        return Phase("pki", "Distribute certificates", tuple(steps))

    def etcd(self) -> list[Phase]:
        members = [n for n in self.nodes.values() if n.node.has(Role.ETCD)]
        static = self.cluster.spec.etcd.run_as is EtcdRunAs.STATIC_POD
        steps, health = [], []
        for n in members:
            files = n.pick(components=("etcd",))
            if static:
                # The kubelet that runs the etcd pod: for good on etcd-only nodes (stage before-kubeadm),
                # until kubeadm takes the node over on stacked control planes (stage until-kubeadm).
                standalone = [
                    f
                    for f in n.pick(components=("kubelet",))
                    if f.stage is Stage.BEFORE_KUBEADM or (f.stage is Stage.UNTIL_KUBEADM and not n.has(KUBEADM_DONE))
                ]
                restart = Run(
                    _reload_and(sh.cmd("systemctl", "enable", "kubelet"), sh.cmd("systemctl", "restart", "kubelet")),
                    description="(re)start the kubelet that runs the etcd static pod",
                )
                steps.append(
                    self.upload_step(
                        "etcd",
                        n,
                        "etcd",
                        "etcd static pod",
                        [*files, *standalone],
                        [restart] if standalone and n.changed(standalone) else [],
                    )
                )
            else:
                start = Run(
                    _reload_and(
                        sh.cmd("systemctl", "enable", "etcd"), sh.cmd("systemctl", "restart", "--no-block", "etcd")
                    ),
                    description="(re)start etcd without waiting for quorum",
                )
                step = self.upload_step("etcd", n, "etcd", "etcd member (systemd)", files, [start])
                if step.is_noop and not n.active("etcd") and not self.offline:
                    step = Step(
                        "etcd",
                        n.node.name,
                        "etcd",
                        "etcd member (systemd)",
                        (Run(sh.cmd("systemctl", "start", "--no-block", "etcd")),),
                        check=sh.cmd("systemctl", "is-active", "--quiet", "etcd"),
                    )
                steps.append(step)
            health.append(
                Step(
                    "etcd-health",
                    n.node.name,
                    "healthy",
                    "etcd member healthy",
                    (
                        WaitFor(
                            _etcdctl("endpoint", "health"),
                            timeout=180,
                            interval=1,
                            description="wait until this member answers etcdctl endpoint health",
                        ),
                    ),
                    read_only=True,
                )
            )
        return [
            Phase("etcd", "etcd members", tuple(steps), requires=("pki",)),
            Phase("etcd-health", "etcd health barrier", tuple(health), requires=("etcd",)),
        ]

    def load_balancer(self) -> Phase:
        steps = []
        for n in self.nodes.values():
            files = n.pick(components=LB_COMPONENTS)
            if not files:
                continue
            services = list(dict.fromkeys(SERVICE_OF[f.component] for f in files))
            restarts = [
                Run(sh.and_(sh.cmd("systemctl", "enable", s), sh.cmd("systemctl", "reload-or-restart", s)))
                for s in services
                if s in {SERVICE_OF[f.component] for f in n.changed(files)}
            ]
            step = self.upload_step("lb", n, "proxy", f"load balancer ({', '.join(services)})", files, restarts)
            inactive = [s for s in services if not n.active(s)]
            if step.is_noop and inactive and not self.offline:
                step = Step(
                    "lb",
                    n.node.name,
                    "proxy",
                    step.title,
                    tuple(Run(sh.cmd("systemctl", "enable", "--now", s)) for s in inactive),
                )
            steps.append(step)
        return Phase("lb", "Load balancer", tuple(steps), requires=("pki",))

    def kubeadm(self, n: _Node, phase: str, first: bool) -> list[Step]:
        name = n.node.name
        prepare_files = n.pick(components=("kubeadm", "kube-proxy", "kube-vip"), stage=Stage.BEFORE_KUBEADM)
        prepare_files = [f for f in prepare_files if f.kind is not FileKind.ADDON]
        settle: list[Action] = [
            Run(sh.cmd("sysctl", "-q", "-p", f.path), description=f"apply {f.path}")
            for f in prepare_files
            if f.path.startswith("/etc/sysctl.d/")
        ]
        if any(f.path.startswith("/etc/modules-load.d/") for f in prepare_files):
            settle.append(
                Run(sh.cmd("systemctl", "restart", "systemd-modules-load"), description="load the kernel modules")
            )
        prepare = self.upload_step(
            phase, n, "prepare", "kubeadm configuration and node settings", prepare_files, settle
        )
        steps = [prepare]
        if n.has(KUBEADM_DONE):
            steps.append(Step(phase, name, "kubeadm", "kubeadm", noop_reason="node already initialised by kubeadm"))
        else:
            actions: list[Action] = []
            if self.cluster.spec.etcd.run_as is EtcdRunAs.STATIC_POD and n.node.has(Role.ETCD):
                actions.append(
                    Run(
                        sh.and_(
                            sh.cmd("rm", "-f", STANDALONE_DROPIN, STANDALONE_CONFIG),
                            sh.cmd("systemctl", "daemon-reload"),
                        ),
                        description="hand the kubelet over to kubeadm",
                    )
                )
            # A kubeadm cut off halfway left some of its files behind; run again, its preflight would
            # refuse them. kubeadm's phases overwrite what they write, so a redo skips the preflight.
            again = ["--ignore-preflight-errors=all"] if f"{phase}/{name}/kubeadm" in self.redo else []
            if first:
                actions.append(Run(sh.cmd("kubeadm", "init", "--config", INIT_PATH, *again), timeout=600))
            else:
                actions.append(
                    Upload(
                        str(layout.DISCOVERY_KUBECONFIG),
                        self.discovery(),
                        0o600,
                        secret=True,
                        summary="discovery kubeconfig with a bootstrap token",
                    )
                )
                actions.append(Run(sh.cmd("kubeadm", "join", "--config", JOIN_PATH, *again), timeout=600))
            steps.append(
                Step(
                    phase,
                    name,
                    "kubeadm",
                    "kubeadm init" if first else "kubeadm join",
                    tuple(actions),
                    check=sh.cmd("test", "-f", KUBEADM_DONE),
                )
            )
        after = [f for f in n.pick(stage=Stage.AFTER_KUBEADM) if f.kind is not FileKind.ADDON]
        steps.append(
            self.upload_step(
                phase,
                n,
                "kubelet",
                "kubelet pointed at the load balancer",
                after,
                [Run(sh.cmd("systemctl", "restart", "kubelet"))],
            )
        )
        if first and self.joiners():
            token_id = self.token.split(".")[0]
            steps.append(
                Step(
                    phase,
                    name,
                    "token",
                    "bootstrap token for joining nodes",
                    (
                        Run(
                            sh.seq(
                                sh.quiet(sh.cmd("kubeadm", "token", "delete", token_id)),
                                sh.cmd("kubeadm", "token", "create", self.token, "--ttl", "2h", "--kubeconfig", ADMIN),
                            ),
                            description="create the bootstrap token for joining nodes",
                        ),
                    ),
                )
            )
        return steps

    def joiners(self) -> list[_Node]:
        first = self.first_control_plane()
        return [
            n
            for n in self.nodes.values()
            if n is not first
            and (n.node.has(Role.CONTROL_PLANE) or n.node.has(Role.WORKER))
            and not n.has(KUBEADM_DONE)
        ]

    def first_control_plane(self) -> _Node:
        return next(n for n in self.nodes.values() if n.node.has(Role.CONTROL_PLANE))

    def discovery(self) -> bytes:
        """kubeadm's file discovery: the cluster CA and the LB address, with the bootstrap token."""
        ca = next((f for f in self.first_control_plane().files if f.path == str(layout.CA_CERT)), None)
        host, port = endpoint(self.cluster.spec.load_balancer, self.cluster.spec.control_plane.api_port)
        ca_data = base64.b64encode(ca.data).decode() if ca else ""
        return yamltext.dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {
                        "name": "kubernetes",
                        "cluster": {
                            "certificate-authority-data": ca_data,
                            "server": f"https://{host_port(host, port)}",
                        },
                    }
                ],
                "contexts": [{"name": "bootstrap", "context": {"cluster": "kubernetes", "user": "bootstrap"}}],
                "current-context": "bootstrap",
                "users": [{"name": "bootstrap", "user": {"token": self.token}}],
            }
        ).encode()

    def kubernetes(self) -> list[Phase]:
        first = self.first_control_plane()
        init = Phase(
            "control-plane-init",
            "First control plane (kubeadm init)",
            tuple(self.kubeadm(first, "control-plane-init", True)),
            requires=("etcd-health", "lb"),
        )
        others = [n for n in self.nodes.values() if n is not first and n.node.has(Role.CONTROL_PLANE)]
        workers = [n for n in self.nodes.values() if n.node.has(Role.WORKER) and not n.node.has(Role.CONTROL_PLANE)]
        join = Phase(
            "control-plane-join",
            "Other control planes (kubeadm join)",
            tuple(s for n in others for s in self.kubeadm(n, "control-plane-join", False)),
            requires=("control-plane-init",),
        )
        work = Phase(
            "workers",
            "Workers (kubeadm join)",
            tuple(s for n in workers for s in self.kubeadm(n, "workers", False)),
            requires=("control-plane-init",),
        )
        addons = first.pick(kinds=(FileKind.ADDON,))
        apply = Run(
            sh.cmd("kubectl", "--kubeconfig", ADMIN, "apply", "-f", layout.ADDONS_DIR),
            timeout=300,
            description="kubectl apply the addons (kube-proxy, CoreDNS, storage)",
        )
        addon_phase = Phase(
            "addons",
            "kube-proxy, DNS and storage",
            (self.upload_step("addons", first, "addons", "cluster addons", addons, [apply]),),
            requires=("control-plane-init",),
        )
        return [init, join, work, addon_phase]

    def verify(self) -> Phase:
        steps = []
        for n in self.nodes.values():
            if n.node.has(Role.ETCD):
                steps.append(
                    Step(
                        "verify",
                        n.node.name,
                        "etcd",
                        "etcd member healthy",
                        (Run(_etcdctl("endpoint", "health")),),
                        read_only=True,
                    )
                )
        first = self.first_control_plane()
        host, port = endpoint(self.cluster.spec.load_balancer, self.cluster.spec.control_plane.api_port)
        url = f"https://{host_port(host, port)}/healthz"
        steps.append(
            Step(
                "verify",
                first.node.name,
                "api",
                "API answers through the load balancer",
                (
                    WaitFor(
                        sh.cmd("curl", "-fsS", "--max-time", "5", "--cacert", layout.CA_CERT, url),
                        timeout=120,
                        interval=2,
                        description=f"GET {url} verified against the cluster CA",
                    ),
                ),
                read_only=True,
            )
        )
        return Phase("verify", "Verify", tuple(steps), requires=("etcd-health", "control-plane-init"))


def _etcdctl(*args: str) -> Script:
    """etcdctl with the ETCDCTL_* variables of the node's etcdctl.env."""
    return sh.and_(sh.cmd("set", "-a"), sh.cmd(".", layout.ETCDCTL_ENV), sh.cmd("etcdctl", *args))


def build_plan(
    cluster: Cluster,
    files: Sequence[RenderedFile],
    spec_hash: str,
    facts: dict[str, NodeFacts] | None = None,
    token: str | None = None,
    cert_summaries: dict[str, str] | None = None,
    secrets_: Sequence[str] = (),
    redo: frozenset[str] = frozenset(),
) -> Plan:
    """The whole rollout. `facts=None` plans offline (everything is new); `token` defaults to a fresh one;
    `redo` names steps of a resumed rollout that failed or were cut off (never turned into no-ops)."""
    builder = _Builder(cluster, files, facts, token or bootstrap_token(), redo)
    phases = [
        builder.pki(cert_summaries or {}),
        *builder.etcd(),
        builder.load_balancer(),
        *builder.kubernetes(),
        builder.verify(),
    ]
    return Plan(
        cluster.metadata.name,
        spec_hash,
        tuple(p for p in phases if p.steps),
        (builder.token, *secrets_),
        essential(cluster),
    )


def essential(cluster: Cluster) -> dict[str, str]:
    """Nodes a rollout cannot go on without -> why. Workers, joining control planes that are not etcd
    members and one of several load balancer nodes can be left for a later `resume`."""
    spec = cluster.spec
    found: dict[str, str] = {}
    lb_nodes = spec.with_role(Role.LB)
    for node in lb_nodes if len(lb_nodes) == 1 else ():
        found[node.name] = "the only load balancer node: the API address depends on it"
    masters = spec.with_role(Role.CONTROL_PLANE)
    if masters:
        found[masters[0].name] = "the first control plane: every other node joins through it"
    for node in spec.with_role(Role.ETCD):
        found[node.name] = "an etcd member: the cluster was formed with it and waits for it"
    return found
