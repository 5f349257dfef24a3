"""The engine's `AcceptUnknown` callback answered by the operator in a dialog.

The engine asks from a worker thread, in the middle of an SSH handshake, and needs a yes or no
before it can go on. The gate pushes a `HostKeyDialog` on the app's loop (`call_from_thread`) and
blocks that worker until the dialog is dismissed. One question at a time (probing every node at once
must not stack ten dialogs), and closing the gate (the app is quitting) answers every waiting and
later question with "refuse", so no worker stays blocked.
"""

from __future__ import annotations

import threading
from typing import Any

from textual.app import App

from khatui.tui.screens.dialogs import HostKeyDialog


class HostKeyGate:
    """Callable as `AcceptUnknown`: (host, key type, fingerprint) -> accepted?"""

    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self._one_at_a_time = threading.Lock()
        self._closed = threading.Event()
        self.asked: list[tuple[str, str, str, bool]] = []
        """Every question and its answer, in order."""
        self.asking = threading.Event()
        """Set while a dialog waits for the operator (tests wait on it instead of sleeping)."""

    def __call__(self, host: str, key_type: str, fingerprint: str) -> bool:
        with self._one_at_a_time:
            if self._closed.is_set():
                return False
            answered = threading.Event()
            answer: list[bool] = []

            def dismissed(accepted: bool | None) -> None:
                answer.append(bool(accepted))
                answered.set()

            try:
                self.app.call_from_thread(self.app.push_screen, HostKeyDialog(host, key_type, fingerprint), dismissed)
            except RuntimeError:  # the app is not running any more
                return False
            self.asking.set()
            try:
                while not answered.wait(0.1):
                    if self._closed.is_set():
                        return False
            finally:
                self.asking.clear()
            self.asked.append((host, key_type, fingerprint, answer[0]))
            return answer[0]

    def close(self) -> None:
        """Refuse everything from now on (the app is closing)."""
        self._closed.set()
