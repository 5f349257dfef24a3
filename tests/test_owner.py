"""A rollout's owner is a pid and its process's start: a reused pid is someone else."""

from __future__ import annotations

import os
import socket
import time

from khatui import owner


def test_this_process_is_alive_by_its_identity_and_a_reused_pid_is_not() -> None:
    me = owner.identity()
    host, pid, token = me.split()
    assert (host, int(pid)) == (socket.gethostname(), os.getpid())
    assert owner.holder_alive(me) is True
    assert owner.holder_alive(f"{host} {pid} 1@{token.split('@')[1]}") is False  # same pid, another start
    assert owner.holder_alive(f"elsewhere {pid} {token}") is None  # another machine: cannot tell


def test_a_pid_last_seen_before_its_process_started_belongs_to_someone_else() -> None:
    started = owner.process_started(os.getpid())
    assert started is not None and started <= time.time()
    assert owner.alive(os.getpid(), time.time())
    assert not owner.alive(os.getpid(), started - 60)  # the owner was last seen before this process began
    assert not owner.alive(None, time.time())
