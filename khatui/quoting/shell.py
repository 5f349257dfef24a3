"""Shell commands from argv lists, quoted once at the edge, and the shell-sourced env file.

A command is built from words with `cmd` (every word `shlex.quote`d, so a value is always exactly
one word), and combined only with the operators below. The operators are typed so that precedence
cannot go wrong: `pipe` takes simple commands, `and_` takes commands, pipelines and and-lists, and a
`seq` (`;`) is a whole script that nothing else may take as an operand. A literal command without
values is built the same way (`cmd("systemctl", "restart", "kubelet")`), so no call site writes
command text itself. `Script` is what the plan's actions hold: any of these.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import NewType

from khatui.quoting.lines import UnsafeValue, one_line

Script = NewType("Script", str)
"""Shell text built by this module: run by `sh -c` on a node."""
AndList = NewType("AndList", Script)
"""An and-or list: `a && b`, `a || b` (sh gives `&&` and `||` the same precedence, left to right)."""
Pipeline = NewType("Pipeline", Script)
"""`a | b | ...`."""
Command = NewType("Command", Pipeline)
"""One simple command (words and redirections): a pipeline of one."""

Word = str | int | PurePosixPath
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def quote(word: Word) -> str:
    """One word for `sh`: `shlex.quote` of its text (unchanged when it needs no quoting)."""
    return shlex.quote(str(word))


def cmd(program: Word, *args: Word) -> Command:
    """`program args...`, every word quoted."""
    return Command(Pipeline(Script(" ".join(quote(w) for w in (program, *args)))))


def quiet(command: Command) -> Command:
    """`command` with its output and errors discarded."""
    return Command(Pipeline(Script(f"{command} >/dev/null 2>&1")))


def pipe(*commands: Command) -> Pipeline:
    """`a | b | ...`."""
    return Pipeline(Script(" | ".join(commands)))


def and_(*parts: Pipeline | AndList) -> AndList:
    """`a && b && ...`: each part runs only when the previous one succeeded."""
    return AndList(Script(" && ".join(parts)))


def or_(*parts: Pipeline | AndList) -> AndList:
    """`a || b || ...`: each part runs only when the previous one failed (an and-or list, as `and_`)."""
    return AndList(Script(" || ".join(parts)))


def seq(*parts: Pipeline | AndList) -> Script:
    """`a; b; ...`: each part runs whatever the previous one did; a whole script, never an operand."""
    return Script("; ".join(parts))


def env_file(variables: Mapping[str, Word]) -> str:
    """An env file for `set -a; . FILE`: one `NAME=value` line per variable, every value quoted for `sh`.

    A value that would need more than one line is refused (`UnsafeValue`), so the file always has
    exactly one line per variable."""
    lines = []
    for name, value in variables.items():
        if not _ENV_NAME.fullmatch(name):
            raise UnsafeValue(f"{name!r} cannot go into a shell env file: not a variable name")
        lines.append(f"{name}={quote(one_line(str(value), 'a shell env file'))}\n")
    return "".join(lines)
