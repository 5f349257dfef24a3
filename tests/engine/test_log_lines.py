"""The rollout log (what `attach` prints) and the headless view without a terminal: one readable line
per event, in one wording (`khatui.events.describe`), never a Python repr."""

from __future__ import annotations

import io
import re
from pathlib import Path

from rich.console import Console

from khatui.views.progress import ProgressView
from tests.engine.conftest import Start
from tests.engine.fake_transport import FakeNodes, Reply
from tests.engine.plans import everywhere, plan_of

STAMP = re.compile(r"\d\d:\d\d:\d\d ")


def test_the_log_reads_as_lines_not_reprs(start: Start, nodes: FakeNodes) -> None:
    nodes.script("b", "work b", Reply(3, "it broke"))
    plan = plan_of(everywhere("one", "work"), everywhere("two", "more", requires=("one",)))
    executor, recorder = start(plan)
    executor.run()
    rid = executor.rollout.id
    log = Path(executor.rollout.log_path).read_text()
    assert not re.search(r"\w+\(\w+=", log), log  # no `StepFinished(node='a', ...)`
    lines = log.splitlines()
    assert all(STAMP.match(line) for line in lines[:-3])  # the failure summary's last lines carry no stamp
    said = [line[9:] for line in lines]
    assert said[0] == f"rollout {rid} of test started: 6 steps on 3 nodes (log: {executor.rollout.log_path})"
    assert "== one (a, b, c)" in said and "a: s ..." in said and "b one/b/s | it broke" in said
    assert "b: FAILED at one/b/s: command exited with 3 (exit code 3); command: work b" in said
    assert "== one failed" in said and "== two not started: a phase it needs failed" in said
    assert any(line.startswith("a: one/a/s done") for line in said)
    assert "a: two/a/s skipped (blocked: phase one failed)" in said
    assert said[-4].startswith(f"rollout {rid} failed on node b, step one/b/s")

    out = io.StringIO()
    plain = ProgressView(Console(file=out, width=300))
    for event in recorder.events:
        plain(event)
    shown = [line[9:] for line in out.getvalue().splitlines()]
    assert "b: FAILED at one/b/s: command exited with 3 (exit code 3); command: work b" in shown
    assert "b one/b/s | it broke" not in shown  # output lines only with --verbose
