"""Running host commands for the lab (ip, nsenter, apt-get) with errors an operator can read.

One helper so every failing command is reported the same way: the command, its exit code and the
last line of what it printed, as a `KhatuiError`, never a traceback.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence

from khatui.errors import KhatuiError

NODE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
"""PATH of commands run inside a node (the caller's, e.g. a virtualenv's, means nothing there)."""


def run(
    argv: Sequence[str],
    *,
    check: bool = True,
    input: bytes | None = None,
    env: dict[str, str] | None = None,
    timeout: float | None = 120,
) -> subprocess.CompletedProcess[bytes]:
    """Run `argv` on the host, capturing its output; with `check`, a non-zero exit is a `KhatuiError`."""
    try:
        result = subprocess.run(
            list(argv), input=input, capture_output=True, env=env, timeout=timeout, check=False, cwd="/"
        )
    except FileNotFoundError:
        raise KhatuiError(f"{argv[0]}: command not found") from None
    except subprocess.TimeoutExpired:
        raise KhatuiError(f"{' '.join(argv)}: no answer after {timeout} s") from None
    if check and result.returncode != 0:
        raise KhatuiError(f"{' '.join(argv)} failed (exit code {result.returncode}): {last_line(result)}")
    return result


def last_line(result: subprocess.CompletedProcess[bytes]) -> str:
    """The last non-empty line of stderr (else stdout), or 'no output'."""
    for stream in (result.stderr, result.stdout):
        lines = [line.strip() for line in stream.decode(errors="replace").splitlines() if line.strip()]
        if lines:
            return lines[-1]
    return "no output"


def node_env() -> dict[str, str]:
    """The environment of a command run inside a node: a clean one, as a login would give."""
    return {"PATH": NODE_PATH, "HOME": "/root", "LANG": "C.UTF-8", "TERM": "dumb"}
