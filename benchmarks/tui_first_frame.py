"""Time to first frame of `khatui` in a pseudo-terminal, next to a bare Textual app, for bench_tui.py.

On an 80x24 pty, from exec until the start screen's two strings are on the terminal. The
`khatui` console script next to the running interpreter is used, so `PYTHONPATH` picks the tree.
"""

from __future__ import annotations

import fcntl
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
import time
from pathlib import Path

# -- the commands ----------------------------------------------------------------------------------
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
    "khatui": [str(Path(sys.executable).with_name("khatui"))],
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


def first_frames(runs: int = 5) -> dict[str, list[float]]:
    """Seconds to the first frame of each of `FIRST_FRAMES`, `runs` times, round robin, after one
    untimed run of each (it writes the bytecode caches and fills the page cache)."""
    for command in FIRST_FRAMES.values():
        first_frame(command)
    frames: dict[str, list[float]] = {name: [] for name in FIRST_FRAMES}
    for _ in range(runs):
        for name, command in FIRST_FRAMES.items():
            shown = first_frame(command)
            if shown is not None:
                frames[name].append(shown)
    return frames


def report(frames: dict[str, list[float]]) -> list[str]:
    """The medians, and khatui's against bare Textual's (target: within 1.3x)."""
    lines = []
    for name, times in frames.items():
        if times:
            lines.append(
                f"  {name:<13} median {1000 * statistics.median(times):5.0f} ms "
                f"(min {1000 * min(times):.0f}, max {1000 * max(times):.0f}, {len(times)} runs)"
            )
        else:
            lines.append(f"  {name:<13} no frame seen")
    if frames["khatui"] and frames["bare Textual"]:
        ratio = statistics.median(frames["khatui"]) / statistics.median(frames["bare Textual"])
        lines.append(f"  khatui / bare Textual: {ratio:.2f}x (target <= 1.30x: {'PASS' if ratio <= 1.3 else 'MISS'})")
    return lines
