"""One error hierarchy for the whole tool.

Every error an operator can cause (bad input, unreachable node, refused host key) is a
`KhatuiError`: it carries a one-line message and a short title, which the CLI prints without a
traceback and the TUI shows in a dialog. Anything else escaping is a bug in khatui.
"""

from __future__ import annotations


class KhatuiError(Exception):
    """An error the operator can act on; `str(err)` is the whole message."""

    title = "Error"
    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InputError(KhatuiError):
    """Input (a spec, an inventory, a flag) that khatui cannot use; exit code 2."""

    title = "Invalid input"
    exit_code = 2
