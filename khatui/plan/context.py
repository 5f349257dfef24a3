"""What every phase plans from: the spec, each node's rendered files and facts, the token, the redo set.

Phases are small modules that each turn this context into steps; what they share — comparing a file
with what the facts say is on the node, the upload step that becomes a no-op with its reason, the
first control plane, the API address — lives here once, so a new phase needs no copy of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from khatui import nodepaths
from khatui.artifacts.bundle import Bundle, open_bundle
from khatui.facts.model import NodeFacts
from khatui.plan.model import Action, Step, Upload
from khatui.quoting import shell as sh
from khatui.quoting.shell import Script
from khatui.render.files import FileKind, RenderedFile, Stage
from khatui.render.header import body_of
from khatui.render.urls import https_url
from khatui.spec.cluster import Cluster
from khatui.spec.loadbalancer import endpoint
from khatui.spec.nodes import Node, Role

KUBEADM_DONE = "/var/lib/kubelet/config.yaml"
"""Written by `kubeadm init/join` (kubelet-start phase): its presence means the node is joined."""
ADMIN = str(nodepaths.ADMIN_KUBECONFIG)


@dataclass(frozen=True)
class PlanNode:
    """What the planner knows of one node: its spec, its files, its facts (None: offline)."""

    node: Node
    files: tuple[RenderedFile, ...]
    facts: NodeFacts | None

    @property
    def name(self) -> str:
        """The node's name in the spec."""
        return self.node.name

    def pick(
        self, components: Sequence[str] = (), kinds: Sequence[FileKind] = (), stage: Stage | None = None
    ) -> list[RenderedFile]:
        """The node's files of any of `components` and `kinds` (all when empty) in `stage` (any when None)."""
        return [
            f
            for f in self.files
            if (not components or f.component in components)
            and (not kinds or f.kind in kinds)
            and (stage is None or f.stage is stage)
        ]

    def current(self, path: str) -> str | None:
        """The sha256 of `path` on the node, None when it is not there (or not known)."""
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
        """True when `path` exists on the node."""
        return self.current(path) is not None

    def active(self, service: str) -> bool:
        """True when the facts report `service` active."""
        return bool(self.facts and self.facts.services.get(service) == "active")


def upload_action(file: RenderedFile, summary: str = "") -> Upload:
    """The upload of one rendered file; keys are secret (shown by fingerprint, never journaled)."""
    secret = file.kind is FileKind.KEY
    return Upload(
        file.path, file.data, file.mode, file.owner, secret=secret, summary=summary or ("private key" if secret else "")
    )


def hash_check(files: Sequence[RenderedFile]) -> Script:
    """Succeeds when every file on the node hashes to what khatui would write."""
    lines = [f"{Upload(f.path, f.data).sha256}  {f.path}" for f in files]
    return sh.pipe(sh.cmd("printf", "%s\\n", *lines), sh.cmd("sha256sum", "-c", "--quiet"))


def reload_and(*commands: sh.Command) -> Script:
    """`systemctl daemon-reload`, then `commands`."""
    return sh.and_(sh.cmd("systemctl", "daemon-reload"), *commands)


@dataclass
class PlanContext:
    """The inputs of every phase; build one with `PlanContext.of`."""

    cluster: Cluster
    nodes: dict[str, PlanNode]
    """Every node of the spec, in spec order."""
    token: str
    """The kubeadm bootstrap token joining nodes use."""
    redo: frozenset[str] = frozenset()
    """Ids of steps that failed or were cut off in the rollout being resumed: never no-ops."""
    offline: bool = False
    """Planned without facts: every node is taken as empty."""
    cert_summaries: dict[tuple[str, str], str] = field(default_factory=dict)
    """Certificate one-liners keyed (node, on-node path)."""
    bundle: Bundle | None = None
    """The air-gapped bundle every install comes from (`spec.install.bundle`), its files verified."""
    mirror_key: bytes = b""
    """The package mirror's signing key as read from the operator's machine (b"": no mirror)."""

    @classmethod
    def of(
        cls,
        cluster: Cluster,
        files: Sequence[RenderedFile],
        facts: dict[str, NodeFacts] | None,
        token: str,
        redo: frozenset[str] = frozenset(),
        cert_summaries: dict[tuple[str, str], str] | None = None,
        mirror_key: bytes = b"",
    ) -> PlanContext:
        """The context of `cluster` with its rendered `files` and the `facts` gathered (None: offline)."""
        by_node: dict[str, list[RenderedFile]] = {}
        for file in files:
            by_node.setdefault(file.node, []).append(file)
        nodes = {
            n.name: PlanNode(n, tuple(by_node.get(n.name, ())), (facts or {}).get(n.name)) for n in cluster.spec.nodes
        }
        install = cluster.spec.install
        bundle = open_bundle(install.bundle) if install.enabled and install.bundle else None
        return cls(cluster, nodes, token, redo, facts is None, cert_summaries or {}, bundle, mirror_key)

    def all(self) -> list[PlanNode]:
        """Every node, in spec order."""
        return list(self.nodes.values())

    def with_role(self, role: Role) -> list[PlanNode]:
        """Nodes with `role`, in spec order."""
        return [n for n in self.nodes.values() if n.node.has(role)]

    def first_control_plane(self) -> PlanNode:
        """The node that runs `kubeadm init` and applies the addons (asked once per node: no list)."""
        return next(n for n in self.nodes.values() if n.node.has(Role.CONTROL_PLANE))

    def joiners(self) -> list[PlanNode]:
        """Control planes and workers other than the first that kubeadm has not joined yet."""
        first = self.first_control_plane()
        return [
            n
            for n in self.nodes.values()
            if n is not first
            and (n.node.has(Role.CONTROL_PLANE) or n.node.has(Role.WORKER))
            and not n.has(KUBEADM_DONE)
        ]

    def api_url(self, path: str = "") -> str:
        """`https://host:port` of the load balancer (the address every client uses), then `path`."""
        spec = self.cluster.spec
        return https_url(*endpoint(spec.load_balancer, spec.control_plane.api_port), path)

    def changed(self, phase: str, n: PlanNode, name: str, files: Sequence[RenderedFile]) -> list[RenderedFile]:
        """`files` that differ on the node, or all of them when step `name` is redone: a step cut off
        after its uploads left matching files, and the restarts that follow them must run all the same."""
        return list(files) if f"{phase}/{n.name}/{name}" in self.redo else n.changed(files)

    def upload_step(
        self,
        phase: str,
        n: PlanNode,
        name: str,
        title: str,
        files: Sequence[RenderedFile],
        then: Sequence[Action] = (),
    ) -> Step:
        """Upload `files` (and run `then`) unless every file already matches.

        A step in `redo` (it failed, or was cut off, in the rollout being resumed) is never a no-op:
        its files may all be in place while the commands after them never ran. Only a step without
        such commands gets a `check`, since matching files then prove the whole step.
        """
        changed = self.changed(phase, n, name, files)
        if not files or not changed:
            what = ", ".join(sorted({f.path.rsplit("/", 1)[-1] for f in files})) or "nothing"
            return Step(phase, n.name, name, title, noop_reason=f"{what} already up to date")
        uploads = tuple(upload_action(f, self.cert_summaries.get((n.name, f.path), "")) for f in changed)
        return Step(phase, n.name, name, title, (*uploads, *then), check=None if then else hash_check(files))
