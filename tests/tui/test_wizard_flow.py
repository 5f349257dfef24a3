"""The whole wizard driven with the keyboard alone produces the example spec, answer for answer."""

from __future__ import annotations

import asyncio
from pathlib import Path

from khatui.spec.validate import validate_file
from khatui.tui.app import make_app
from tests.tui.conftest import EXAMPLE, fixed_clock, fixed_monotonic
from tests.tui.drive import app_of, focus, focus_widget, step, type_into
from tests.tui.fakes import FakeServices

NODES = [
    ("cp1", "10.20.0.11", ("control-plane", "etcd")),
    ("cp2", "10.20.0.12", ("control-plane", "etcd")),
    ("cp3", "10.20.0.13", ("control-plane", "etcd")),
    ("lb1", "10.20.0.21", ("lb",)),
    ("lb2", "10.20.0.22", ("lb",)),
    ("worker1", "10.20.0.31", ("worker",)),
    ("worker2", "10.20.0.32", ("worker",)),
]
ROLE_POSITION = {"control-plane": 0, "etcd": 1, "worker": 2, "lb": 3}


async def add_node(pilot, name: str, address: str, roles: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("a")
    await pilot.pause()
    await type_into(pilot, ("name",), name)
    await type_into(pilot, ("address",), address)
    await focus(pilot, ("roles",))
    position = 0
    for role in roles:
        target = ROLE_POSITION[role]
        await pilot.press(*["right"] * (target - position), "space")
        position = target
    await pilot.press("ctrl+s")
    await pilot.pause()


def test_whole_wizard_by_keyboard_writes_the_example(tmp_path: Path) -> None:
    target = tmp_path / "wizard.yaml"
    asyncio.run(drive_whole_wizard(target))
    written = validate_file(str(target))
    expected = validate_file(str(EXAMPLE))
    assert written.ok and expected.cluster is not None
    assert written.cluster == expected.cluster


async def drive_whole_wizard(target: Path) -> None:
    services = FakeServices()
    app = make_app(services=services, wall_clock=fixed_clock, clock=fixed_monotonic)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.screen.name == "start"
        await pilot.press("n")
        await pilot.pause()
        assert app.screen.name == "inventory"
        await type_into(pilot, ("metadata", "name"), "prod-stacked")
        await focus_widget(pilot, "#nodes")
        for name, address, roles in NODES:
            await add_node(pilot, name, address, roles)
        assert [n["name"] for n in app_of(pilot).ctx.state.nodes] == [n[0] for n in NODES]

        assert await step(pilot) == "etcd"
        await focus(pilot, ("spec", "etcd", "runAs"))
        await pilot.press("left")  # systemd -> static-pod
        await focus(pilot, ("spec", "pki", "keyAlgorithm"))
        await pilot.press("home")  # rsa-2048
        await type_into(pilot, ("spec", "pki", "extraSANs"), "api.prod.example.com")

        assert await step(pilot) == "loadbalancer"
        await focus(pilot, ("spec", "loadBalancer", "mode"))
        await pilot.press("home")  # haproxy-keepalived
        await pilot.pause()
        await type_into(pilot, ("spec", "loadBalancer", "vip"), "10.20.0.100")
        await type_into(pilot, ("spec", "loadBalancer", "vipPrefixLength"), "24")
        await focus(pilot, ("spec", "kubeProxy", "mode"))
        await pilot.press("right")  # ipvs
        await pilot.pause()
        await focus(pilot, ("spec", "kubeProxy", "ipvsScheduler"))
        await pilot.press("right")  # rr

        assert await step(pilot) == "network"
        await focus(pilot, ("spec", "network", "encapsulation"))
        await pilot.press("right")  # (default) -> vxlan

        assert await step(pilot) == "dns"
        await type_into(pilot, ("spec", "dns", "replicas"), "3")

        assert await step(pilot) == "persistence"
        await pilot.press("a")
        await pilot.pause()
        await type_into(pilot, ("name",), "nfs")
        await focus(pilot, ("default",))
        await pilot.press("right")  # yes
        await type_into(pilot, ("server",), "10.20.0.5")
        await type_into(pilot, ("path",), "/export/kubernetes")
        await type_into(pilot, ("mountOptions",), "nfsvers=4.1")
        await pilot.press("ctrl+s")
        await pilot.pause()

        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("ctrl+u", *str(target), "enter")
        await pilot.pause()

        assert await step(pilot) == "preflight"
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert await step(pilot) == "review"
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
