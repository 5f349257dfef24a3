"""The TUI on the real engine: host key questions from a live SSH handshake, and the rollout view
fed by the executor running a hand-built plan on real sshd nodes (tests/engine/sshd.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Group

from khatui.engine.executor import EngineOptions, log_dir
from khatui.engine.hostkeys import fingerprint
from khatui.engine.ssh import HostKeys, Session, Target
from khatui.journal import RolloutRecord, open_journal
from khatui.plan.model import Phase, Plan, Run, Step
from khatui.quoting.shell import Script
from khatui.rollout import background
from khatui.rollout.desired import Desired
from khatui.rollout.nodes import Observed
from khatui.rollout.rollout import Rollout, RolloutOptions
from khatui.spec import API_VERSION, KIND
from khatui.tui.app import make_app
from khatui.tui.screens.dialogs import HostKeyDialog, QuitDialog
from khatui.tui.screens.rollout import RolloutScreen
from khatui.tui.services import EngineServices
from khatui.tui.state import WizardState
from khatui.tui.widgets.rollout_parts import FailurePanel, NodePane, PhaseBar
from khatui.views.outcome import closing_line
from tests.engine.sshd import SSHDFarm
from tests.tui.drive import app_of, focus_widget


@pytest.fixture(scope="module")
def farm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SSHDFarm]:
    nodes = SSHDFarm(tmp_path_factory.mktemp("tui-farm"), 3, subnet=9)
    yield nodes
    nodes.close()


def farm_spec(farm: SSHDFarm) -> WizardState:
    nodes = [
        {
            "name": node.name,
            "address": node.host,
            "roles": ["control-plane", "etcd"],
            "ssh": {"port": node.port, "identityFile": str(farm.client_key)},
        }
        for node in farm.nodes
    ]
    data = {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": "farm"},
        "spec": {"nodes": nodes, "loadBalancer": {"mode": "local-proxy"}},
    }
    return WizardState(data)


def host_fingerprint(farm: SSHDFarm, index: int) -> str:
    import paramiko

    key = paramiko.Ed25519Key.from_private_key_file(str(farm.nodes[index].host_key))
    return fingerprint(key)


async def wait_for_question(app: object) -> None:
    """Block (in a thread, not the loop) until the host key gate shows its dialog."""
    gate = app_of_any(app).gate
    asked = await asyncio.get_running_loop().run_in_executor(None, gate.asking.wait, 30)
    assert asked, "no host key question within 30 s"


def app_of_any(app: object):  # type: ignore[no-untyped-def]
    from khatui.tui.app import KhatuiApp

    assert isinstance(app, KhatuiApp)
    return app


@pytest.mark.parametrize("accept", [True, False])
def test_unknown_host_key_asks_and_the_answer_decides(farm: SSHDFarm, accept: bool) -> None:
    async def scenario() -> None:
        app = make_app(services=EngineServices(), state=farm_spec(farm), start="inventory")
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await focus_widget(pilot, "#nodes")
            await pilot.press("p")  # probe cp n0
            await wait_for_question(app)
            await pilot.pause()
            dialog = app.screen
            assert isinstance(dialog, HostKeyDialog)
            assert dialog.fingerprint == host_fingerprint(farm, 0)
            assert farm.nodes[0].host in dialog.host
            await pilot.press("y" if accept else "n")
            await app.workers.wait_for_complete()
            await pilot.pause()
            probe = app_of(pilot).ctx.probes["n0"]
            if accept:
                assert probe.ok and probe.sudo and probe.host_key.endswith(host_fingerprint(farm, 0))
                # pinned: probing again asks nothing
                await pilot.press("p")
                await app.workers.wait_for_complete()
                await pilot.pause()
                assert len(app.gate.asked) == 1 and app_of(pilot).ctx.probes["n0"].ok
            else:
                assert not probe.ok and "refused" in probe.detail

    asyncio.run(scenario())


async def held(pilot: object, screen: RolloutScreen, node: str) -> None:
    """Wait until the engine holds `node`'s failure for a decision and the view shows it."""
    for _ in range(300):
        await pilot.pause(0.05)  # type: ignore[attr-defined]
        if any(f.node == node for f in screen.board.held):
            return
    raise AssertionError(f"no held failure of {node}: {screen.board.failures}")


