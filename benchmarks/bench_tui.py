"""Drive the rollout view headless with a flood of output, against a naive one-pane-per-node view.

Reproduce (from the repository root):

    .venv/bin/python benchmarks/bench_tui.py        # --nodes 200 --rate 20 --seconds 10 --size 160x50 --runs 1

Workload (issue 7): N nodes each streaming `rate` output lines a second for `seconds` seconds, as
engine events (StepStarted, OutputLine..., StepFinished, RolloutFinished) emitted from 20 producer
threads (nodes spread over them, each thread wakes every 1/rate s and emits one line per node).

Variants, each in a fresh interpreter so CPU time is its own:
- producers: the same threads into a sink that only stores events (the floor: what any view costs on top).
- khatui: the real `RolloutScreen` (make_app + the real `EventBridge`, coalesced drains, `Board`,
  `NodeTable` from 50 nodes, `OutputLog` detail pane), fed through the same `Services.execute` door
  the engine uses. `--interval S` pins the seconds between drains (default: the view's own pacing).
- naive: one `Log` pane per node, each engine event posted as its own message, one `write_line` per line.

Figures per variant: CPU seconds of the whole process during the stream (user+sys, producers included)
and as % of one core; event-to-screen latency p50/p95 (see `PaintClock`: from the producer's emit to
the end of the first frame the app sent out after the widget showing the node had taken the line in
and painted itself again); lines lost (lines of a node's full log, as its detail pane shows it after
the stream plus a 1 s grace, missing or out of order compared with what was emitted).
Headless Textual computes every frame (compositor, widget rendering) but does not serialise escape
codes to a terminal; the first-frame figures are measured on a real pty.

Then the time to first frame in a pseudo-terminal (80x24, 5 runs each, round robin, medians) of
`khatui`, of a bare Textual app showing the same two strings (`HELLO`: what Textual itself needs
here) and of the naive baseline (`EAGER`: khatui with every module imported up front). Each first
runs once untimed, and PYTHONDONTWRITEBYTECODE is dropped, so modules load from cached bytecode as
they do once installed (with that variable set and no caches, every start compiles khatui anew).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PRODUCERS = 20


# -- the workload ------------------------------------------------------------------------------------
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


# -- variant: producers only ----------------------------------------------------------------------------
def run_producers(args: argparse.Namespace) -> dict[str, Any]:
    kept: list[Any] = []
    stream = Stream(node_names(args.nodes), args.rate, args.seconds, kept.append)
    before = cpu()
    stream.run()
    return {"cpu_s": cpu() - before, "events": len(kept)}


# -- variant: khatui's rollout view -----------------------------------------------------------------------
def run_khatui(args: argparse.Namespace) -> dict[str, Any]:
    from khatui.events import OutputLine, PhaseFinished, PhaseStarted, RolloutFinished, RolloutStarted
    from khatui.journal import RolloutRecord
    from khatui.plan.model import Phase, Plan, Run, Step
    from khatui.rollout.desired import Desired
    from khatui.rollout.nodes import Observed
    from khatui.rollout.rollout import Rollout, RolloutResult
    from khatui.spec import API_VERSION, KIND
    from khatui.tui.app import KhatuiApp
    from khatui.tui.context import WizardContext
    from khatui.tui.screens.rollout import RolloutScreen
    from khatui.tui.state import WizardState
    from khatui.tui.widgets.node_table import NodeTable
    from khatui.tui.widgets.rollout_parts import NodePane

    names = node_names(args.nodes)
    plan = Plan(
        "bench",
        "hash",
        (
            Phase(
                "stream", "Stream output", tuple(Step("stream", n, "s", "stream output", (Run("true"),)) for n in names)
            ),
        ),
    )
    paint = PaintClock()
    NodeTable.render_line = paint.counting(NodeTable.render_line)  # type: ignore[method-assign]
    NodePane.render = paint.counting(NodePane.render)  # type: ignore[method-assign]
    window: dict[str, float] = {}
    box: dict[str, Any] = {}

    class BenchServices:
        def rollouts(self) -> list[RolloutRecord]:
            return []

    class BenchRollout(Rollout):
        def execute(self, sink: Any, hold_failures: bool = False) -> Any:
            sink(RolloutStarted("bench", "bench", tuple(names), len(names), "/dev/null"))
            sink(PhaseStarted("stream", "Stream output", tuple(names)))
            stream = Stream(names, args.rate, args.seconds, sink, paint.stamps)
            box["stream"] = stream
            window["cpu0"] = cpu()
            window["start"], window["end"] = stream.run()
            window["cpu1"] = cpu()
            sink(PhaseFinished("stream", True))
            sink(RolloutFinished("bench", True, "done", "/dev/null"))
            return RolloutResult("bench", True, summary="done")

    data = {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": "bench"},
        "spec": {
            "nodes": [{"name": "cp1", "address": "10.0.0.1", "roles": ["control-plane", "etcd"]}],
            "loadBalancer": {"mode": "local-proxy"},
        },
    }

    class BenchApp(KhatuiApp):
        def on_mount(self) -> None:
            """No wizard step under the rollout view: the start screen's background loads (the
            journal, the spec models) would run into the measured window."""

        def on_ready(self) -> None:
            self.run_worker(drive(), name="bench")

        def _display(self, screen: Any, renderable: Any) -> None:
            super()._display(screen, renderable)
            if renderable is not None:
                paint.frame()

    app = BenchApp(WizardContext(WizardState(data), BenchServices()), "start")  # type: ignore[arg-type]
    record = RolloutRecord("bench", "bench", "/dev/null", "hash", "", "running", 0.0, 0.0, None, "/dev/null", None)
    result: dict[str, Any] = {}

    async def drive() -> None:
        taken = snapshot_after_grace(window, lambda: {n: list(screen.board.nodes[n].lines) for n in names})
        state = app.ctx.state
        assert state.cluster is not None
        rollout = BenchRollout(Desired(state.cluster, "", "", "hash", "", [], {}))
        rollout.plan, rollout.record, rollout.observed = plan, record, Observed({}, {}, {})
        screen = RolloutScreen(rollout, **({"interval": args.interval} if args.interval else {}))
        apply = screen.board.apply
        drains: list[float] = []

        def taking(events: Any) -> set[str]:
            drains.append(time.perf_counter())
            changed = apply(events)
            paint.took([e.line for e in events if isinstance(e, OutputLine)])
            return changed

        screen.board.apply = taking  # type: ignore[method-assign]
        await app.push_screen(screen)
        await _wait(taken)
        stream = box["stream"]
        lost = count_lost(stream.emitted, window["shown"])  # type: ignore[arg-type]
        # what the detail pane shows for a node is its whole log (checked on a sample, after the grace)
        for node in names[:: max(1, len(names) // 10)]:
            screen.show_log(node)
            log_lines = list(screen.query_one("#log").lines)  # type: ignore[attr-defined]
            if log_lines != screen.board.nodes[node].lines:
                lost += 1
        result.update(
            cpu_s=window["cpu1"] - window["cpu0"],
            seconds=window["end"] - window["start"],
            latencies=paint.latencies,
            lines=sum(len(v) for v in stream.emitted.values()),
            lost=lost,
            mode=("table" if screen.tabular else "panes")
            + f", {sum(window['start'] <= t <= window['end'] for t in drains) / (window['end'] - window['start']):.1f} drains/s"
            + (f" (fixed {screen.fixed_interval:g} s)" if screen.fixed_interval else ""),
        )
        app.exit()

    width, height = args.size
    app.run(headless=True, size=(width, height))
    return result


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


async def _wait(event: threading.Event) -> None:
    import asyncio

    await asyncio.to_thread(event.wait)


# -- variant: the naive view ------------------------------------------------------------------------------
def run_naive(args: argparse.Namespace) -> dict[str, Any]:
    from textual.app import App, ComposeResult
    from textual.containers import VerticalScroll
    from textual.message import Message
    from textual.widgets import Log

    from khatui.events import OutputLine

    names = node_names(args.nodes)
    paint = PaintClock()
    Log.render_line = paint.counting(Log.render_line)  # type: ignore[method-assign]
    window: dict[str, float] = {}
    box: dict[str, Any] = {}

    class Arrived(Message):
        def __init__(self, event: Any) -> None:
            super().__init__()
            self.event = event

    class NaiveApp(App[None]):
        CSS = "Log { height: 6; border: round $panel; }"

        def on_ready(self) -> None:
            self.run_worker(drive(), name="bench")

        def compose(self) -> ComposeResult:
            with VerticalScroll():
                for name in names:
                    log = Log(id=name, max_lines=None)
                    log.border_title = name
                    yield log

        def on_arrived(self, message: Arrived) -> None:
            event = message.event
            if isinstance(event, OutputLine):
                self.query_one(f"#{event.node}", Log).write_line(event.line)
                paint.took([event.line])

        def _display(self, screen: Any, renderable: Any) -> None:
            super()._display(screen, renderable)
            if renderable is not None:
                paint.frame()

    app = NaiveApp()
    result: dict[str, Any] = {}

    def sink(event: Any) -> None:
        app.post_message(Arrived(event))

    def produce() -> None:
        stream = Stream(names, args.rate, args.seconds, sink, paint.stamps)
        box["stream"] = stream
        window["cpu0"] = cpu()
        window["start"], window["end"] = stream.run()
        window["cpu1"] = cpu()

    async def drive() -> None:
        logs = {name: app.query_one(f"#{name}", Log) for name in names}
        taken = snapshot_after_grace(window, lambda: {n: list(log.lines) for n, log in logs.items()})
        thread = threading.Thread(target=produce, daemon=True)
        thread.start()
        await _wait(taken)
        stream = box["stream"]
        lost = count_lost(stream.emitted, window["shown"])  # type: ignore[arg-type]
        result.update(
            cpu_s=window["cpu1"] - window["cpu0"],
            seconds=window["end"] - window["start"],
            latencies=paint.latencies,
            lines=sum(len(v) for v in stream.emitted.values()),
            lost=lost,
            mode="panes",
        )
        app.exit()

    width, height = args.size
    app.run(headless=True, size=(width, height))
    return result


# -- time to first frame ----------------------------------------------------------------------------------
HELLO = """\
from textual.app import App
from textual.widgets import Static

