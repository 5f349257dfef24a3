"""What every variant of bench_tui.py shares: the output flood and the clocks that measure a view under it.

Kept apart from bench_tui.py (which runs the variants and prints the report) so each stays readable;
the variants import it by name because a script's folder is first on `sys.path`.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable
from typing import Any

PRODUCERS = 20


# -- the stream ------------------------------------------------------------------------------------
class Stream:
    """Producer threads emitting every node's lines on schedule; records when each line was emitted."""

    def __init__(
        self,
        nodes: list[str],
        rate: float,
        seconds: float,
        sink: Callable[[Any], None],
        stamps: dict[str, float] | None = None,
    ) -> None:
        from khatui.events import OutputLine, StepFinished, StepStarted, StepState

        self.nodes, self.rate, self.seconds, self.sink = nodes, rate, seconds, sink
        self.emitted: dict[str, list[str]] = {n: [] for n in nodes}
        self.stamps: dict[str, float] = {} if stamps is None else stamps
        self._events = (OutputLine, StepFinished, StepStarted, StepState)

    def run(self) -> tuple[float, float]:
        """Emit everything; returns (start, end) on the perf_counter clock."""
        output_line, step_finished, step_started, step_state = self._events
        for node in self.nodes:
            self.sink(step_started(node, f"stream/{node}/s", "stream output"))
        ticks = int(self.rate * self.seconds)
        start = time.perf_counter() + 0.05
        groups = [self.nodes[i::PRODUCERS] for i in range(PRODUCERS)]

        def produce(index: int, mine: list[str]) -> None:
            offset = index / (PRODUCERS * self.rate)  # spread the threads over each tick
            for tick in range(ticks):
                due = start + tick / self.rate + offset
                delay = due - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                for node in mine:
                    line = f"{node} line {tick:05d} " + "x" * 40
                    self.stamps[line] = time.perf_counter()
                    self.emitted[node].append(line)
                    self.sink(output_line(node, f"stream/{node}/s", line))

        threads = [threading.Thread(target=produce, args=(i, g), daemon=True) for i, g in enumerate(groups) if g]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        end = time.perf_counter()
        for node in self.nodes:
            self.sink(step_finished(node, f"stream/{node}/s", step_state.DONE))
        return start, end


def cpu() -> float:
    usage = os.times()
    return usage.user + usage.system


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def node_names(count: int) -> list[str]:
    return [f"n{i:03d}" for i in range(count)]


class PaintClock:
    """Event-to-screen latency, taken at the end of frames.

    A view reports each batch of lines as it takes them in (`took`); the widgets that show nodes
    (the table, the panes, the naive view's logs) count their paints (`counting` wraps their render
    method, which Textual calls only for a widget, or line, that must be painted again); the app
    reports each frame it sends out (`frame`, from `App._display`). A line counts as shown at the
    end of the first frame sent out after those widgets painted following the line's arrival: a
    repaint that was merely scheduled, or a frame that reused old content, does not count.
    """

    def __init__(self) -> None:
        self.stamps: dict[str, float] = {}
        self.latencies: list[float] = []
        self._paints = 0
        self._waiting: list[tuple[int, list[str]]] = []

    def counting(self, render: Callable[..., Any]) -> Callable[..., Any]:
        def counted(widget: Any, *args: Any) -> Any:
            self._paints += 1
            return render(widget, *args)

        return counted

    def took(self, lines: list[str]) -> None:
        if lines:
            self._waiting.append((self._paints, lines))

    def frame(self) -> None:
        now = time.perf_counter()
        while self._waiting and self._waiting[0][0] < self._paints:
            for line in self._waiting.pop(0)[1]:
                stamp = self.stamps.get(line)
                if stamp is not None:
                    self.latencies.append(now - stamp)


GRACE = 1.0
"""Seconds the view gets after the last line before its logs are compared with what was emitted."""


def snapshot_after_grace(window: dict[str, float], read: Callable[[], dict[str, list[str]]]) -> threading.Event:
    """A thread that copies every node's shown log GRACE seconds after the stream ended, on time
    even when the UI's loop is saturated (a list copy is atomic under the GIL)."""
    taken = threading.Event()

    def watch() -> None:
        while "end" not in window:
            time.sleep(0.05)
        time.sleep(max(0.0, window["end"] + GRACE - time.perf_counter()))
        window["shown"] = read()  # type: ignore[assignment]
        taken.set()

    threading.Thread(target=watch, daemon=True).start()
    return taken


def count_lost(emitted: dict[str, list[str]], shown: dict[str, list[str]]) -> int:
    """Lines of each node's emitted output missing from (or out of order in) what the view shows."""
    lost = 0
    for node, lines in emitted.items():
        have = shown.get(node, [])
        if have != lines:
            present = set(have)
            lost += max(1, sum(1 for line in lines if line not in present))
    return lost


async def wait(event: threading.Event) -> None:
    """Wait for `event` without blocking the app's loop."""
    await asyncio.to_thread(event.wait)


class FrameClock:
    """How long each frame takes to make: the wall time of `Screen._compositor_refresh` (the
    compositor paints the dirty widgets' lines and joins them into the update the app sends out),
    and of each drain that fed it; `within` keeps those that started while the stream ran."""

    def __init__(self) -> None:
        self.frames: list[tuple[float, float]] = []
        self.drains: list[tuple[float, float]] = []

    @staticmethod
    def timing(kept: list[tuple[float, float]], call: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any) -> Any:
            started = time.perf_counter()
            try:
                return call(*args)
            finally:
                kept.append((started, time.perf_counter() - started))

        return timed

    def install(self) -> None:
        """Time every frame of every screen (call before the app runs)."""
        from textual.screen import Screen

        Screen._compositor_refresh = self.timing(self.frames, Screen._compositor_refresh)  # type: ignore[method-assign]

    @staticmethod
    def within(kept: list[tuple[float, float]], window: dict[str, float]) -> list[float]:
        """The durations of the calls that started between the stream's start and end."""
        return [took for started, took in kept if window["start"] <= started <= window["end"]]
