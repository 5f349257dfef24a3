"""The bridge coalesces: a flood of events from many threads becomes a handful of messages, in order,
with nothing lost; the board turns batches into per-node state."""

from __future__ import annotations

import threading
from typing import Any

from khatui.events import NodeFailed, OutputLine, RolloutStarted, StepFinished, StepStarted, StepState
from khatui.rollout.progress import Board
from khatui.tui.bridge import EventBridge


class CountingTarget:
    """Stands in for a screen: counts posted messages."""

    def __init__(self) -> None:
        self.posted: list[Any] = []
        self.lock = threading.Lock()

    def post_message(self, message: Any) -> bool:
        with self.lock:
            self.posted.append(message)
        return True


def test_many_threads_many_lines_one_message_until_drained() -> None:
    target = CountingTarget()
    bridge = EventBridge(target)  # type: ignore[arg-type]

    def produce(node: str) -> None:
        for index in range(500):
            bridge(OutputLine(node, f"{node}/s", f"{node} {index}"))

    threads = [threading.Thread(target=produce, args=(f"n{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(target.posted) == 1  # nothing drained yet: one message for 4000 events
    events = bridge.drain()
    assert len(events) == 4000 == bridge.received
    for node in (f"n{i}" for i in range(8)):
        lines = [e.line for e in events if isinstance(e, OutputLine) and e.node == node]
        assert lines == [f"{node} {i}" for i in range(500)]  # per-node order kept
    bridge(OutputLine("n0", "n0/s", "after"))
    assert len(target.posted) == 2 and [e.line for e in bridge.drain()] == ["after"]  # type: ignore[union-attr]


def test_board_states_from_a_batch() -> None:
    board = Board(clock=lambda: 10.0)
    changed = board.apply(
        [
            RolloutStarted("r", "c", ("a", "b"), 2, "/log"),
            StepStarted("a", "p/a/s", "step one"),
            OutputLine("a", "p/a/s", "hello"),
            StepFinished("a", "p/a/s", StepState.DONE),
            StepStarted("b", "p/b/s", "step one"),
            StepFinished("b", "p/b/s", StepState.FAILED, "exit 1", 1),
            NodeFailed("b", "p/b/s", "false", 1, "command exited with 1", ("boom",)),
        ]
    )
    assert changed == {"a", "b"}
    assert board.nodes["a"].lines == ["hello"] and board.nodes["a"].done == 1
    assert board.nodes["b"].state == "failed" and board.failures[0].last_lines == ("boom",)
    assert board.sorted_names("state") == ["b", "a"]
