"""Property: no spec value changes the structure of a rendered file.

For every free-text and address field of every test spec and any value in it (validation bypassed),
rendering either refuses the value with a one-line `UnsafeValue` or gives the same files as a benign
value: the same paths but for the value, the same number of lines in every unit, env and config file
with the same keys, and YAML documents of the same shape (embedded config files keep their lines).
One example-based test runs `systemd-analyze verify` on a unit escaped from hostile values and reads
back, from systemd's own dump, that every argument arrived whole.
"""

from __future__ import annotations

import re
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from khatui import nodepaths
from khatui.quoting import shell, systemd
from khatui.quoting.lines import UnsafeValue
from khatui.render import FileKind, RenderedFile, render_cluster
from khatui.render.header import body_of
from tests.render import hostile
from tests.render.tools import require

LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _is_yaml(file: RenderedFile) -> bool:
    return file.path.endswith(".yaml") or file.path == str(nodepaths.KUBELET_KUBECONFIG)


def _keys(text: str) -> list[str]:
    """What each line of a unit or env file sets (`Key=`), or what it is (section, comment, continuation)."""
    keys = []
    for line in text.splitlines():
        if line[:1] in ("", "#", "[", " "):
            keys.append(line[:1])
        else:
            keys.append(line.partition("=")[0])
    return keys


def _same_shape(benign: Any, hostile_: Any, payload: str) -> None:
    if isinstance(benign, dict):
        assert isinstance(hostile_, dict)
        assert [k.replace(hostile.MARK, payload) for k in benign] == list(hostile_)
        for key, value in benign.items():
            _same_shape(value, hostile_[key.replace(hostile.MARK, payload)], payload)
    elif isinstance(benign, list):
        assert isinstance(hostile_, list) and len(benign) == len(hostile_)
        for b, h in zip(benign, hostile_, strict=True):
            _same_shape(b, h, payload)
    else:
        assert type(benign) is type(hostile_)
        if isinstance(benign, str) and "\n" in benign:  # an embedded file
            document = _embedded(benign)
            if document is None:  # a Corefile, a ceph.conf: line-oriented
                _same_lines(benign, hostile_)
            else:  # a kubeconfig, a JSON list: structured
                _same_shape(document, _embedded(hostile_), payload)


def _load(text: str) -> list[Any]:
    return list(yaml.load_all(text, Loader=LOADER))


def _embedded(text: str) -> Any:
    """An embedded YAML or JSON document, or None for another format."""
    try:
        document = yaml.load(text, Loader=LOADER)
    except yaml.YAMLError:
        return None
    return document if isinstance(document, dict | list) else None


def assert_same_structure(benign: list[RenderedFile], hostile_: list[RenderedFile], payload: str) -> None:
    """`hostile_` is `benign` with MARK replaced by `payload`, structurally."""
    where = [(f.node, f.path) for f in benign]
    assert [(n.replace(hostile.MARK, payload), p.replace(hostile.MARK, payload)) for n, p in where] == [
        (f.node, f.path) for f in hostile_
    ]
    for b, h in zip(benign, hostile_, strict=True):
        if b.kind in (FileKind.CERTIFICATE, FileKind.KEY) or body_of(b.text) == body_of(h.text):
            continue  # the value does not reach this file (its header names another spec digest)
        if _is_yaml(b):
            _same_shape(_load(b.text), _load(h.text), payload)
            continue
        if b.kind is FileKind.UNIT or b.path == str(nodepaths.ETCDCTL_ENV):
            assert len(b.text.splitlines()) == len(h.text.splitlines()), h.path
            assert _keys(b.text) == _keys(h.text), h.path
        else:  # haproxy.cfg, keepalived.conf, nginx.conf, sysctl.d: no quoting, a value must stay one word
            _same_lines(b.text, h.text)
        if b.kind is FileKind.UNIT:
            for before, after in zip(_exec_lines(b.text), _exec_lines(h.text), strict=True):
                assert [w.replace(hostile.MARK, payload) for w in systemd_argv(before)] == systemd_argv(after)


_DIGEST = re.compile(r"sha256:[0-9a-f]+")
"""The header's digests, which differ with the spec."""