async def show(app: object, pilot: object, job: Rollout) -> RolloutScreen:
    """Open the rollout view on `job` (its engine starts at once) once the app has settled."""
    await pilot.pause()  # type: ignore[attr-defined]
    app_of_any(app).show_rollout(job)
    await pilot.pause()  # type: ignore[attr-defined]
    screen = app_of_any(app).screen
    assert isinstance(screen, RolloutScreen)
    return screen


def slow_plan(farm: SSHDFarm, seconds: int) -> Plan:
    """Per node: a step that sleeps, then one that prints `after`."""
    slow = Phase(
        "slow",
        "Slow",
        tuple(
            step
            for n in farm.nodes
            for step in (
                Step("slow", n.name, "wait", "wait a while", (Run(Script(f"sleep {seconds}")),)),
                Step("slow", n.name, "after", "after the wait", (Run(Script("echo after")),)),
            )
        ),
    )
    return Plan("farm", "hash", (slow,))


def plan_for(farm: SSHDFarm, fail: str | None = None, fail_once: Path | None = None) -> Plan:
    """Three steps a node in two phases; `fail` fails its first step (exit 7), once if `fail_once`
    (a flag file the first try leaves behind)."""

    def broken(command: str) -> str:
        if fail_once is None:
            return f"{command}; exit 7"
        return f"{command}; test -e {fail_once} || {{ touch {fail_once}; echo first try fails; exit 7; }}"

    def steps(phase: str, commands: dict[str, tuple[str, str]]) -> tuple[Step, ...]:
        return tuple(
            Step(phase, n.name, name, title, (Run(Script(command if n.name != fail else broken(command))),))
            for n in farm.nodes
            for name, (title, command) in commands.items()
        )

    first = Phase(
        "prepare",
        "Prepare nodes",
        steps(
            "prepare",
            {
                "hello": ("say hello", "echo hello"),
                "count": ("count to three", "for i in 1 2 3; do echo line $i; done"),
            },
        ),
    )
    second = Phase("finish", "Finish", steps("finish", {"done": ("finish", "echo finished")}), requires=("prepare",))
    return Plan(
        "farm", "hash", (first, second), essential={"n0": "the first control plane: every other node joins through it"}
    )


def job_for(farm: SSHDFarm, plan: Plan, tmp_path: Path, options: EngineOptions | None = None) -> Rollout:
    """A recorded rollout of the hand-built `plan`, its sessions open on the farm's nodes."""
    with open_journal() as journal:
        record = journal.new_rollout("farm", str(tmp_path / "spec.yaml"), "hash", "", log_dir(journal.path))
    sessions = {
        n.name: Session(
            Target(n.name, n.host, n.port, identity_file=str(farm.client_key)),
            HostKeys((farm.known_hosts,), tmp_path / "pinned"),
        )
        for n in farm.nodes
    }
    cluster = farm_spec(farm).cluster
    assert cluster is not None
    rollout = Rollout(Desired(cluster, "", "", "hash", str(tmp_path), [], {}), RolloutOptions(engine=options))
    rollout.plan, rollout.record, rollout.observed = plan, record, Observed(sessions, {}, {})
    return rollout


def test_rollout_view_follows_the_real_engine(farm: SSHDFarm, tmp_path: Path) -> None:
    async def scenario() -> None:
        app = make_app(services=EngineServices(), state=farm_spec(farm), start="review")
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await show(app, pilot, job_for(farm, plan_for(farm), tmp_path, EngineOptions(backoff=0.1)))
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert screen.result is not None and screen.result.ok, screen.result
            board = screen.board
            assert {n.state for n in board.nodes.values()} == {"done"}
            assert all(n.done == n.total == 3 for n in board.nodes.values())
            assert board.nodes["n1"].lines == ["hello", "line 1", "line 2", "line 3", "finished"]
            panes = {pane.node: pane.text() for pane in screen.query(NodePane)}
            assert "done" in panes["n0"] and "3/3" in panes["n0"] and "finished" in panes["n0"]
            log = screen.query_one("#log")
            assert list(log.lines)[-1] == "finished"  # type: ignore[attr-defined]
            assert not screen.query_one(FailurePanel).has_class("-shown")
            assert app.screen is screen and not screen.running

    asyncio.run(scenario())


