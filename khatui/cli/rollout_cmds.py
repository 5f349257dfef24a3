"""`plan`, `apply`, `resume`, `attach`, `diagnose`, `rollouts`: the headless views of a `Rollout`.

Results go to stdout, notes and warnings to stderr (so `plan --output json` is only JSON), both
through consoles with rich markup off: spec, journal and node text is printed as it is, never read
as markup (`ops[/]x` would raise, `[link=...]` would plant a hyperlink).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TYPE_CHECKING

from khatui.errors import InputError

if TYPE_CHECKING:
    from rich.console import Console

    from khatui.rollout.desired import Desired
    from khatui.rollout.nodes import Observed
    from khatui.rollout.rollout import Rollout, RolloutOptions


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the rollout commands."""
    plan = sub.add_parser(
        "plan",
        help="dry run: show exactly what apply would change, per node",
        description="Connect to every node (read-only), gather facts, run the preflight checks and show "
        "the plan apply would execute: per node the files as diffs against what is there, the commands "
        "in order, certificate subjects and expiry (never keys), and a summary. --offline shows the "
        "plan without SSH (every file new). Completes the local PKI store if needed.",
    )
    _spec_args(plan)
    plan.add_argument("--offline", action="store_true", help="do not connect: plan as if every node were empty")
    plan.add_argument("--output", choices=("text", "json"), default="text", help="output format (default: text)")
    plan.add_argument("--no-diff", action="store_true", help="list files without their diffs")
    _waive_arg(plan)
    plan.set_defaults(run=_plan)

    apply = sub.add_parser(
        "apply",
        help="roll the spec out to the nodes",
        description="Plan as `khatui plan` does, ask for confirmation (or --yes), then execute the plan "
        "over SSH with a live view. Every step is journaled: if anything fails or the process dies, "
        "`khatui resume` continues where it stopped.",
    )
    _spec_args(apply)
    apply.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    apply.add_argument("--concurrency", type=int, default=100, metavar="N", help="nodes worked on at once (100)")
    _waive_arg(apply)
    apply.add_argument("--verbose", "-v", action="store_true", help="print every output line (non-terminal output)")
    _smoke_arg(apply)
    apply.add_argument(
        "--detach",
        action="store_true",
        help="after confirmation, run the rollout in the background (it survives this terminal); follow it with `khatui attach`",
    )
    apply.set_defaults(run=_apply)

    attach = sub.add_parser(
        "attach",
        help="follow a rollout running in the background",
        description="Print the log of rollout ID (default: the most recent unfinished one) as it grows, until it "
        "ends. Ctrl-C stops following; the rollout goes on.",
    )
    attach.add_argument("rollout", nargs="?", metavar="ID", help="rollout id (see `khatui rollouts`)")
    attach.set_defaults(run=_attach)

    resume = sub.add_parser(
        "resume",
        help="continue a rollout that failed or was interrupted",
        description="Re-check the nodes and continue the rollout ID (default: the most recent unfinished one) "
        "from its first unfinished step. Finished steps whose effect is still in place are not run again. "
        "If the spec file changed since, the change is shown and must be confirmed.",
    )
    resume.add_argument("rollout", nargs="?", metavar="ID", help="rollout id (see `khatui rollouts`)")
    resume.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    resume.add_argument("--accept-new-host-keys", action="store_true", help="accept and pin unknown host keys")
    resume.add_argument("--concurrency", type=int, default=100, metavar="N", help="nodes worked on at once (100)")
    _waive_arg(resume)
    resume.add_argument("--verbose", "-v", action="store_true", help="print every output line")
    _smoke_arg(resume)
    resume.set_defaults(run=_resume)

    diagnose = sub.add_parser(
        "diagnose",
        help="bundle logs, rendered files and a run report to share",
        description="Gather, for rollout ID (default: the most recent one), the journal's run report, the rollout "
        "log, every node's relevant logs (etcd, kubelet, haproxy, keepalived, nginx; failed units; listening "
        "ports), the rendered files and the certificate summaries into one tarball. Secrets are redacted and "
        "no key material is included.",
    )
    diagnose.add_argument("rollout", nargs="?", metavar="ID", help="rollout id (see `khatui rollouts`)")
    diagnose.add_argument("-o", "--output", metavar="FILE", help="tarball path (default: ./khatui-diagnose-ID.tar.gz)")
    diagnose.add_argument(
        "--offline", action="store_true", help="do not connect to the nodes (journal, log and files only)"
    )
    diagnose.add_argument("--accept-new-host-keys", action="store_true", help="accept and pin unknown host keys")
    diagnose.set_defaults(run=_diagnose)

    rollouts = sub.add_parser(
        "rollouts", help="list rollouts and their state", description="List the rollouts in the journal, newest first."
    )
    rollouts.add_argument("--output", choices=("table", "json"), default="table", help="output format")
    rollouts.set_defaults(run=_rollouts)


