"""Values in line-oriented text: one value never splits a line, and a config word stays one word.

haproxy.cfg, keepalived.conf, nginx.conf, Corefiles and the khatui header are written by f-strings
into formats with no reliable quoting, so values are refused rather than escaped: a config word is a
run of characters that no format khatui writes treats as syntax (no blank, quote, comment, brace,
semicolon, `$` or backslash).
"""

from __future__ import annotations

import re
import unicodedata

from khatui.errors import InputError

_BREAKING = frozenset({"Cc", "Cs", "Zl", "Zp"})
"""Unicode categories that end or corrupt a line somewhere: control characters (newline, NUL, tab,
DEL, C1), lone surrogates (not encodable), line and paragraph separators."""
_WORD = re.compile(r"[A-Za-z0-9._:/@%+=,~\[\]-]+")


class UnsafeValue(InputError, ValueError):
    """A value that cannot be written into its target without changing the target's structure."""


def _unsafe(value: str, target: str, why: str) -> UnsafeValue:
    return UnsafeValue(f"{value!r} cannot go into {target}: {why}")


def one_line(value: str, target: str = "a config file") -> str:
    """`value` unchanged when it holds no character that could break a line, else `UnsafeValue`."""
    for char in value:
        if unicodedata.category(char) in _BREAKING:
            raise _unsafe(value, target, f"it holds the control character U+{ord(char):04X}")
    return value


def word(value: object, target: str = "a config file") -> str:
    """`str(value)` when it is one plain config word (letters, digits and `._:/@%+=,~[]-`), else `UnsafeValue`."""
    text = one_line(str(value), target)
    if not _WORD.fullmatch(text):
        raise _unsafe(text, target, "only letters, digits and ._:/@%+=,~[]- may appear there")
    return text