def test_rollout_view_names_the_failure(farm: SSHDFarm, tmp_path: Path) -> None:
    async def scenario() -> None:
        app = make_app(services=EngineServices(), state=farm_spec(farm), start="review")
        async with app.run_test(size=(100, 30)) as pilot:
            job = job_for(farm, plan_for(farm, fail="n2"), tmp_path)
            screen = await show(app, pilot, job)
            await held(pilot, screen, "n2")
            panel = str(screen.query_one(FailurePanel).content)
            assert "waiting for you:  r  retry the step   x  skip the node   g  give up on the node" in panel
            await pilot.press("g")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert screen.result is not None and not screen.result.ok
            assert screen.board.nodes["n2"].state == "failed"
            panel = str(screen.query_one(FailurePanel).content)
            assert "n2" in panel and "prepare/n2/hello" in panel and "exit code 7" in panel
            assert "; exit 7" in panel and screen.record.log_path in panel
            assert f"khatui resume {screen.record.id}" in panel and "waiting for you" not in panel
            # the failed node's first step stopped it; the others finished their own phase
            assert screen.board.nodes["n0"].done == 3  # finish was blocked (skipped) for everyone
            assert [p.state for p in screen.board.phases] == ["failed", "failed"]
            # the TUI's word for the outcome is the CLI's and the journal's (khatui.events.Outcome)
            bar = screen.query_one(PhaseBar).render()
            assert isinstance(bar, Group) and any(f"✗ {screen.board.outcome}" in str(part) for part in bar.renderables)
            assert str(screen.board.outcome) == "failed"
            assert closing_line(screen.board).startswith(f"rollout {screen.record.id} failed after ")

    asyncio.run(scenario())


def test_pause_resume_and_quit_with_abort(farm: SSHDFarm, tmp_path: Path) -> None:
    plan = slow_plan(farm, 2)

    async def scenario() -> int | None:
        app = make_app(services=EngineServices(), state=farm_spec(farm), start="review")
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await show(app, pilot, job_for(farm, plan, tmp_path))
            ready = await asyncio.get_running_loop().run_in_executor(None, screen.rollout.ready.wait, 30)
            assert ready and screen.running
            executor = screen.rollout._executor
            assert executor is not None
            await pilot.press("p")
            assert screen.board.paused and not executor._running.is_set()
            await pilot.press("p")
            assert not screen.board.paused and executor._running.is_set()
            await pilot.press("ctrl+q")
            await pilot.pause()
            assert isinstance(app.screen, QuitDialog)
            await pilot.press("a")  # abort, then quit when the running commands are done
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert screen.result is not None and screen.result.aborted and not screen.result.ok
            reasons = {f.reason for f in screen.board.failures}
            assert reasons == {"aborted by the operator"}
            assert all(node.lines == [] for node in screen.board.nodes.values())  # "after" never ran
        return app.return_code

    assert asyncio.run(scenario()) == 1


def test_retry_runs_the_failed_step_again_and_the_rollout_completes(farm: SSHDFarm, tmp_path: Path) -> None:
    async def scenario() -> None:
        app = make_app(services=EngineServices(), state=farm_spec(farm), start="review")
        async with app.run_test(size=(100, 30)) as pilot:
            job = job_for(farm, plan_for(farm, fail="n1", fail_once=tmp_path / "tried"), tmp_path)
            screen = await show(app, pilot, job)
            await held(pilot, screen, "n1")
            assert screen.board.nodes["n1"].state == "failed" and screen.running
            await pilot.press("r")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert screen.result is not None and screen.result.ok, screen.result
            assert screen.board.nodes["n1"].state == "done" and screen.board.nodes["n1"].done == 3
            assert not screen.board.failures and not screen.query_one(FailurePanel).has_class("-shown")
            assert "first try fails" in screen.board.nodes["n1"].lines
            with open_journal() as journal:
                attempts = [(step, attempt, result) for step, attempt, _, result in journal.runs(screen.record.id)]
                assert ("prepare/n1/hello", 1, "failed") in attempts and ("prepare/n1/hello", 2, "done") in attempts
                assert journal.rollout(screen.record.id).state == "done"  # type: ignore[union-attr]

    asyncio.run(scenario())


