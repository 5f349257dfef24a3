"""Held failures: a failed node's worker waiting for the operator to retry, skip or give up.

Why a module of its own: the hand-over between the worker that waits and the view that answers (and
an abort that answers every waiting one at once) is a small protocol of its own, with its own lock.
"""

from __future__ import annotations

import threading
from enum import StrEnum


class HoldDecision(StrEnum):
    """The operator's answer to a held failure."""

    RETRY = "retry"
    SKIP = "skip"
    GIVE_UP = "give-up"


class Holds:
    """The nodes whose failure waits for a decision; once `aborted` is set, every one gives up."""

    def __init__(self, aborted: threading.Event) -> None:
        self._aborted = aborted
        self._lock = threading.Lock()
        self._held: dict[str, tuple[threading.Event, list[HoldDecision]]] = {}

    def wait(self, node: str) -> HoldDecision:
        """Block the calling worker until `answer(node, ...)` (or `give_up_all`)."""
        event, answer = threading.Event(), list[HoldDecision]()
        with self._lock:
            if self._aborted.is_set():  # checked under the lock that give_up_all() empties the held ones with
                return HoldDecision.GIVE_UP
            self._held[node] = (event, answer)
        event.wait()
        return answer[0]

    def answer(self, node: str, decision: HoldDecision) -> bool:
        """Hand `decision` to `node`'s waiting worker; False when none is waiting."""
        with self._lock:
            held = self._held.pop(node, None)
        if held is None:
            return False
        event, answer = held
        answer.append(decision)
        event.set()
        return True

    def give_up_all(self) -> None:
        """Answer every waiting worker with GIVE_UP (after `aborted` was set, so none starts waiting)."""
        with self._lock:
            held, self._held = self._held, {}
        for event, answer in held.values():
            answer.append(HoldDecision.GIVE_UP)
            event.set()
