"""`khatui wizard [SPEC]`: the Textual wizard, opened on SPEC (or on the start screen).

textual is imported only when the command runs, so `khatui --help` and every headless command
start without it (tests/test_import_hygiene.py).
"""

from __future__ import annotations

import argparse
import sys

from khatui.errors import InputError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `wizard`."""
    wizard = sub.add_parser(
        "wizard",
        help="the interactive wizard (also what `khatui` alone opens in a terminal)",
        description="Open the terminal wizard: nodes, etcd and certificates, load balancer, DNS, storage, "
        "preflight, review, and the live rollout. With SPEC, the wizard starts on that spec; every answer "
        "is saved to it (ctrl+s) as the YAML `khatui plan/apply` read.",
    )
    wizard.add_argument("spec", nargs="?", metavar="SPEC", help="cluster spec file to open")
    wizard.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the wizard until the operator quits."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise InputError("the wizard needs a terminal; use `khatui plan` / `khatui apply` headless")
    return launch(getattr(args, "spec", None))


def launch(spec: str | None = None) -> int:
    """Start the Textual app (imported here, never at module load). An error the app did not foresee
    is raised again once the terminal is restored, for the CLI's boundary to report in one line."""
    from khatui.tui.app import make_app

    app = make_app(spec)
    result = app.run()
    if app.crash is not None:
        raise app.crash
    if app.rollout is not None:  # the closing summary, on the restored terminal: outcome, duration, resume
        from khatui.views.outcome import closing_line

        print(closing_line(app.rollout.board))
    return int(result or 0)