def test_skip_leaves_a_node_out_where_the_plan_allows_it(farm: SSHDFarm, tmp_path: Path) -> None:
    async def scenario() -> None:
        app = make_app(services=EngineServices(), state=farm_spec(farm), start="review")
        async with app.run_test(size=(100, 30)) as pilot:
            job = job_for(farm, plan_for(farm, fail="n2"), tmp_path)
            screen = await show(app, pilot, job)
            await held(pilot, screen, "n2")
            await pilot.press("x")
            await app.workers.wait_for_complete()
            await pilot.pause()
            result = screen.result
            assert result is not None and not result.ok and result.skipped == ["n2"] and not result.failures
            board = screen.board
            assert board.nodes["n2"].state == "skipped" and board.nodes["n2"].done == 3
            assert board.nodes["n0"].lines[-1] == "finished"  # the next phase ran for the others
            assert [p.state for p in board.phases] == ["done", "done"]
            with open_journal() as journal:
                steps = journal.steps(screen.record.id)
                assert steps["finish/n2/done"].state == "skipped" and steps["finish/n1/done"].state == "done"
                rollout = journal.rollout(screen.record.id)
            assert rollout is not None and rollout.state == "incomplete"
            assert f"khatui resume {screen.record.id}" in (rollout.failure or "")

    asyncio.run(scenario())


def test_an_essential_node_cannot_be_skipped(farm: SSHDFarm, tmp_path: Path) -> None:
    async def scenario() -> None:
        app = make_app(services=EngineServices(), state=farm_spec(farm), start="review")
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await show(app, pilot, job_for(farm, plan_for(farm, fail="n0"), tmp_path))
            await held(pilot, screen, "n0")
            panel = str(screen.query_one(FailurePanel).content)
            assert "skip the node" not in panel and "n0 cannot be skipped: the first control plane" in panel
            await pilot.press("x")
            await pilot.pause()
            assert [f.node for f in screen.board.held] == ["n0"] and screen.running
            await pilot.press("g")
            await app.workers.wait_for_complete()
            assert screen.result is not None and [f.node for f in screen.result.failures] == ["n0"]

    asyncio.run(scenario())


def test_quit_can_hand_the_rollout_to_a_background_process(
    farm: SSHDFarm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real engine; the hand-over is recorded instead of starting `khatui resume`."""
    detached: list[tuple[str, list[str]]] = []

    def recorded(record: RolloutRecord, extra_args: list[str]) -> int:
        detached.append((record.id, extra_args))
        return 4242

    monkeypatch.setattr(background, "detach", recorded)
    job = job_for(farm, slow_plan(farm, 1), tmp_path)
    assert job.record is not None

    async def scenario() -> int | None:
        app = make_app(services=EngineServices(), state=farm_spec(farm), start="review")
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await show(app, pilot, job)
            ready = await asyncio.get_running_loop().run_in_executor(None, screen.rollout.ready.wait, 30)
            assert ready
            await pilot.press("ctrl+q")
            await pilot.pause()
            assert isinstance(app.screen, QuitDialog)
            await pilot.press("d")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert all(node.lines == [] for node in screen.board.nodes.values())  # "after" was left to resume
        return app.return_code

    assert asyncio.run(scenario()) == 0
    assert detached == [(job.record.id, [])]
    with open_journal() as journal:
        owner = journal.rollout(job.record.id)
    assert owner is not None and owner.pid == 4242  # the background process owns it now
