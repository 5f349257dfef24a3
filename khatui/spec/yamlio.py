"""Reading and writing spec YAML safely, remembering where every value came from.

PyYAML's safe loader is used with two additions: duplicate keys are an error (PyYAML silently keeps
the last one), and while loading we record the line of every key and list item, so a problem found
later by field path can be reported at its file and line. Merge keys (`<<: *defaults`) work as in
PyYAML: keys written next to `<<` win over merged ones (that is not a duplicate), and a merged key
is reported at the line where it was written, inside the anchored mapping. Inputs that are not YAML text at all
(binary, not UTF-8, empty, enormous, alias bombs) get one clear `InputError` each.

A document is parsed with libyaml (PyYAML's C parser, ~5x faster: a 500-node spec takes ~20 ms
instead of ~100 ms) and the same constructor; when that fails it is parsed again with PyYAML's own
parser, whose messages (line, problem, hint) are the ones reported. libyaml is more lenient than
PyYAML around a few constructs (`DIVERGENT`); a document holding one goes to PyYAML directly, so
every document reads exactly as it did with PyYAML alone.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from khatui.boundedread import read_regular
from khatui.errors import InputError
from khatui.spec.problems import Path

MAX_BYTES = 1 << 20
"""A cluster spec of 500 nodes is ~150 KiB; anything past 1 MiB is not a spec."""
MAX_NODES = 200_000
"""Bound on YAML nodes after alias expansion (defuses 'billion laughs' documents)."""


class _Refused(Exception):
    """A construct the loader refuses, at a 1-based line (None: the whole document)."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


MERGE_TAG = "tag:yaml.org,2002:merge"


class _RefusingConstructor(yaml.constructor.SafeConstructor):
    """Safe constructor that refuses duplicate mapping keys (merge keys `<<` are no duplicates)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == MERGE_TAG:
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise _Refused(key_node.start_mark.line + 1, "a mapping key must be a plain value") from None
            if key in seen:
                raise _Refused(key_node.start_mark.line + 1, f"duplicate key {key!r} (first given on line {seen[key]})")
            seen[key] = key_node.start_mark.line + 1
        # Resolves the `<<` keys in place (merged pairs first, so the keys written here win).
        return super().construct_mapping(node, deep=deep)


class _Loader(_RefusingConstructor, yaml.SafeLoader):
    """PyYAML's pure-Python safe loader with the refusing constructor: the reference for messages."""


class _FastLoader(_RefusingConstructor, yaml.CSafeLoader):
    """libyaml's parser with the same constructor and resolver."""


class LoadedYAML:
    """A parsed document plus the line (1-based) of every path in it."""

    def __init__(self, data: Any, lines: dict[Path, int], source: str) -> None:
        self.data = data
        self.lines = lines
        self.source = source

    def line_of(self, path: Path) -> int | None:
        """Line of the deepest recorded prefix of `path` (a missing field points at its parent)."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return None


def decode(raw: bytes, source: str) -> str:
    """Bytes of a spec file -> text, or an `InputError` saying why it is not usable text."""
    if not raw.strip():
        raise InputError(f"{source}: the file is empty")
    if len(raw) > MAX_BYTES:
        raise InputError(f"{source}: the file is larger than {MAX_BYTES // 1024} KiB; a spec is never that large")
    if b"\0" in raw:
        raise InputError(f"{source}: this is a binary file, not YAML text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            f"{source}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        ) from None


DIVERGENT = re.compile(r"[\t!?\ufeff]|[|>][-+0-9]*#")
"""Where libyaml reads some documents PyYAML refuses, or reads them otherwise (a tab between tokens, a
lone `!` tag, `a?b` in a flow collection, a BOM within the text, a `|#` block header; found by
tests/spec/test_yaml_parsers.py): a document holding any of them skips the fast path."""


def load_text(text: str, source: str) -> LoadedYAML:
    """Parse one YAML document into plain Python data with a line map."""
    if DIVERGENT.search(text):
        data, lines = _load_reference(text, source)
    else:
        try:
            data, lines = _parse(_FastLoader(text))
        except Exception:  # noqa: BLE001 - any failure of the fast path is explained by the reference parser
            data, lines = _load_reference(text, source)
    if not isinstance(data, dict):
        found = "nothing" if data is None else f"a {type(data).__name__}"
        raise InputError(f"{source}: the top level must be a mapping (apiVersion, kind, metadata, spec); found {found}")
    return LoadedYAML(data, lines, source)


def _parse(loader: _FastLoader | _Loader) -> tuple[Any, dict[Path, int]]:
    """(data, line map) of the single document `loader` reads; `_Refused` or PyYAML's errors otherwise."""
    try:
        node = loader.get_single_node()
        if node is None:
            raise _Refused(None, "the document is empty")
        lines: dict[Path, int] = {}
        _record_lines(node, (), lines, [0])
        return loader.construct_document(node), lines
    finally:
        loader.dispose()