class Hello(App):
    def compose(self):
        yield Static("Start\\nRollouts in the journal")

Hello().run()
"""
"""Bare Textual: one screen with the same two strings, the least a Textual app pays here."""

EAGER = """\
import importlib, pkgutil, sys
import khatui.tui.screens
from khatui.cli.main import build_parser, main

build_parser()
for info in pkgutil.iter_modules(khatui.tui.screens.__path__):
    importlib.import_module(f"khatui.tui.screens.{info.name}")
sys.exit(main([]))
"""
"""The naive baseline: `khatui` with everything imported before its first frame (every command
module, every screen and with them the spec models), as it started before issue 7."""

FIRST_FRAMES = {
    "khatui": [str(ROOT / ".venv" / "bin" / "khatui")],
    "bare Textual": [sys.executable, "-c", HELLO],
    "naive": [sys.executable, "-c", EAGER],
}


def first_frame(command: list[str]) -> float | None:
    """Seconds from exec of `command` on an 80x24 pty to the first frame of its start screen."""
    with tempfile.TemporaryDirectory() as data:
        env = dict(os.environ, TERM="xterm-256color", KHATUI_DATA_DIR=data, COLUMNS="80", LINES="24")
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: modules load from cached bytecode
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
        os.close(slave)
        seen = b""
        shown = None
        deadline = started + 20
        while time.perf_counter() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                continue
            try:
                seen += os.read(master, 65536)
            except OSError:
                break
            if b"Start" in seen and b"Rollouts in the journal" in seen:
                shown = time.perf_counter() - started
                break
        os.write(master, b"\x11")  # ctrl+q
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        os.close(master)
        return shown


# -- the run ----------------------------------------------------------------------------------------------
def child(args: argparse.Namespace) -> None:
    runner = {"producers": run_producers, "khatui": run_khatui, "naive": run_naive}[args.variant]
    print(json.dumps(runner(args)))


def spawn(variant: str, args: argparse.Namespace) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--variant",
        variant,
        "--nodes",
        str(args.nodes),
        "--rate",
        str(args.rate),
        "--seconds",
        str(args.seconds),
        "--size",
        f"{args.size[0]}x{args.size[1]}",
        "--interval",
        str(args.interval),
    ]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{variant} failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def size(text: str) -> tuple[int, int]:
    width, height = text.lower().split("x")
    return int(width), int(height)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20.0, help="lines per second per node")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--size", type=size, default=(160, 50), help="terminal WIDTHxHEIGHT (160x50)")
    parser.add_argument("--runs", type=int, default=1, help="runs of each variant (the median is shown)")
    parser.add_argument(
        "--interval", type=float, default=0.0, help="khatui: seconds between drains (default: the view's own)"
    )
    parser.add_argument("--variant", choices=("producers", "khatui", "naive"), help=argparse.SUPPRESS)
    parser.add_argument("--skip-first-frame", action="store_true")
    args = parser.parse_args()
    if args.variant:
        child(args)
        return
    print("reproduce: .venv/bin/python benchmarks/bench_tui.py " + " ".join(sys.argv[1:]))
    print(
        f"workload: {args.nodes} nodes x {args.rate:g} lines/s x {args.seconds:g} s, terminal {args.size[0]}x{args.size[1]}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start"
    )
    rows = []
    for variant in ("producers", "khatui", "naive"):
        results = [spawn(variant, args) for _ in range(args.runs)]
        cpu_s = statistics.median(r["cpu_s"] for r in results)
        row = {"variant": variant, "cpu_s": cpu_s, "core_pct": 100 * cpu_s / args.seconds}
        if variant != "producers":
            latencies = [x for r in results for x in r["latencies"]]
            row |= {
                "p50_ms": 1000 * percentile(latencies, 0.5),
                "p95_ms": 1000 * percentile(latencies, 0.95),
                "lost": statistics.median(r["lost"] for r in results),
                "lines": results[0]["lines"],
                "mode": results[0]["mode"],
            }
        rows.append(row)
    print(f"{'variant':<10} {'CPU s':>7} {'% core':>7} {'p50 ms':>8} {'p95 ms':>8} {'lost':>7} {'of lines':>9}  view")
    for row in rows:
        if row["variant"] == "producers":
            print(
                f"{row['variant']:<10} {row['cpu_s']:7.2f} {row['core_pct']:6.0f}% {'':>8} {'':>8} {'':>7} {'':>9}  (no view: the floor)"
            )
        else:
            print(
                f"{row['variant']:<10} {row['cpu_s']:7.2f} {row['core_pct']:6.0f}% {row['p50_ms']:8.0f} {row['p95_ms']:8.0f} "
                f"{row['lost']:7.0f} {row['lines']:9d}  {row['mode']}"
            )
    floor = rows[0]["cpu_s"]
    for row in rows[1:]:
        print(
            f"{row['variant']}: the view itself costs {row['cpu_s'] - floor:.2f} CPU s ({100 * (row['cpu_s'] - floor) / args.seconds:.0f}% of a core) above the producers"
        )
    if not args.skip_first_frame:
        print("time to first frame (80x24 pty, 5 runs each, round robin, after one untimed run each):")
        for command in FIRST_FRAMES.values():
            first_frame(command)  # writes the bytecode caches, fills the page cache
        frames: dict[str, list[float]] = {name: [] for name in FIRST_FRAMES}
        for _ in range(5):
            for name, command in FIRST_FRAMES.items():
                shown = first_frame(command)
                if shown is not None:
                    frames[name].append(shown)
        for name, times in frames.items():
            if times:
                print(
                    f"  {name:<13} median {1000 * statistics.median(times):5.0f} ms "
                    f"(min {1000 * min(times):.0f}, max {1000 * max(times):.0f}, {len(times)} runs)"
                )
            else:
                print(f"  {name:<13} no frame seen")


if __name__ == "__main__":
    main()
