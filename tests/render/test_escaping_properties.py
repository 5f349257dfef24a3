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
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from khatui import layout
from khatui.quoting import shell, systemd
from khatui.quoting.lines import UnsafeValue
from khatui.render import FileKind, RenderedFile, render_cluster
from khatui.render.header import body_of
from tests.render import hostile
from tests.render.tools import require

KINDS = hostile.field_kinds()
LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _is_yaml(file: RenderedFile) -> bool:
    return file.path.endswith(".yaml") or file.path == str(layout.KUBELET_KUBECONFIG)


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
                assert len(benign.splitlines()) == len(hostile_.splitlines())
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
        assert len(b.text.splitlines()) == len(h.text.splitlines()), h.path
        if b.kind is FileKind.UNIT or b.path == str(layout.ETCDCTL_ENV):
            assert _keys(b.text) == _keys(h.text), h.path


@pytest.mark.parametrize("kind", sorted(KINDS))
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), payload=hostile.PAYLOADS)
def test_a_value_never_changes_a_files_structure(kind: str, data: st.DataObject, payload: str) -> None:
    spec, path = data.draw(st.sampled_from(KINDS[kind]), label="field")
    payload = hostile.fit(spec, path, payload)
    benign = render_cluster(hostile.with_value(spec, path, hostile.MARK))
    try:
        files = render_cluster(hostile.with_value(spec, path, payload))
    except UnsafeValue as refused:
        assert "\n" not in str(refused)
        return
    assert_same_structure(benign, files, payload)


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


def test_systemd_reads_back_every_hostile_word(tmp_path: Path) -> None:
    """`systemd-analyze verify` accepts the unit, and its debug dump shows each word whole: specifiers
    expanded once (`%%` -> `%`), `$` kept for exec time as systemd's `$$`, quotes and backslashes intact."""
    argv = ["/bin/echo", *HOSTILE_WORDS]
    description = "member a%b of $c \"d\" 'e'"
    unit = tmp_path / "hostile.service"
    exec_start = systemd.exec_line(argv, separator=" \\\n  ")
    unit.write_text(f"[Unit]\nDescription={systemd.value(description)}\n\n[Service]\nExecStart={exec_start}\n")
    command = [require("systemd-analyze"), "verify", str(unit)]
    plain = subprocess.run(command, capture_output=True, text=True, check=False)
    assert plain.returncode == 0 and plain.stdout == plain.stderr == "", plain.stderr
    debug = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
        env={"SYSTEMD_LOG_LEVEL": "debug", "PATH": "/usr/bin:/bin"},
    )
    dump = (debug.stdout + debug.stderr).splitlines()
    line = next(line for line in dump if "Command Line: " in line).split("Command Line: ", 1)[1]
    assert _dumped_argv(line) == [word.replace("$", "$$") for word in argv]
    assert any(line.strip() == f"Description: {description}" for line in dump)


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
