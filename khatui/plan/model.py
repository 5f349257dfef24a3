"""The plan's data: what the engine executes and the preview shows, one and the same object.

A plan is built once (spec + facts -> plan) and then either rendered (dry run) or executed. Nothing
here touches a network or a terminal. Steps are identified by stable ids (`phase/node/name`) so a
journal written by one process can be matched against a plan rebuilt by another (resume).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from khatui.plan.readiness import Judge
from khatui.quoting.shell import Script


@dataclass(frozen=True)
class Upload:
    """Write a file on the node atomically (temp file + rename), then set mode and owner."""

    path: str
    content: bytes
    mode: int = 0o644
    owner: str = "root:root"
    secret: bool = False
    """Key material: shown by fingerprint only, never as content, never journaled."""
    summary: str = ""
    """What the preview shows instead of content when there is no useful diff (certificates, keys)."""

    @property
    def sha256(self) -> str:
        """Hex digest of the content: what the node's file must hash to once uploaded."""
        return hashlib.sha256(self.content).hexdigest()

    def describe(self) -> str:
        kind = "secret " if self.secret else ""
        return f"upload {kind}{self.path} ({len(self.content)} bytes, mode {self.mode:04o}, {self.owner})"


@dataclass(frozen=True)
class Run:
    """Run a shell command on the node (as root: through sudo when the node needs it)."""

    command: Script
    timeout: float = 300.0
    description: str = ""

    def describe(self) -> str:
        return self.description or f"run {self.command}"


@dataclass(frozen=True)
class WaitFor:
    """Repeat a probe command until it succeeds (and its `judge`, when set, finds nothing missing in
    its stdout) or `timeout` seconds pass."""

    command: Script
    timeout: float = 120.0
    interval: float = 1.0
    description: str = ""
    judge: Judge | None = None
    """Reads the probe's stdout on the operator's machine: what it lists is why it is not ready yet."""

    def describe(self) -> str:
        return self.description or f"wait until `{self.command}` succeeds (up to {self.timeout:.0f} s)"


@dataclass(frozen=True)
class Transfer:
    """Put a release file from the operator's verified cache at `path` on the node: uploaded over
    the SSH session, checked there with sha256sum, and only then renamed into place (a no-op when
    the node already holds it)."""

    sha256: str
    url: str
    """Where the operator's cache fetches it from when it does not hold it yet."""
    path: str
    mode: int = 0o600
    local: str = ""
    """A file on the operator's machine to send instead (an air-gapped bundle's, verified by `plan`);
    '' : the cache's."""

    def describe(self) -> str:
        source = "the bundle" if self.local else "the operator's cache"
        return f"upload {self.url.rsplit('/', 1)[-1]} to {self.path} (from {source}, sha256 {self.sha256[:12]})"


Action = Upload | Run | WaitFor | Transfer


@dataclass(frozen=True)
class Step:
    """One unit of work on one node: actions in order, or a no-op with the reason it needs none."""

    phase: str
    node: str
    name: str
    title: str
    actions: tuple[Action, ...] = ()
    noop_reason: str | None = None
    check: Script | None = None
    """A command whose success means the step's effect is in place (used on resume)."""
    read_only: bool = False
    """Only looks (health checks, verification): not counted as a change."""

    @property
    def id(self) -> str:
        """Stable identity across processes: `phase/node/name`."""
        return f"{self.phase}/{self.node}/{self.name}"

    @property
    def is_noop(self) -> bool:
        return self.noop_reason is not None


@dataclass(frozen=True)
class Phase:
    """Steps that run in parallel across nodes (in order on each node), then a barrier."""

    name: str
    title: str
    steps: tuple[Step, ...]
    requires: tuple[str, ...] = ()
    """Phases that must have finished without a failure before this one may start."""
    verifies: bool = False
    """Only checks that the rollout worked: its failure leaves the rollout incomplete, not failed."""

    def nodes(self) -> list[str]:
        """Nodes with steps in this phase, in first-seen order."""
        return list(dict.fromkeys(step.node for step in self.steps))


@dataclass(frozen=True)
class Plan:
    """The whole rollout for one spec."""

    cluster: str
    spec_hash: str
    phases: tuple[Phase, ...]
    secrets: tuple[str, ...] = field(default=(), repr=False)
    """Values to redact from every output line, event and journal entry (e.g. sudo passwords)."""
    essential: dict[str, str] = field(default_factory=dict)
    """Nodes the rollout cannot leave out -> why; any other node may be skipped after a failure."""
    notes: tuple[str, ...] = ()
    """What the operator must know before this plan runs (shown by every view, at the top of the log)."""

    def steps(self) -> list[Step]:
        """Every step in execution order (phase by phase)."""
        return [step for phase in self.phases for step in phase.steps]

    def step(self, step_id: str) -> Step:
        """The step with `step_id`."""
        for step in self.steps():
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def changes(self) -> int:
        """Steps that would change something (not no-ops, not read-only checks)."""
        return sum(1 for step in self.steps() if not step.is_noop and not step.read_only)
