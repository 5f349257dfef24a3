"""From engine events (worker threads) to the UI's event loop, coalesced.

The engine calls the bridge for every event, output lines included, from its node threads. Posting
one message per line would flood the loop (200 nodes at 20 lines/s is 4000 messages a second, each
repainting a pane). Instead the bridge appends to a buffer under a lock and posts a single
`EventBridge.Arrived` message when the buffer goes from empty to non-empty; the screen drains the
whole buffer at most `interval` seconds after its previous drain. So the loop sees at most a handful
of messages a second whatever the output rate, events keep their order, and no line is ever dropped:
the buffer is unbounded and drained completely each time. `post_message` is the one thread-safe door
into Textual (textual docs/guide/workers.md).
"""

from __future__ import annotations

import threading

from textual.message import Message
from textual.message_pump import MessagePump

from khatui.events import Event


class EventBridge:
    """An `EventSink` for the engine that hands events to `target` in batches."""

    class Arrived(Message):
        """Events are waiting in the bridge: call `drain()` (posted once per batch)."""

        def __init__(self, bridge: EventBridge) -> None:
            super().__init__()
            self.bridge = bridge

    def __init__(self, target: MessagePump) -> None:
        self._target = target
        self._lock = threading.Lock()
        self._pending: list[Event] = []
        self._posted = False
        self.received = 0
        """Events received so far (for tests and the benchmark)."""

    def __call__(self, event: Event) -> None:
        """Called by the engine from any thread."""
        with self._lock:
            self._pending.append(event)
            self.received += 1
            if self._posted:
                return
            self._posted = True
        self._target.post_message(self.Arrived(self))

    def drain(self) -> list[Event]:
        """Every event received since the last drain, in order (called on the UI's loop)."""
        with self._lock:
            events, self._pending = self._pending, []
            self._posted = False
        return events