def _same_lines(benign: str, hostile_: str) -> None:
    """As many lines, each with as many words; words without the value unchanged."""
    lines = _DIGEST.sub("sha256:digest", hostile_).splitlines()
    assert len(benign.splitlines()) == len(lines)
    for before, after in zip(_DIGEST.sub("sha256:digest", benign).splitlines(), lines, strict=True):
        assert len(before.split()) == len(after.split()), after
        for expected, word in zip(before.split(), after.split(), strict=True):
            assert hostile.MARK in expected or word == expected, after


def _exec_lines(unit: str) -> list[str]:
    joined = unit.replace("\\\n", " ")
    return [line.removeprefix("ExecStart=") for line in joined.splitlines() if line.startswith("ExecStart=")]


_ESCAPES = {"n": "\n", "t": "\t", "s": " ", "\\": "\\", '"': '"', "'": "'"}


def systemd_argv(line: str) -> list[str]:
    """The argv systemd runs for an ExecStart= value (systemd.syntax "QUOTING", systemd.service
    "COMMAND LINES"), for the escapes khatui writes; a specifier or a variable left in it fails.
    `test_systemd_reads_back_every_hostile_word` holds this reading against systemd's own."""
    words: list[str] = []
    i = 0
    while True:
        while i < len(line) and line[i] in " \t":
            i += 1
        if i == len(line):
            return words
        quote = line[i] if line[i] in "\"'" else ""
        i += bool(quote)
        word = ""
        while i < len(line) and (line[i] != quote if quote else line[i] not in " \t"):
            if line[i] == "\\":
                word, i = word + _ESCAPES[line[i + 1]], i + 2
            else:
                word, i = word + line[i], i + 1
        assert not quote or i < len(line), f"unterminated quote in {line!r}"
        i += bool(quote)
        words.append(_expand(word))


_UNIT_VARIABLES = ("$KUBELET_KUBECONFIG_ARGS", "$KUBELET_CONFIG_ARGS", "$KUBELET_KUBEADM_ARGS", "$KUBELET_EXTRA_ARGS")
"""The variables kubeadm's own kubelet drop-in expands on purpose (constant text, never a spec value)."""


def _expand(word: str) -> str:
    if word in _UNIT_VARIABLES:
        return word
    out, i = "", 0
    while i < len(word):
        pair = word[i : i + 2]
        if word[i] in "%$":
            assert pair in ("%%", "$$"), f"systemd would expand {pair!r} in {word!r}"
            out, i = out + word[i], i + 2
        else:
            out, i = out + word[i], i + 1
    return out


@cache
def _benign(spec: str, path: hostile.Path) -> list[RenderedFile]:
    return render_cluster(hostile.with_value(spec, path, hostile.MARK))


def check_field(spec: str, path: hostile.Path, payload: str) -> None:
    """Rendering with `payload` in the field refuses it in one line or keeps every file's structure."""
    try:
        files = render_cluster(hostile.with_value(spec, path, payload))
    except UnsafeValue as refused:
        assert "\n" not in str(refused)
        return
    assert_same_structure(_benign(spec, path), files, payload)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=hostile.CASES)
def test_a_value_never_changes_a_files_structure(case: tuple[str, hostile.Path, str]) -> None:
    check_field(*case)


@pytest.mark.parametrize(("spec", "path", "payload"), hostile.corpus_cases(), ids=hostile.case_id)
def test_known_attacks_change_no_files_structure(spec: str, path: hostile.Path, payload: str) -> None:
    check_field(spec, path, payload)


HOSTILE_WORDS = [
    "a b",
    'c"d',
    "50%",
    "$HOME",
    "${HOME}",
    "x\\y",
    ";",
    "'q'",
    "",
    "\\",
    "end\\",
    "a;b",
    "$(touch x)",
    "%n",
    "é ü",
    "`id`",
    "\\;",
    "#x",
    "--data-dir=/var/lib/etcd dir",
    "fd00::13%$(touch${IFS}x)",
]


def _dumped_argv(line: str) -> list[str]:
    """Words of systemd's own dump of a command line (double-quoted words with backslash escapes)."""
    words = re.findall(r'"(?:[^"\\]|\\.)*"|\S+', line)
    return [re.sub(r"\\(.)", r"\1", w[1:-1]) if w.startswith('"') else w for w in words]


