"""`khatui` entry point: builds the argument parser and turns `KhatuiError` into a clean exit.

Every command module exposes `register(subparsers)`; a command sets `run=` to a function taking
the parsed arguments and returning the exit code. Only the module of the command being run is
imported: `COMMANDS` names every command's module and one-line help, so `khatui --help` lists them
all without loading the spec models, the engine or textual (the wizard loads textual itself).

Other distributions add commands through the `khatui.commands` entry point group: each entry names
a module with `register` and a one-line `SUMMARY` (khatui-lab adds `lab`). Such a module is loaded
to list its command, so it keeps its own imports light. A command in `OPTIONAL` that no
distribution provides is still listed, and running it says how to install it.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Iterator, Sequence
from functools import partial
from importlib.metadata import entry_points

from khatui import __version__
from khatui.errors import InputError, KhatuiError

COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("spec_cmds", "write a commented example cluster spec"),
    "validate": ("spec_cmds", "check a cluster spec and list every problem"),
    "schema": ("spec_cmds", "print the JSON Schema of the cluster spec"),
    "import": ("import_cmd", "turn an Ansible inventory, an ssh config, a k0sctl or KubeKey file into a cluster spec"),
    "certs": ("certs", "create, inspect and renew the cluster's certificates"),
    "render": ("render_cmd", "write every node's configuration files to a folder"),
    "bundle": ("bundle_cmd", "write an air-gapped bundle: every binary, package and image a spec's nodes install"),
    "plan": ("rollout_cmds", "dry run: show exactly what apply would change, per node"),
    "apply": ("rollout_cmds", "roll the spec out to the nodes"),
    "attach": ("rollout_cmds", "follow a rollout running in the background"),
    "resume": ("rollout_cmds", "continue a rollout that failed or was interrupted"),
    "diagnose": ("rollout_cmds", "bundle logs, rendered files and a run report to share"),
    "rollouts": ("rollout_cmds", "list rollouts and their state"),
    "kubeconfig": ("kubeconfig_cmd", "write an admin kubeconfig for the operator"),
    "wizard": ("wizard_cmd", "the interactive wizard (also what `khatui` alone opens in a terminal)"),
}
"""khatui's own commands: command -> (its module in khatui.cli, its one-line help), in the order
`khatui --help` lists them. The help must be the one the module registers (tests/test_cli.py checks)."""

PLUGIN_GROUP = "khatui.commands"
"""The entry point group through which another distribution adds commands (name -> module)."""

OPTIONAL: dict[str, tuple[str, str]] = {
    "lab": (
        "the local lab of test nodes",
        "it is the separate khatui-lab package: `bash scripts/setup` in a clone of khatui installs it,"
        " or `pip install ./lab` there",
    ),
}
"""Commands another distribution provides: command -> (what it is, how to install it)."""

DESCRIPTION = """\
khatui takes you from a list of machines to a highly available Kubernetes control plane over SSH:
etcd with TLS, kube-apiservers behind a load balancer, kubeadm masters with leader election.
Every answer lives in a declarative cluster spec (YAML) that the commands below read."""

EPILOG = """\
exit codes: 0 success, 1 failure while working (plan: a preflight check fails), 2 invalid input
            (spec, flags, files), 130 interrupted
