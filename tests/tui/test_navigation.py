"""Back and next keep every answer; a page with an error refuses Next and says why."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.widgets import Input

from khatui.tui.app import make_app
from khatui.tui.screens.node_form import NodeForm
from khatui.tui.widgets.field import BoundField
from khatui.tui.widgets.quorum import QuorumMath
from tests.tui.conftest import fixed_clock, fixed_monotonic
from tests.tui.drive import app_of, focus, focus_widget, step, type_into
from tests.tui.fakes import FakeServices


def field(app: object, path: tuple[str | int, ...]) -> BoundField:
    screen = app.screen  # type: ignore[attr-defined]
    found: BoundField = next(f for f in screen.query(BoundField) if f.path == path)
    return found


def problem_text(field: BoundField) -> str:
    from textual.widgets import Static

    return str(field.query_one(".field--problem", Static).content)


def text_of(app: object, path: tuple[str | int, ...]) -> str:
    return str(field(app, path).query_one(Input).value)


def test_back_and_next_keep_every_answer(spec_copy: Path) -> None:
    async def scenario() -> None:
        app = make_app(str(spec_copy), services=FakeServices(), start="loadbalancer", clock=fixed_monotonic)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await type_into(pilot, ("spec", "loadBalancer", "vip"), "10.20.0.150")
            assert await step(pilot) == "network"
            await type_into(pilot, ("spec", "network", "mtu"), "1450")
            assert await step(pilot) == "dns"
            await type_into(pilot, ("spec", "dns", "replicas"), "5")
            assert await step(pilot, "ctrl+b") == "network"
            assert text_of(app, ("spec", "network", "mtu")) == "1450"
            assert await step(pilot, "ctrl+b") == "loadbalancer"
            assert text_of(app, ("spec", "loadBalancer", "vip")) == "10.20.0.150"
            assert await step(pilot, "ctrl+b") == "etcd"
            assert await step(pilot, "ctrl+b") == "inventory"
            assert await step(pilot) == "etcd"
            assert await step(pilot) == "loadbalancer"
            assert await step(pilot) == "network"
            assert await step(pilot) == "dns"
            assert text_of(app, ("spec", "dns", "replicas")) == "5"
            state = app_of(pilot).ctx.state
            assert state.get(("spec", "loadBalancer", "vip")) == "10.20.0.150"
            assert state.get(("spec", "dns", "replicas")) == 5
            assert state.get(("spec", "network", "mtu")) == 1450
            assert state.report.ok

    asyncio.run(scenario())


def test_switching_lb_mode_and_back_restores_its_answers(spec_copy: Path) -> None:
    async def scenario() -> None:
        app = make_app(str(spec_copy), services=FakeServices(), start="loadbalancer")
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await focus(pilot, ("spec", "loadBalancer", "mode"))
            await pilot.press("right")  # kube-vip
            await pilot.pause()
            state = app_of(pilot).ctx.state
            assert state.get(("spec", "loadBalancer")) == {"mode": "kube-vip"}
            assert field(app, ("spec", "loadBalancer", "vip")).has_error  # kube-vip needs its own VIP
            await pilot.press("left")  # back to haproxy-keepalived
            await pilot.pause()
            assert state.get(("spec", "loadBalancer", "vip")) == "10.20.0.100"
            assert state.get(("spec", "loadBalancer", "virtualRouterId")) == 51
            assert state.report.ok

    asyncio.run(scenario())


def test_a_bad_address_shows_inline_and_the_node_is_not_saved(spec_copy: Path) -> None:
    async def scenario() -> None:
        app = make_app(str(spec_copy), services=FakeServices())
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await focus_widget(pilot, "#nodes")
            await pilot.press("a")
            await pilot.pause()
            await type_into(pilot, ("name",), "cp4")
            await type_into(pilot, ("address",), "10.20.0.300")
            form = app.screen
            assert isinstance(form, NodeForm)
            address = next(f for f in form.query(BoundField) if f.path == ("address",))
            assert address.has_error
            assert "not a valid" in problem_text(address)
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert app.screen is form  # refused: still editing
            await focus(pilot, ("roles",))
            await pilot.press("right", "right", "space")  # worker: the node is complete but for the address
            await type_into(pilot, ("address",), "10.20.0.12")  # cp2's address
            assert address.has_error and "duplicate address" in problem_text(address)
            await type_into(pilot, ("address",), "10.20.0.14")
            assert not address.has_error
            await pilot.press("escape")
            await pilot.pause()
            assert len(app_of(pilot).ctx.state.nodes) == 7

    asyncio.run(scenario())


def test_next_refuses_while_the_page_has_an_error_and_says_why(spec_copy: Path) -> None:
    async def scenario() -> None:
        app = make_app(str(spec_copy), services=FakeServices(), start="dns")
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await type_into(pilot, ("spec", "controlPlane", "serviceCIDR"), "10.244.0.0/16")
            overlap = field(app, ("spec", "controlPlane", "serviceCIDR"))
            assert overlap.has_error
            assert await step(pilot) == "dns"  # refused
            notes = [n.message for n in app._notifications]
            assert any("overlaps pod CIDR" in note for note in notes)
            assert app.focused is not None and field_of_focus(app) is overlap
            await type_into(pilot, ("spec", "controlPlane", "serviceCIDR"), "10.96.0.0/12")
            assert await step(pilot) == "persistence"

    asyncio.run(scenario())


def field_of_focus(app: object) -> BoundField | None:
    from tests.tui.drive import field_of

    return field_of(app.focused)  # type: ignore[attr-defined]


def test_empty_inventory_refuses_next(tmp_path: Path) -> None:
    async def scenario() -> None:
        app = make_app(services=FakeServices(), wall_clock=fixed_clock)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await pilot.press("n")
            await pilot.pause()
            assert await step(pilot) == "inventory"
            assert any("add at least one node" in n.message for n in app._notifications)

    asyncio.run(scenario())


def test_etcd_members_show_live_quorum_math(spec_copy: Path) -> None:
    async def scenario() -> None:
        app = make_app(str(spec_copy), services=FakeServices(), start="etcd")
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            quorum = app.screen.query_one("#quorum", QuorumMath)
            assert "3 members: quorum is 2, tolerates 1 failure" in str(quorum.content)
            await focus_widget(pilot, "#members")
            await pilot.press("space")  # cp1 leaves etcd
            await pilot.pause()
            assert "2 members: quorum is 2, tolerates 0 failures" in str(quorum.content)
            assert await step(pilot) == "etcd"  # 2 members (and stacked cp1 without etcd) is an error
            await pilot.press("space")
            await pilot.pause()
            assert "3 members" in str(quorum.content)
            assert await step(pilot) == "loadbalancer"

    asyncio.run(scenario())


def test_import_from_ssh_config_replaces_the_nodes(spec_copy: Path, tmp_path: Path) -> None:
    config = tmp_path / "ssh_config"
    config.write_text(
        "Host cp1\n  HostName 10.9.0.11\n  User ops\n"
        "Host cp2\n  HostName 10.9.0.12\n  User ops\n"
        "Host cp3\n  HostName 10.9.0.13\n  User ops\n"
        "Host w1\n  HostName 10.9.0.21\n  User ops\n"
    )

    async def scenario() -> None:
        app = make_app(str(spec_copy), services=FakeServices())
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await focus_widget(pilot, "#nodes")
            await pilot.press("i")
            await pilot.pause()
            await pilot.press("ctrl+u", *str(config))
            await focus_widget(pilot, "#control_plane")
            await pilot.press(*"cp*")
            await focus_widget(pilot, "#worker")
            await pilot.press(*"w1")
            await pilot.press("ctrl+s")
            await pilot.pause()
            await pilot.press("escape")  # the notices dialog
            await pilot.pause()
            nodes = app_of(pilot).ctx.state.nodes
            assert [(n["name"], n["address"], n["roles"]) for n in nodes] == [
                ("cp1", "10.9.0.11", ["control-plane", "etcd"]),
                ("cp2", "10.9.0.12", ["control-plane", "etcd"]),
                ("cp3", "10.9.0.13", ["control-plane", "etcd"]),
                ("w1", "10.9.0.21", ["worker"]),
            ]
            assert nodes[0]["ssh"] == {"user": "ops", "sudo": True}

    asyncio.run(scenario())
