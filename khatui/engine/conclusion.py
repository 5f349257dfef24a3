"""How a rollout ended, as the one outcome word and the summary line every view shows.

A module of its own because the rule has several cases the executor need not spell out: done; done
but for the nodes the operator skipped, or with only verification failing (the rollout ran, the
cluster does not work yet: `incomplete`, naming what is missing); aborted; failed at a step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from khatui.events import NodeFailed, Outcome
from khatui.plan.model import Plan


@dataclass(frozen=True)
class Conclusion:
    """The outcome, its summary line, and the text the journal keeps as the failure (None: done)."""

    state: Outcome
    summary: str
    failure_text: str | None

    @property
    def ok(self) -> bool:
        """True only for a rollout that is done."""
        return self.state is Outcome.DONE


def _verifying(plan: Plan, failures: Sequence[NodeFailed]) -> bool:
    """True when every failure is a step of a verifying phase."""
    phases = {step.id: phase.verifies for phase in plan.phases for step in phase.steps}
    return bool(failures) and all(phases.get(f.step_id, False) for f in failures)


def conclude(
    plan: Plan,
    rollout_id: str,
    log_path: str,
    failures: Sequence[NodeFailed],
    aborted: bool,
    skipped: Sequence[str],
) -> Conclusion:
    """How the rollout `rollout_id` of `plan` ended."""
    resume = f"`khatui resume {rollout_id}`"
    if aborted and not failures:
        summary = f"rollout {rollout_id} aborted; {resume} continues it"
        return Conclusion(Outcome.ABORTED, summary, summary)
    if not aborted and _verifying(plan, failures):
        missing = "; ".join(f"{f.step_id}: {f.reason}" for f in failures)
        summary = (
            f"rollout {rollout_id} incomplete: every step ran, but the cluster does not work yet: {missing}"
            f"\nlog: {log_path}\nfix the cause, then {resume} checks again"
        )
        return Conclusion(Outcome.INCOMPLETE, summary, summary)
    if failures:
        summary = _failure_summary(rollout_id, log_path, failures[0])
        return Conclusion(Outcome.FAILED, summary, summary)
    if skipped:
        summary = (
            f"rollout {rollout_id} finished without {', '.join(skipped)} (skipped by the operator); "
            f"{resume} rolls them out once fixed"
        )
        return Conclusion(Outcome.INCOMPLETE, summary, summary)
    nodes = len(dict.fromkeys(step.node for step in plan.steps()))
    return Conclusion(Outcome.DONE, f"rollout {rollout_id} done: {len(plan.steps())} steps on {nodes} nodes", None)


def _failure_summary(rollout_id: str, log_path: str, first: NodeFailed) -> str:
    return (
        f"rollout {rollout_id} failed on node {first.node}, step {first.step_id}: {first.reason}"
        + (f" (exit code {first.exit_code})" if first.exit_code is not None else "")
        + f"; command: {first.command}"
        + ("; last output:\n  " + "\n  ".join(first.last_lines) if first.last_lines else "")
        + f"\nlog: {log_path}\nfix the cause, then `khatui resume {rollout_id}`"
    )
