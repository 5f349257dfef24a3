"""Screenshots of every screen at 80x24 and 160x50, compared with the approved SVGs.

Deterministic by construction: fixed clocks, fake core answers (fixed facts, fixed plan token,
fixed certificate summaries), no cursor blink, workers awaited before the picture is taken.
Update after an intended change with `pytest tests/tui --snapshot-update` and review the SVGs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from khatui.spec import API_VERSION, KIND
from khatui.tui.app import KhatuiApp, make_app
from khatui.tui.screens.dialogs import HostKeyDialog
from khatui.tui.state import WizardState
from tests.tui.conftest import fixed_clock, fixed_monotonic
from tests.tui.fakes import FakeServices, record, recorded, replay

SIZES = [(80, 24), (160, 50)]
SnapCompare = Callable[..., bool]
Before = Callable[[Pilot[int]], Awaitable[None]]


def wizard(spec: Path, start: str, services: FakeServices | None = None) -> KhatuiApp:
    return make_app(
        str(spec),
        services=services or FakeServices(records=[record(), record("20250614-090000-def456", "done")]),
        start=start,
        wall_clock=fixed_clock,
        clock=fixed_monotonic,
    )


async def settle(pilot: Pilot[int]) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize(
    "step", ["start", "inventory", "etcd", "loadbalancer", "network", "dns", "persistence", "preflight", "review"]
)
def test_wizard_step(snap_compare: SnapCompare, spec_copy: Path, step: str, size: tuple[int, int]) -> None:
    no_ipvs = () if step == "review" else ("worker2",)
    services = FakeServices(records=[record(), record("20250614-090000-def456", "done")], no_ipvs=no_ipvs)
    app = wizard(spec_copy, "preflight" if step == "review" else step, services)
    if step == "start":
        app = make_app(services=services, wall_clock=fixed_clock, clock=fixed_monotonic)
    before = from_preflight if step == "review" else settle
    assert snap_compare(app, terminal_size=size, run_before=before)


async def from_preflight(pilot: Pilot[int]) -> None:
    """Review after a preflight that passed (facts known, so the rollout could start)."""
    await settle(pilot)
    await pilot.press("ctrl+n")
    await settle(pilot)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_inline_errors(snap_compare: SnapCompare, spec_copy: Path, size: tuple[int, int]) -> None:
    async def break_it(pilot: Pilot[int]) -> None:
        await pilot.press("tab", "end", "ctrl+u", *"10.30.0.100")
        await pilot.pause()

    app = wizard(spec_copy, "loadbalancer")
    assert snap_compare(app, terminal_size=size, run_before=break_it)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_node_form(snap_compare: SnapCompare, spec_copy: Path, size: tuple[int, int]) -> None:
    async def edit(pilot: Pilot[int]) -> None:
        await pilot.press("e")
        await pilot.pause()

    assert snap_compare(wizard(spec_copy, "inventory"), terminal_size=size, run_before=edit)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_host_key_dialog(snap_compare: SnapCompare, spec_copy: Path, size: tuple[int, int]) -> None:
    async def ask(pilot: Pilot[int]) -> None:
        await pilot.app.push_screen(
            HostKeyDialog("10.20.0.11", "ssh-ed25519", "SHA256:q3Vb1ZtL0mzP8c4v+Yw2n6fXoH9gKj5rDs7aUeQiTlE")
        )
        await pilot.pause()

    assert snap_compare(wizard(spec_copy, "inventory"), terminal_size=size, run_before=ask)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_help(snap_compare: SnapCompare, spec_copy: Path, size: tuple[int, int]) -> None:
    assert snap_compare(wizard(spec_copy, "inventory"), terminal_size=size, press=["f1"])


def rollout_app(spec: Path, nodes: int | None = None, fail: str | None = None, hold: bool = False) -> KhatuiApp:
    services = FakeServices()
    state = WizardState.from_file(spec) if nodes is None else many_nodes(nodes)
    services.script = lambda plan, sink: replay(plan, sink, fail=fail, hold=hold)
    app = make_app(services=services, state=state, start="review", wall_clock=fixed_clock, clock=fixed_monotonic)
    return app


def many_nodes(count: int) -> WizardState:
    nodes = [{"name": f"cp{i}", "address": f"10.40.0.{10 + i}", "roles": ["control-plane", "etcd"]} for i in (1, 2, 3)]
    nodes += [
        {"name": f"w{i:03d}", "address": f"10.40.{1 + i // 200}.{i % 200 + 10}", "roles": ["worker"]}
        for i in range(count - 3)
    ]
    data = {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": "big"},
        "spec": {"nodes": nodes, "loadBalancer": {"mode": "local-proxy"}},
    }
    return WizardState(data)


def start_rollout(app: KhatuiApp) -> Before:
    async def run(pilot: Pilot[int]) -> None:
        await settle(pilot)
        services = app.ctx.services
        assert isinstance(services, FakeServices)
        state = app.ctx.state
        assert state.cluster is not None
        from khatui.plan.compose import build_plan

        plan = build_plan(state.cluster, [], "hash", None, "abcdef.0123456789abcdef", {}, [])
        app.show_rollout(recorded(state.cluster, plan, services))
        await settle(pilot)

    return run


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_rollout_panes_with_a_failure(snap_compare: SnapCompare, spec_copy: Path, size: tuple[int, int]) -> None:
    app = rollout_app(spec_copy, fail="cp2")
    assert snap_compare(app, terminal_size=size, run_before=start_rollout(app))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_rollout_failure_waiting_for_a_decision(
    snap_compare: SnapCompare, spec_copy: Path, size: tuple[int, int]
) -> None:
    """The held failure lists retry, skip (worker2 may be skipped) and give up; the key bar shows them too."""
    app = rollout_app(spec_copy, fail="worker2", hold=True)
    assert snap_compare(app, terminal_size=size, run_before=start_rollout(app))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_rollout_table_for_many_nodes(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    app = rollout_app(Path(), nodes=60)
    assert snap_compare(app, terminal_size=size, run_before=start_rollout(app))
