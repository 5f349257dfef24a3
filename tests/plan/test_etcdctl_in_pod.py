"""etcdctl of a static-pod member runs inside its etcd container (its host has none): run for real
with `sh` against a stand-in `crictl` that records its argv, the command reaches the container's
etcdctl with the etcdctl.env values as flags and every argument as exactly one word."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from khatui import nodepaths
from khatui.plan.context import PlanContext
from khatui.plan.phases.etcd import etcdctl
from khatui.render.kubelet import CRI_SOCKET
from tests.plan.test_fixtures import TOKEN, cluster_of, files_of

CRICTL = """#!/bin/sh
# stand-in crictl: `ps` names one running container, `exec` prints its argv one word a line
case "$3" in
  ps) [ -n "$NO_ETCD" ] || echo 0123abcd ;;
  exec) printf '%s\\n' "$@" ;;
esac
"""
ENV = "ETCDCTL_ENDPOINTS='https://127.0.0.1:2379'\nETCDCTL_CACERT=/pki/ca.crt\nETCDCTL_CERT=/pki/hc.crt\nETCDCTL_KEY=/pki/hc.key\n"


_STACKED = cluster_of({"example": "stacked-haproxy-ipvs-nfs"})  # etcd.runAs: static-pod
CTX = PlanContext.of(_STACKED, files_of(_STACKED), None, TOKEN)


def _run(tmp: Path, args: tuple[str, ...], **env: str) -> subprocess.CompletedProcess[str]:
    """The command run by `sh` (its output decoded as is: no newline translation, `\r` stays)."""
    (tmp / "crictl").write_text(CRICTL)
    (tmp / "crictl").chmod(0o755)
    (tmp / "etcdctl.env").write_text(ENV)
    script = etcdctl(CTX, *args).replace(shlex.quote(str(nodepaths.ETCDCTL_ENV)), shlex.quote(str(tmp / "etcdctl.env")))
    path = f"{tmp}:{os.environ['PATH']}"
    done = subprocess.run(["sh", "-c", script], capture_output=True, env={"PATH": path, **env}, check=False)
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(), done.stderr.decode())


def test_etcdctl_runs_in_the_running_etcd_container_with_the_env_files_values(tmp_path: Path) -> None:
    done = _run(tmp_path, ("endpoint", "health"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "--runtime-endpoint", CRI_SOCKET, "exec", "0123abcd", "etcdctl",
        "--endpoints=https://127.0.0.1:2379", "--cacert=/pki/ca.crt", "--cert=/pki/hc.crt", "--key=/pki/hc.key",
        "endpoint", "health",
    ]  # fmt: skip


def test_no_running_etcd_container_fails_saying_so(tmp_path: Path) -> None:
    done = _run(tmp_path, ("endpoint", "health"), NO_ETCD="1")
    assert (done.returncode, done.stderr.strip()) == (1, "no running etcd container")


@settings(max_examples=30, deadline=None)
@given(st.lists(st.text(st.characters(codec="utf-8", exclude_characters="\x00\n")), max_size=3))
def test_every_argument_reaches_etcdctl_as_one_word(args: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        done = _run(Path(tmp), tuple(args))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[9:-1] == args
