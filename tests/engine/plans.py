"""Small plans for the executor tests on the fake transport, written in a line each."""

from __future__ import annotations

from khatui.events import StepFinished, StepState
from khatui.plan.model import Action, Phase, Plan, Run, Step
from khatui.quoting.shell import Script
from tests.engine.recorder import Recorder

NODES = ("a", "b", "c")
"""The fake nodes every test has."""


def run(command: str) -> Run:
    return Run(Script(command))


def step(phase: str, node: str, name: str, *actions: Action, **extra: object) -> Step:
    """A step titled by its name; `extra`: `check`, `noop_reason`."""
    return Step(phase, node, name, name, actions, **extra)  # type: ignore[arg-type]


def phase(name: str, *steps: Step, requires: tuple[str, ...] = ()) -> Phase:
    return Phase(name, name, steps, requires)


def everywhere(name: str, *commands: str, requires: tuple[str, ...] = ()) -> Phase:
    """A phase whose step `s` on every node runs `commands`, each followed by the node's name."""
    return phase(name, *(step(name, n, "s", *(run(f"{c} {n}") for c in commands)) for n in NODES), requires=requires)


def plan_of(*phases: Phase, secrets: tuple[str, ...] = (), essential: dict[str, str] | None = None) -> Plan:
    return Plan("test", "hash", phases, secrets, essential or {})


def states(recorder: Recorder) -> dict[str, tuple[StepState, str]]:
    """Each step's last state and detail."""
    return {e.step_id: (e.state, e.detail) for e in recorder.of(StepFinished)}