def _load_reference(text: str, source: str) -> tuple[Any, dict[Path, int]]:
    """`_parse` with PyYAML's own parser, every failure turned into one `InputError`."""
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        raise InputError(f"{source}:{line}: not YAML text: character #x{exc.character:04x} is not allowed") from None
    try:
        return _parse(loader)
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        raise InputError(f"{source}:{line}: not YAML text: character #x{exc.character:04x} is not allowed") from None
    except yaml.MarkedYAMLError as exc:
        raise InputError(_yaml_error(exc, source)) from None
    except yaml.YAMLError as exc:
        raise InputError(f"{source}: not valid YAML: {exc}") from None
    except _Refused as exc:
        where = f"{source}:{exc.line}" if exc.line is not None else source
        raise InputError(f"{where}: {exc.message}") from None
    except RecursionError:
        raise InputError(f"{source}: the document nests too deeply") from None


def load_file(path: str) -> LoadedYAML:
    """Read and parse a spec file; any failure is an `InputError` naming the file."""
    return load_text(read_spec_text(path), path)


def read_spec_text(path: str) -> str:
    """The text of the spec file `path`: a regular file of at most `MAX_BYTES` (never a FIFO or a
    device, which would hang or never end), UTF-8; any failure is an `InputError` naming the file."""
    return decode(read_regular(path, MAX_BYTES), path)


def _record_lines(node: yaml.Node, path: Path, lines: dict[Path, int], count: list[int]) -> None:
    count[0] += 1
    if count[0] > MAX_NODES:
        raise _Refused(None, f"the document expands to more than {MAX_NODES} values (too many aliases?)")
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        merged: list[yaml.Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                merged += value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            elif isinstance(key_node, yaml.ScalarNode):
                key_path = (*path, key_node.value)
                lines.setdefault(key_path, key_node.start_mark.line + 1)
                _record_lines(value_node, key_path, lines, count)
        # After the keys written here, which win; then each merged mapping in order, as PyYAML merges.
        for source in merged:
            if isinstance(source, yaml.MappingNode):
                count[0] -= 1
                _record_lines(source, path, lines, count)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record_lines(item, (*path, index), lines, count)


def _yaml_error(exc: yaml.MarkedYAMLError, source: str) -> str:
    mark = exc.problem_mark or exc.context_mark
    line = f":{mark.line + 1}" if mark is not None else ""
    problem = ", ".join(part for part in (exc.context, exc.problem) if part) or "not valid YAML"
    hint = ""
    if "\\t" in problem:
        hint = " (YAML does not allow tabs for indentation; use spaces)"
    return f"{source}{line}: not valid YAML: {problem}{hint}"


_DUMPER: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
"""libyaml's emitter when PyYAML has it: the same text (tests/spec/test_yaml_merge.py checks), 3x faster."""


def dump(data: Any) -> str:
    """Plain YAML for `data`, keys in the order given, block style."""
    text: str = yaml.dump(
        data, Dumper=_DUMPER, sort_keys=False, default_flow_style=False, allow_unicode=True, width=100
    )
    return text