def _systemd_reading(unit: Path) -> tuple[list[str], str]:
    """`systemd-analyze verify` passes `unit` silently; (ExecStart argv, Description) from its debug dump."""
    command = [require("systemd-analyze"), "verify", str(unit)]
    plain = subprocess.run(command, capture_output=True, text=True, check=False)
    assert plain.returncode == 0 and plain.stdout == plain.stderr == "", plain.stderr
    env = {"SYSTEMD_LOG_LEVEL": "debug", "PATH": "/usr/bin:/bin"}
    debug = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    dump = [line.strip() for line in (debug.stdout + debug.stderr).splitlines()]
    line = next(line for line in dump if line.startswith("Command Line: ")).removeprefix("Command Line: ")
    description = next(line for line in dump if line.startswith("Description: ")).removeprefix("Description: ")
    return _dumped_argv(line), description


def test_systemd_reads_back_every_hostile_word(tmp_path: Path) -> None:
    """systemd accepts the unit, and its dump shows each word whole: specifiers expanded once (`%%` ->
    `%`), `$` kept for exec time as systemd's `$$`, quotes and backslashes intact."""
    argv = ["/bin/echo", *HOSTILE_WORDS]
    description = "member a%b of $c \"d\" 'e'"
    unit = tmp_path / "hostile.service"
    exec_start = systemd.exec_line(argv, separator=" \\\n  ")
    unit.write_text(f"[Unit]\nDescription={systemd.value(description)}\n\n[Service]\nExecStart={exec_start}\n")
    assert _systemd_reading(unit) == ([word.replace("$", "$$") for word in argv], description)
    assert systemd_argv(exec_start.replace("\\\n", " ")) == argv


def test_a_hostile_etcd_unit_verifies_with_every_flag_whole(tmp_path: Path) -> None:
    """Item 2 of issue 11: a data dir with a newline once added an ExecStartPre= line; with spaces,
    `%` and `$` it was split and expanded. Now it is refused, or one word."""
    path = ("spec", "etcd", "data_dir")
    with pytest.raises(UnsafeValue):
        render_cluster(hostile.with_value("external-etcd-cloudlb-ceph", path, "\nExecStartPre=/bin/touch /tmp/x"))
    files = render_cluster(hostile.with_value("external-etcd-cloudlb-ceph", path, " $(touch x) 100% ${HOME}"))
    etcd = next(f for f in files if f.path == "/etc/systemd/system/etcd.service")
    unit = tmp_path / "etcd.service"
    unit.write_text(etcd.text)
    argv, _ = _systemd_reading(unit)
    assert "--data-dir=/var/lib/etcd $$(touch x) 100% $${HOME}" in argv
    assert len(argv) == len(systemd_argv(_exec_lines(etcd.text)[0]))


@pytest.mark.parametrize("value", ["a\nb", "a\rb", "nul\x00", "tab\t", "\x1b[31m", "line\u2028sep", "\ud800"], ids=repr)
def test_control_characters_are_refused_in_one_line(value: str) -> None:
    with pytest.raises(UnsafeValue) as refused:
        systemd.exec_word(value)
    assert "\n" not in str(refused.value) and "control character" in str(refused.value)
    with pytest.raises(UnsafeValue):
        systemd.value(value)
    with pytest.raises(UnsafeValue):
        shell.env_file({"K": value})


@pytest.mark.parametrize(
    ("call", "value"),
    [
        (systemd.value, "ends in a backslash\\"),
        (systemd.value, " padded "),
        (lambda v: systemd.exec_line([v]), "relative/program"),
        (lambda v: shell.env_file({v: "x"}), "NOT-A-NAME"),
    ],
    ids=["trailing-backslash", "blanks", "relative-program", "env-name"],
)
def test_values_systemd_or_sh_would_misread_are_refused(call: Any, value: str) -> None:
    with pytest.raises(UnsafeValue):
        call(value)


@given(st.dictionaries(st.from_regex(r"K_[A-Z0-9_]{0,8}", fullmatch=True), st.text(max_size=20), max_size=5))
def test_env_file_reads_back_in_sh(variables: dict[str, str]) -> None:
    """Sourced by `sh` with `set -a`, the env file sets exactly these values, one line each."""
    try:
        text = shell.env_file(variables)
    except UnsafeValue:
        return
    assert len(text.splitlines()) == len(variables)
    script = (
        "set -a; . /dev/stdin; for n in " + " ".join(variables) + '; do eval "v=\\${$n}"; printf \'%s\\0\' "$v"; done'
    )
    out = subprocess.run(["sh", "-c", script], input=text, capture_output=True, text=True, check=True).stdout
    assert out.split("\0")[:-1] == list(variables.values())
