"""`khatui` entry point: builds the argument parser and turns `KhatuiError` into a clean exit.

Every command module exposes `register(subparsers)`; a command sets `run=` to a function taking
the parsed arguments and returning the exit code. Nothing here imports textual: the wizard is
loaded only when it is asked for.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from khatui import __version__
from khatui.cli import certs, import_cmd, lab_cmd, render_cmd, rollout_cmds, spec_cmds, wizard_cmd
from khatui.errors import KhatuiError

COMMAND_MODULES = (spec_cmds, import_cmd, certs, render_cmd, rollout_cmds, lab_cmd, wizard_cmd)

DESCRIPTION = """\
khatui takes you from a list of machines to a highly available Kubernetes control plane over SSH:
etcd with TLS, kube-apiservers behind a load balancer, kubeadm masters with leader election.
Every answer lives in a declarative cluster spec (YAML) that the commands below read."""

EPILOG = """\
exit codes: 0 success, 1 failure while working, 2 invalid input (spec, flags, files), 130 interrupted
start here:  khatui init -o cluster.yaml && khatui validate cluster.yaml"""


def build_parser() -> argparse.ArgumentParser:
    """The full parser, every subcommand included."""
    parser = argparse.ArgumentParser(
        prog="khatui",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"khatui {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run khatui with `argv` (default: the process arguments); returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    run = getattr(args, "run", None)
    if run is None:
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            parser.print_help()
            return 0
        run = wizard_cmd.run  # a terminal and no command: the wizard (textual loads only now)
    try:
        return int(run(args))
    except KhatuiError as exc:
        print(f"khatui: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("khatui: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
