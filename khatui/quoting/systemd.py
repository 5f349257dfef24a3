"""Values in systemd unit files, escaped by systemd's own rules (systemd.syntax(7) "QUOTING",
systemd.service(5) "COMMAND LINES", systemd.unit(5) "SPECIFIERS").

A command line is an argv list: every word gets `%` -> `%%` (specifiers) and `$` -> `$$` (variable
expansion), and a word with anything but plain characters is put in double quotes with `\\` and `"`
backslash-escaped, so a space, a quote, a lone `;` or a backslash stays inside its word. A plain
setting (Description=) gets `%` -> `%%` only: systemd expands no variables there and removes no
quotes. Control characters cannot be represented on a unit line and are refused, as is a plain value
ending in a backslash (systemd would join the next line to it).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import PurePosixPath

from khatui.quoting.lines import UnsafeValue, one_line

_TARGET = "a systemd unit"
_PLAIN = re.compile(r"[A-Za-z0-9_@%+=:,./\[\]-]+")
"""Characters that mean nothing to systemd's command-line parser but `%` (escaped anyway)."""


def exec_word(word: str | PurePosixPath) -> str:
    """One argument of an ExecStart= line: systemd hands the program exactly `word`."""
    text = one_line(str(word), _TARGET)
    escaped = text.replace("%", "%%").replace("$", "$$")
    if _PLAIN.fullmatch(text):
        return escaped
    return '"' + escaped.replace("\\", "\\\\").replace('"', '\\"') + '"'


def exec_line(argv: Sequence[str | PurePosixPath], separator: str = " ") -> str:
    """The value of ExecStart= running `argv` as it is; words joined by `separator` (a space, or a
    backslash-newline continuation and an indent)."""
    program = str(argv[0])
    if not program.startswith("/"):
        raise UnsafeValue(f"{program!r} cannot go into {_TARGET}: a command must be an absolute path")
    return separator.join(exec_word(word) for word in argv)


def value(text: str) -> str:
    """A plain unit setting (Description=, Documentation=): systemd reads back exactly `text`."""
    one_line(text, _TARGET)
    if text.endswith("\\"):
        raise UnsafeValue(f"{text!r} cannot go into {_TARGET}: a trailing backslash joins the next line")
    if text != text.strip():
        raise UnsafeValue(f"{text!r} cannot go into {_TARGET}: systemd drops leading and trailing blanks")
    return text.replace("%", "%%")
