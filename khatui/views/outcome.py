"""How a rollout ended, in one line: the last thing `apply`, `resume` and `attach` print, and what the
TUI says when its rollout ends or when it quits.

One module so every front end says the same word for an outcome (`khatui.events.Outcome`) and the
same total duration; the CLI and the TUI both call `closing_line` (a `Board`) or `record_line`
(a journal record) instead of wording it themselves.
"""

from __future__ import annotations

import shlex

from khatui.events import Outcome
from khatui.journal import RolloutRecord
from khatui.rollout.progress import Board, format_elapsed

RESUMABLE = (Outcome.FAILED, Outcome.ABORTED, Outcome.INCOMPLETE, Outcome.INTERRUPTED)


def outcome_line(rollout_id: str, outcome: Outcome, seconds: float, steps: str = "") -> str:
    """'rollout ID done in 0:09 (52/52 steps)', 'rollout ID failed after 1:02 (...); continue it: khatui resume ID'."""
    took = f"in {format_elapsed(seconds)}" if outcome is Outcome.DONE else f"after {format_elapsed(seconds)}"
    if outcome is Outcome.RUNNING:
        took = f"for {format_elapsed(seconds)} so far"
    line = f"rollout {rollout_id} {outcome} {took}" + (f" ({steps})" if steps else "")
    return line + (f"; continue it: khatui resume {rollout_id}" if outcome in RESUMABLE else "")


def default_kubeconfig(cluster: str) -> str:
    """Where `khatui kubeconfig` writes without `-o`: `<cluster>.kubeconfig` in the current folder."""
    return f"{cluster}.kubeconfig"


def kubeconfig_line(spec_path: str, cluster: str) -> str:
    """What a rollout that ran to its end offers: the command that writes the operator's kubeconfig."""
    return f"your admin kubeconfig (valid 24 h): khatui kubeconfig {shlex.quote(spec_path)} -o {default_kubeconfig(cluster)}"


def closing_line(board: Board) -> str:
    """The closing line of the rollout a `Board` follows: its outcome, total duration and steps finished."""
    steps = f"{board.finished_steps}/{board.total_steps} steps" if board.total_steps else ""
    return outcome_line(board.rollout_id, board.outcome, board.duration(), steps)


def record_line(record: RolloutRecord, outcome: Outcome) -> str:
    """The closing line of a journaled rollout (`attach`): from its start to its last record."""
    return outcome_line(record.id, outcome, max(0.0, record.updated - record.started))
