"""A thread-safe event sink for engine tests that keeps every event and lets a test wait for one."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from khatui.events import Event


class Recorder:
    """Every event the executor emitted, in order."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._lock = threading.Condition()

    def __call__(self, event: Event) -> None:
        with self._lock:
            self.events.append(event)
            self._lock.notify_all()

    def of(self, kind: type) -> list[Any]:
        """The events of type `kind`."""
        with self._lock:
            return [e for e in self.events if isinstance(e, kind)]

    def wait_for(self, kind: type, test: Callable[[Any], bool] = lambda event: True, within: float = 10.0) -> Any:
        """The first event of type `kind` that passes `test`, waiting up to `within` seconds for it
        (a safety net against a hang, not a measurement)."""
        with self._lock:
            found = self._lock.wait_for(lambda: [e for e in self.events if isinstance(e, kind) and test(e)], within)
        assert found, f"no {kind.__name__} came"
        return found[0]
