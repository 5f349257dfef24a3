"""The headless apply/resume table at the end of a real run on the fake nodes: every node that ran
all its steps (or was already up to date) shows done, its up-to-date steps count in "done", a node
left out by a failure does not; the last line says the outcome and the total duration."""

from __future__ import annotations

import io
import re

from rich.console import Console

from khatui.engine.holds import HoldDecision
from khatui.events import Event, Outcome, RolloutFinished
from khatui.plan.model import Plan
from khatui.views.outcome import closing_line
from khatui.views.progress import ProgressView
from tests.engine.conftest import Background, Start
from tests.engine.fake_transport import FakeNodes, Reply
from tests.engine.plans import phase, plan_of, run, step
from tests.engine.test_executor_holds import hold_b

UP_TO_DATE = "already in place"


def two_phases() -> Plan:
    """a: one step to run, one up to date; b: everything up to date; c: two steps to run, the second phase
    needs the first."""
    return plan_of(
        phase(
            "one",
            step("one", "a", "work", run("work a")),
            step("one", "b", "same", run("same b"), noop_reason=UP_TO_DATE),
            step("one", "c", "work", run("work c")),
        ),
        phase(
            "two",
            step("two", "a", "same", run("same a"), noop_reason=UP_TO_DATE),
            step("two", "b", "same", run("same b"), noop_reason=UP_TO_DATE),
            step("two", "c", "more", run("more c")),
            requires=("one",),
        ),
    )


def final_table(plan: Plan, events: list[Event]) -> dict[str, list[str]]:
    """node -> its cells (state, step, done, ran) in the table drawn after the last event."""
    view = ProgressView(Console(file=io.StringIO()), plan=plan)
    for event in events:
        view(event)
    console = Console(width=160, record=True, file=io.StringIO())
    console.print(view)
    rows = {}
    for line in console.export_text().splitlines():
        cells = [cell.strip() for cell in re.split(r"[│┃]", line)]
        if cells[0] in ("a", "b", "c"):
            rows[cells[0]] = cells[1:5]
    return rows


def test_after_a_good_run_every_node_is_done_and_up_to_date_steps_count(start: Start) -> None:
    plan = two_phases()
    executor, recorder = start(plan)
    assert executor.run().ok
    rows = final_table(plan, recorder.events)
    assert {node: (cells[0], cells[2], cells[3]) for node, cells in rows.items()} == {
        "a": ("done", "2/2", "1"),
        "b": ("done", "2/2", "0"),  # converged: nothing ran, nothing to do
        "c": ("done", "2/2", "2"),
    }


def test_after_a_failure_the_left_out_node_is_not_done(start: Start, nodes: FakeNodes) -> None:
    nodes.script("c", "work c", Reply(1))
    plan = two_phases()
    executor, recorder = start(plan)
    assert not executor.run().ok
    rows = final_table(plan, recorder.events)
    assert {node: cells[0] for node, cells in rows.items()} == {"a": "waiting", "b": "waiting", "c": "failed"}
    assert rows["a"][2] == "2/2" and rows["b"][2] == "2/2"  # finished, phase two only as left out


def test_the_closing_line_says_the_outcome_the_total_duration_and_the_steps(start: Start, nodes: FakeNodes) -> None:
    plan = two_phases()
    executor, recorder = start(plan)
    executor.run()
    view = ProgressView(Console(file=io.StringIO()), plan=plan)
    for event in recorder.events:
        view(event)
    assert re.fullmatch(rf"rollout {executor.rollout.id} done in \d+:\d\d \(6/6 steps\)", closing_line(view.board))
    nodes.script("c", "work c", Reply(1))
    failed, recorder = start(plan)
    failed.run()
    view = ProgressView(Console(file=io.StringIO()), plan=plan)
    for event in recorder.events:
        view(event)
    assert closing_line(view.board).endswith(f"(6/6 steps); continue it: khatui resume {failed.rollout.id}")
    assert f"rollout {failed.rollout.id} failed after " in closing_line(view.board)


def test_a_rollout_finished_without_a_skipped_node_is_incomplete_in_every_view(
    start: Start, nodes: FakeNodes, background: Background
) -> None:
    executor, recorder, future = hold_b(start, nodes, background)
    assert executor.decide("b", HoldDecision.SKIP) is None
    future.result(timeout=10)
    (finished,) = recorder.of(RolloutFinished)
    record = executor.journal.rollout(executor.rollout.id)
    assert record is not None and finished.state == record.state == Outcome.INCOMPLETE
    rows = final_table(executor.plan, recorder.events)
    assert {node: cells[0] for node, cells in rows.items()} == {"a": "done", "b": "skipped", "c": "done"}
    view = ProgressView(Console(file=io.StringIO()), plan=executor.plan)
    for event in recorder.events:
        view(event)
    assert view.board.outcome is Outcome.INCOMPLETE
    assert f"rollout {executor.rollout.id} incomplete after " in closing_line(view.board)
