"""Fixtures for engine tests: a journal; real sshd nodes on loopback and an executor on them; fake nodes
(tests/engine/fake_transport.py) and an executor on those."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from khatui.engine.executor import EngineOptions, Executor, RolloutResult, log_dir
from khatui.engine.ssh import HostKeys, Session, Target
from khatui.journal import Journal, RolloutRecord
from khatui.plan.model import Plan
from tests.engine.fake_transport import FakeNodes
from tests.engine.plans import NODES
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
FAST = EngineOptions(backoff=0.0)


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    opened = Journal(tmp_path / "journal.db")
    yield opened
    opened.close()


def rollout_of(journal: Journal, plan: Plan, rollout_id: str | None) -> RolloutRecord:
    """`rollout_id`'s record (to continue it), or a new rollout of `plan`."""
    record = (
        journal.rollout(rollout_id)
        if rollout_id
        else journal.new_rollout(plan.cluster, "spec.yaml", plan.spec_hash, "", log_dir(journal.path))
    )
    assert record is not None
    return record


@pytest.fixture
def make_executor(farm: SSHDFarm, journal: Journal, tmp_path: Path) -> Iterator[MakeExecutor]:
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
        recorder = Recorder()
        record = rollout_of(journal, plan, rollout_id)
        return Executor(plan, by_name.__getitem__, recorder, journal, record, options), recorder

    yield make
    for session in sessions:
        session.close()


# -- the fake transport tier: no sshd, no root ------------------------------------------------------
Start = Callable[..., tuple[Executor, Recorder]]
Background = Callable[[Executor], Future[RolloutResult]]


@pytest.fixture
def nodes() -> FakeNodes:
    return FakeNodes(NODES)


@pytest.fixture
def start(journal: Journal, nodes: FakeNodes) -> Start:
    """An executor for a plan on the fake nodes: a new rollout, or `rollout_id`'s again (a resume)."""

    def make(plan: Plan, rollout_id: str | None = None, hold_failures: bool = False) -> tuple[Executor, Recorder]:
        recorder = Recorder()
        record = rollout_of(journal, plan, rollout_id)
        return Executor(plan, nodes, recorder, journal, record, FAST, hold_failures=hold_failures), recorder

    return make


@pytest.fixture
def background() -> Iterator[Background]:
    """Run an executor on a thread of its own, so the test can act while it runs."""
    with ThreadPoolExecutor(1) as pool:
        yield lambda executor: pool.submit(executor.run)
