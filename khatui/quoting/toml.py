"""Values in TOML files (containerd's config.toml and hosts.toml): one basic string per value.

TOML's basic string ("...") has a complete escape grammar (TOML 1.0 "String"), so unlike the
line-oriented formats a value is escaped rather than refused: `\\` and `"` get a backslash, every
control character becomes `\\uXXXX`. Whatever the value, it stays one string on one line, and a
TOML parser reads back exactly the value. Only a lone surrogate, which no UTF-8 file can hold and no
TOML escape may name, is refused.
"""

from __future__ import annotations

import unicodedata

from khatui.quoting.lines import UnsafeValue

_SHORT = {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def _escape(char: str) -> str:
    if char in _SHORT:
        return _SHORT[char]
    category = unicodedata.category(char)
    if category == "Cs":
        raise UnsafeValue(f"the lone surrogate U+{ord(char):04X} cannot go into a TOML file")
    if category in ("Cc", "Zl", "Zp"):
        return f"\\u{ord(char):04X}"
    return char


def string(value: str) -> str:
    """`value` as a TOML basic string, quotes included."""
    return '"' + "".join(_escape(char) for char in value) + '"'


def strings(values: list[str]) -> str:
    """`values` as a one-line TOML array of basic strings."""
    return "[" + ", ".join(string(value) for value in values) + "]"