def _waive_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--waive",
        action="append",
        default=[],
        metavar="CHECK[:NODE]",
        help="let a failed preflight check pass (repeatable)",
    )


def _smoke_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="end the verification with a test pod that resolves kubernetes.default through the cluster DNS",
    )


def _spec_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", metavar="SPEC", help="cluster spec file (YAML)")
    parser.add_argument(
        "--accept-new-host-keys",
        action="store_true",
        help="accept and pin host keys seen for the first time (changed keys are always refused)",
    )
    parser.add_argument(
        "--pki-dir", metavar="DIR", help="PKI store directory (default: <data dir>/clusters/<name>/pki)"
    )


def _console(stderr: bool = False, lines: bool = False) -> Console:
    """stdout (results) or stderr (notes and warnings, one line each); `lines`: stdout's lines are not
    wrapped either (a log, a command to copy); markup off, see the module docstring."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, markup=False, soft_wrap=stderr or lines)


def _options(args: argparse.Namespace) -> RolloutOptions:
    """The rollout options the command line gives (a command without a flag leaves its default)."""
    from khatui.rollout.rollout import EngineOptions, RolloutOptions

    concurrency: int | None = getattr(args, "concurrency", None)
    return RolloutOptions(
        accept_new_host_keys=getattr(args, "accept_new_host_keys", False),
        waivers=tuple(getattr(args, "waive", ())),
        engine=EngineOptions(concurrency=concurrency) if concurrency is not None else None,
        pki_dir=getattr(args, "pki_dir", None),
        smoke=getattr(args, "smoke", False),
    )


def _open(args: argparse.Namespace) -> Rollout:
    """The rollout of `args.spec`, its sudo passwords asked for, its warnings and PKI note on stderr."""
    from khatui.rollout.rollout import Rollout

    rollout = Rollout.open(args.spec, _options(args))
    _ask_sudo_passwords(rollout.desired)
    notes = _console(stderr=True)
    for warning in rollout.desired.warnings:
        notes.print(str(warning), style="yellow")
    if rollout.desired.pki_note:
        notes.print(rollout.desired.pki_note)
    return rollout


def _plan(args: argparse.Namespace) -> int:
    """Exit 0: the plan can be applied; 1: a preflight check fails (not waived) or a node is unreachable."""
    from khatui.views.checks import render_checks
    from khatui.views.preview import plan_lines, plan_to_json, write_plan

    console = _console()
    with _open(args) as rollout:
        observed = None if args.offline else rollout.observe()
        plan = rollout.make_plan()
        facts = observed.facts if observed else None
        if args.output == "json":
            data = plan_to_json(plan, facts)
            if observed:
                data["preflight"] = [vars(c) | {"status": str(c.status)} for c in observed.checks]
                data["unreachable"] = observed.unreachable
            json.dump(data, sys.stdout, indent=2)
            sys.stdout.write("\n")
        else:
            console.file.flush()
            write_plan(console.file, plan_lines(plan, facts, show_diffs=not args.no_diff), console.color_system)
            if observed:
                console.print(render_checks(observed.checks, observed.unreachable))
    if observed is None or not (observed.unreachable or observed.blocking):
        return 0
    notes = _console(stderr=True)
    if observed.unreachable:
        notes.print(
            f"{len(observed.unreachable)} node(s) could not be reached: their part of the plan assumes empty nodes",
            style="red",
        )
    if observed.blocking:
        names = _failing(observed)
        notes.print(
            f"preflight: {len(names)} check(s) fail ({', '.join(names)}): apply would refuse; fix the nodes or "
            f"waive with --waive {names[0]}",
            style="red",
        )
    return 1


def _ask_sudo_passwords(desired: Desired) -> None:
    """Ask (without echo) for every sudo password whose environment variable is unset, in a terminal.

    The answer goes into this process's environment only, where the spec says to find it (and where
    a detached run inherits it); headless, an unset variable stays an error naming the node.
    """
    import getpass
    import os

    if not sys.stdin.isatty():
        return
    for node in desired.cluster.spec.nodes:
        variable = node.ssh.sudo_password_env
        if variable and variable not in os.environ:
            os.environ[variable] = getpass.getpass(f"sudo password for {node.ssh.user} on {node.name} (${variable}): ")


def _confirm(question: str, yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise InputError(f"{question} needs confirmation: run in a terminal or pass --yes")
    answer = input(f"{question} [y/N] ").strip().lower()
    if answer not in ("y", "yes"):
        raise InputError("cancelled; nothing was changed")


def _execute(args: argparse.Namespace, rollout: Rollout) -> int:
    from khatui.events import Outcome
    from khatui.views.outcome import closing_line, kubeconfig_line
    from khatui.views.progress import ProgressView

    with ProgressView(verbose=args.verbose, plan=rollout.plan) as view:
        result = rollout.execute(view)
    console, style = _console(lines=True), "green" if result.ok else "red"
    if view.is_live:  # the live table does not print the summary line itself
        console.print(result.summary, style=style)
    console.print(closing_line(view.board), style=style)
    if view.board.outcome in (Outcome.DONE, Outcome.INCOMPLETE):
        console.print(kubeconfig_line(rollout.desired.spec_path, rollout.desired.cluster.metadata.name))
    return 0 if result.ok else 1


def _gate(observed: Observed, console: Console) -> None:
    from khatui.views.checks import render_checks

    if observed.unreachable or observed.blocking:
        console.print(render_checks(observed.checks, observed.unreachable))
        names = _failing(observed)
        raise InputError(
            "preflight failed"
            + (f" ({len(observed.unreachable)} node(s) unreachable)" if observed.unreachable else "")
            + (f"; fix the nodes or waive with --waive {names[0]}" if names else "")
        )


def _failing(observed: Observed) -> list[str]:
    """The failed, unwaived checks as `--waive` takes them: CHECK:NODE, sorted."""
    return sorted({f"{c.check}:{c.node}" for c in observed.blocking})


def _apply(args: argparse.Namespace) -> int:
    from khatui.views.preview import plan_lines, summary, write_plan

    console = _console()
    with _open(args) as rollout:
        observed = rollout.observe()
        _gate(observed, console)
        plan = rollout.make_plan()
        if plan.changes() == 0:
            console.print(summary(plan))
            return 0
        if not args.yes:
            write_plan(console.file, plan_lines(plan, observed.facts), console.color_system)
        _confirm(f"apply: {summary(plan)}?", args.yes)
        record = rollout.start()
        console.print(f"rollout {record.id} (log: {record.log_path})")
        if args.detach:
            rollout.close()  # the background run opens its own sessions
            pid = rollout.hand_over()
            console.print(
                f"rollout {record.id} runs in the background (pid {pid}); follow it: khatui attach {record.id}"
            )
            return 0
        return _execute(args, rollout)


def _attach(args: argparse.Namespace) -> int:
    from khatui.events import Outcome
    from khatui.journal import open_journal
    from khatui.rollout.background import follow
    from khatui.rollout.records import find_unfinished, state_now
    from khatui.views.outcome import record_line

    record = find_unfinished(args.rollout)
    console = _console(lines=True)
    console.print(f"following rollout {record.id} ({record.state}); Ctrl-C stops following, not the rollout")
    with open_journal() as journal:
        try:
            final = follow(journal, record.id, lambda line: console.print(line))
        except KeyboardInterrupt:
            console.print(f"stopped following; the rollout goes on (khatui attach {record.id})")
            return 0
    outcome = Outcome(state_now(final))
    if outcome is Outcome.INTERRUPTED:
        console.print(f"the process that ran rollout {final.id} (pid {final.pid}) is gone", style="red")
    console.print(record_line(final, outcome), style="green" if outcome is Outcome.DONE else "red")
    return 0 if outcome is Outcome.DONE else 1


def _resume(args: argparse.Namespace) -> int:
    from khatui.rollout.records import find_unfinished
    from khatui.rollout.rollout import Rollout

    record = find_unfinished(args.rollout)
    console = _console()
    console.print(f"resuming rollout {record.id} ({record.state}) of {record.spec_path}")
    with Rollout.reopen(record, _options(args)) as rollout:
        if rollout.spec_diff:
            console.print("the spec changed since this rollout started:", style="yellow")
            console.print(rollout.spec_diff)
            _confirm("continue with the changed spec?", args.yes)
        _ask_sudo_passwords(rollout.desired)
        _gate(rollout.observe(), console)
        rollout.make_plan()
        return _execute(args, rollout)


def _diagnose(args: argparse.Namespace) -> int:
    from pathlib import Path

    from khatui.rollout.records import find_any
    from khatui.rollout.rollout import Rollout

    record = find_any(args.rollout)
    with Rollout.reopen(record, _options(args)) as rollout:
        if not args.offline:
            rollout.observe()
        out = rollout.diagnose(Path(args.output or f"khatui-diagnose-{record.id}.tar.gz"))
    _console().print(f"wrote {out}: share it; it holds no keys and secrets are masked")
    return 0


RECORD_COLUMNS = ("id", "cluster", "state", "age")
"""The columns of `khatui rollouts` shown whole, before the failure."""


def _rollouts(args: argparse.Namespace) -> int:
    from rich.table import Table

    from khatui.events import Outcome
    from khatui.rollout.records import rollouts

    records = rollouts()
    if args.output == "json":
        json.dump([{k: v for k, v in vars(r).items() if k != "spec_yaml"} for r in records], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    now, rows = time.time(), []
    for r in records:
        failure = (
            (r.failure or "").splitlines()[0].split(": ", 1)[0].removeprefix(f"rollout {r.id} ") if r.failure else ""
        )
        if r.state == Outcome.INTERRUPTED:
            failure = "its process is gone (killed, crashed or rebooted)"
        rows.append((r.id, r.cluster, r.state, f"{(now - r.started) / 60:.0f} min", failure))
    console = _console(lines=True)
    table = Table(show_edge=False)
    widths = [max([len(column), *(len(row[index]) for row in rows)]) for index, column in enumerate(RECORD_COLUMNS)]
    for column, width in zip(RECORD_COLUMNS, widths, strict=True):
        table.add_column(column, no_wrap=True, min_width=width)
    # Rich shrinks every column of a table too wide, the id too (what resume and attach take): only
    # the failure is cut, to the room the others leave (each column is padded by 1 and 1, then a rule)
    room = console.width - sum(width + 3 for width in widths) - 1
    table.add_column("failure", no_wrap=True, overflow="ellipsis", max_width=max(room, len("failure")))
    for row in rows:
        table.add_row(*row)
    console.print(table if records else "no rollouts yet")
    for r in records:  # whole, never cut short: the command to copy
        if r.state == Outcome.INTERRUPTED:
            console.print(f"rollout {r.id} was interrupted; continue it: khatui resume {r.id}")
    return 0