start here:  khatui init -o cluster.yaml && khatui validate cluster.yaml"""


def command_table() -> dict[str, tuple[str | None, str]]:
    """Every command -> (the module that registers it, its one-line help), in `khatui --help` order:
    khatui's own, then those of the installed distributions (`PLUGIN_GROUP`, by name; never one of
    khatui's own names), then the `OPTIONAL` ones none of them provides (module None)."""
    table: dict[str, tuple[str | None, str]] = {
        name: (f"khatui.cli.{module}", summary) for name, (module, summary) in COMMANDS.items()
    }
    for entry in sorted(entry_points(group=PLUGIN_GROUP), key=lambda entry: entry.name):
        if entry.name not in table:
            table[entry.name] = (entry.module, str(importlib.import_module(entry.module).SUMMARY))
    for name, (what, _how) in OPTIONAL.items():
        table.setdefault(name, (None, f"{what}: not installed (`khatui {name} --help` says how)"))
    return table


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser with every command listed. Every module registers its commands' arguments, or,
    given `command` (a name, or '' for none), only that command's module: the others are stubs
    that carry their help."""
    parser = argparse.ArgumentParser(
        prog="khatui",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"khatui {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    table = command_table()
    wanted = None if command is None else table.get(command, (None, ""))[0] or ""  # "": only stubs
    registered: set[str] = set()
    for name, (module, summary) in table.items():
        if module is None:
            _not_installed(sub, name, summary)
        elif wanted is not None and module != wanted:
            sub.add_parser(name, help=summary, add_help=False)
        elif module not in registered:  # a module registers all its commands, in this order
            importlib.import_module(module).register(sub)
            registered.add(module)
    return parser


def _not_installed(sub: argparse._SubParsersAction, name: str, summary: str) -> None:  # type: ignore[type-arg]
    """`khatui NAME ...` for an `OPTIONAL` command no distribution provides: `--help` says how to
    install it, anything else refuses with that (exit 2)."""
    what, how = OPTIONAL[name]
    command = sub.add_parser(name, help=summary, description=f"{what} is not installed: {how}.")
    command.add_argument("arguments", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    command.set_defaults(run=partial(_refuse_not_installed, name))


def _refuse_not_installed(name: str, _args: argparse.Namespace) -> int:
    what, how = OPTIONAL[name]
    raise InputError(f"`khatui {name}`: {what} is not installed: {how}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run khatui with `argv` (default: the process arguments); returns the exit code.

    The one error boundary: a `KhatuiError` prints its one line (exit 1, or 2 for bad input), anything
    unforeseen prints one line naming a crash log that holds the traceback (exit 1)."""
    try:
        return _dispatch(sys.argv[1:] if argv is None else list(argv))
    except KhatuiError as exc:
        print(f"khatui: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("khatui: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        _silence_stdout()
        return 0
    except Exception as exc:  # noqa: BLE001 - the one boundary: a bug in khatui still ends in one line
        print(internal_error(exc), file=sys.stderr)
        return 1


def _dispatch(argv: list[str]) -> int:
    command = next((arg for arg in argv if not arg.startswith("-")), "")
    parser = build_parser(command)
    args = parser.parse_args(argv)
    run = getattr(args, "run", None)
    if run is None:
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            parser.print_help()
            return 0
        from khatui.cli import wizard_cmd

        run = wizard_cmd.run  # a terminal and no command: the wizard
    return int(run(args))


def internal_error(exc: BaseException) -> str:
    """The one line for an error khatui did not foresee; its traceback goes to a crash log."""
    import traceback

    path = _crash_log("".join(traceback.format_exception(exc)))
    first = (str(exc).strip().splitlines() or [""])[0]
    where = path or "no file: no folder was writable"
    return f"khatui: internal error: {type(exc).__name__}: {first} (traceback in {where})"


def _crash_log(text: str) -> str | None:
    """Write `text` to a new 0600 file in `<data dir>/logs`, or in the temporary folder when the data
    dir is unusable; its path, or None when neither could be written."""
    import tempfile
    import time

    for folder in _crash_folders():
        try:
            fd, path = tempfile.mkstemp(
                prefix=f"khatui-crash-{time.strftime('%Y%m%d-%H%M%S')}-", suffix=".log", dir=folder
            )
            with os.fdopen(fd, "w", encoding="utf-8", errors="replace") as handle:
                handle.write(text)
        except OSError:
            continue
        return path
    return None


def _crash_folders() -> Iterator[str | None]:
    """`<data dir>/logs` when it can be made, then the temporary folder (None)."""
    from khatui.userdirs import data_folder

    folder: str | None = None
    try:
        with data_folder("logs") as logs:  # created 0700, like every folder of the data dir
            folder = str(logs.path)
    except (KhatuiError, OSError, RuntimeError):  # RuntimeError: no home directory for the data dir
        folder = None
    if folder is not None:
        yield folder
    yield None


def _silence_stdout() -> None:
    """After a broken pipe (`khatui ... | head`), point stdout at /dev/null so the interpreter's final
    flush does not complain about it."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
