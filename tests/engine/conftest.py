"""Fixtures for engine tests: real sshd nodes on loopback, a journal, and an executor factory."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from khatui.engine.executor import EngineOptions, Executor, log_dir
from khatui.engine.ssh import HostKeys, Session, Target
from khatui.journal import Journal
from khatui.plan.model import Plan
from tests.engine.recorder import Recorder
from tests.engine.sshd import SSHDFarm


@pytest.fixture(scope="module")
def farm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SSHDFarm]:
    nodes = SSHDFarm(tmp_path_factory.mktemp("farm"), 3)
    yield nodes
    nodes.close()


def process_ended(pid: int, within: float = 5.0) -> bool:
    """Whether process `pid` on this machine (where the nodes run) ends, or is a zombie, within `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):  # gone before or while it was read
            return True
        if state == "Z":
            return True
        time.sleep(0.05)
    return False


MakeExecutor = Callable[..., tuple[Executor, Recorder]]
FAST_RETRIES = EngineOptions(backoff=0.1)


@pytest.fixture
def make_executor(farm: SSHDFarm, tmp_path: Path) -> Iterator[MakeExecutor]:
    journal = Journal(tmp_path / "journal.db")
    sessions: list[Session] = []

    def make(
        plan: Plan, options: EngineOptions = FAST_RETRIES, rollout_id: str | None = None, **target: object
    ) -> tuple[Executor, Recorder]:
        by_name = {}
        for node in farm.nodes:
            session = Session(
                Target(node.name, node.host, node.port, identity_file=str(farm.client_key), **target),  # type: ignore[arg-type]
                HostKeys((farm.known_hosts,), tmp_path / "pinned_hosts"),
            )
            sessions.append(session)
            by_name[node.name] = session
        record = (
            journal.rollout(rollout_id)
            if rollout_id
            else journal.new_rollout(plan.cluster, "spec.yaml", plan.spec_hash, "", log_dir(journal.path))
        )
        assert record is not None
        recorder = Recorder()
        return Executor(plan, by_name.__getitem__, recorder, journal, record, options), recorder

    yield make
    for session in sessions:
        session.close()
    journal.close()
