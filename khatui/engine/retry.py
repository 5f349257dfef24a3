"""The executor's two loops that wait: an action retried after a lost connection, a WaitFor polled.

Why a module of its own: both decide when the executor gives up on an action (after how many
reconnects, after how long not ready), apart from the executor's ordering of phases and nodes; the
rollout lock reuses the reconnect loop.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from khatui.engine.transport import CommandResult, ConnectionLost, Transport
from khatui.plan.model import WaitFor

T = TypeVar("T")


class StepFailed(Exception):
    """An action failed; carries what the failure summary shows."""

    def __init__(self, command: str, exit_code: int | None, reason: str) -> None:
        super().__init__(reason)
        self.command = command
        self.exit_code = exit_code
        self.reason = reason


def _quietly(lost: ConnectionLost, delay: float) -> None:
    """Reconnect without a word."""


def reconnecting(
    call: Callable[[], T],
    retries: int,
    backoff: float,
    on_retry: Callable[[ConnectionLost, float], None] = _quietly,
) -> T:
    """`call()`, called again after each `ConnectionLost` up to `retries` times, `backoff` seconds
    later, doubled each time (`on_retry` is told the loss and the wait first).

    The last loss is raised again as a `ConnectionLost` that names the number of attempts.
    """
    attempt, delay = 1, backoff
    while True:
        try:
            return call()
        except ConnectionLost as exc:
            if attempt > retries:
                raise ConnectionLost(f"{exc.message} (after {attempt} attempts)") from None
            on_retry(exc, delay)
            time.sleep(delay)
            attempt, delay = attempt + 1, delay * 2


def wait_until_ready(transport: Transport, action: WaitFor, stopped: threading.Event) -> None:
    """Run the probe every `interval` seconds until it succeeds and its judge finds nothing missing;
    StepFailed once `timeout` passed or when `stopped` is set, naming what the judge last found
    missing, else the probe's last line of output."""
    deadline = time.monotonic() + action.timeout
    last: CommandResult | None = None
    missing: list[str] = []
    while not stopped.is_set():
        result = transport.run(action.command, timeout=min(30.0, action.timeout))
        if result.exit_code == 0:
            missing = action.judge(result.stdout) if action.judge else []
            if not missing:
                return
        last = result
        if time.monotonic() >= deadline:
            break
        time.sleep(action.interval)
    if last is not None and last.exit_code == 0:  # the probe answered; its judge found these missing
        raise StepFailed(action.command, None, f"not ready after {action.timeout:.0f} s: " + "; ".join(missing))
    detail = (last.stderr or last.stdout).strip().splitlines()[-1:] if last else []
    raise StepFailed(
        action.command,
        last.exit_code if last else None,
        f"not ready after {action.timeout:.0f} s" + (f": {detail[0]}" if detail else ""),
    )
