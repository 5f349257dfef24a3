"""The core calls the TUI makes, behind one object so tests can give fixed facts or real sshd nodes.

`EngineServices` hands out `khatui.rollout.rollout.Rollout` objects, the same ones the headless
`khatui plan/apply/resume` use (see `khatui/cli/rollout_cmds.py`); the screens then call the
rollout (observe, plan, start, execute, pause, hand over), and nothing is re-implemented here.
Every method blocks (SSH, PKI, planning): screens call them, and the rollout's methods, from
thread workers only. Nothing here imports the engine: the TUI reaches it through the rollout.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from khatui.rollout.probe import ProbeResult

if TYPE_CHECKING:
    # The rollout (the engine: fabric, paramiko; the PKI: cryptography) loads on first use, not
    # with the first frame of the wizard.
    from khatui.journal import RolloutRecord
    from khatui.rollout.rollout import AcceptUnknown, Rollout, RolloutOptions
    from khatui.spec.cluster import Cluster

__all__ = ["EngineServices", "ProbeResult", "Services", "spec_base_dir"]


class Services(Protocol):
    """What the wizard asks of the core."""

    def rollouts(self) -> list[RolloutRecord]:
        """Rollouts in the journal, newest first."""
        ...

    def probe(self, cluster: Cluster, base_dir: str, node: str, accept: AcceptUnknown | None) -> ProbeResult:
        """Connect to one node: SSH, sudo, OS, host key."""
        ...

    def open(self, spec_path: str, options: RolloutOptions) -> Rollout:
        """A new rollout of the saved spec: validated, the PKI store completed, every file rendered."""
        ...

    def resume(self, rollout_id: str, options: RolloutOptions) -> Rollout:
        """A rollout from the journal, ready to continue: the spec now, the nodes observed, the rest planned."""
        ...


class EngineServices:
    """The real core: rollouts of this machine's journal, over SSH."""

    def rollouts(self) -> list[RolloutRecord]:
        from khatui.rollout.records import rollouts  # the journal alone: not the engine the rest loads

        return rollouts()

    def probe(self, cluster: Cluster, base_dir: str, node: str, accept: AcceptUnknown | None) -> ProbeResult:
        from khatui.rollout.probe import probe

        return probe(cluster, base_dir, node, accept)

    def open(self, spec_path: str, options: RolloutOptions) -> Rollout:
        from khatui.rollout.rollout import Rollout

        return Rollout.open(spec_path, options)

    def resume(self, rollout_id: str, options: RolloutOptions) -> Rollout:
        from khatui.rollout.records import find_unfinished
        from khatui.rollout.rollout import Rollout

        rollout = Rollout.reopen(find_unfinished(rollout_id), options)
        try:
            rollout.observe()
            rollout.make_plan()
        except BaseException:
            rollout.close()
            raise
        return rollout


def spec_base_dir(path: Path | None) -> str:
    """The folder relative paths in the spec are taken from."""
    return str((path or Path.cwd() / "spec.yaml").resolve().parent)
