"""Running the local tools a bundle is built with (apt-get, skopeo): one way to call them and to
turn their failure into one line."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence

from khatui.errors import KhatuiError


def run_tool(command: Sequence[str], what: str, timeout: float, reason: Callable[[str], str], missing: str) -> str:
    """stdout of `command`; `KhatuiError` '<what>: <reason(stderr)>' when it fails, `missing` when
    the tool is not installed, and a line naming `timeout` when it does not finish."""
    try:
        done = subprocess.run(list(command), capture_output=True, text=True, timeout=timeout, check=False)  # noqa: S603
    except FileNotFoundError:
        raise KhatuiError(missing) from None
    except subprocess.TimeoutExpired:
        raise KhatuiError(f"{what}: no result in {timeout:.0f} s") from None
    if done.returncode != 0:
        raise KhatuiError(f"{what}: {reason(done.stderr) or 'failed'}")
    return done.stdout
