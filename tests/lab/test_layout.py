"""The lab's layout and spec for every node count (pure: no root, no kernel objects)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from khatui.errors import InputError
from khatui.spec.validate import validate_data
from khatui_lab.labspec import lab_spec_data
from khatui_lab.layout import MAX_NODES, parse_subnet, plan_layout

SUBNET = ipaddress.IPv4Network("10.77.0.0/24")


@pytest.mark.parametrize("count", range(1, MAX_NODES + 1))
def test_every_node_count_gives_a_strictly_valid_spec(count: int, tmp_path: Path) -> None:
    layout = plan_layout("khatui", SUBNET, count)
    report = validate_data(lab_spec_data(layout, tmp_path / "id_ed25519"))
    assert report.problems == []
    assert len(layout.nodes) == count
    assert all(len(node.veth) <= 15 for node in layout.nodes) and len(layout.bridge) <= 15


def test_five_nodes_are_three_stacked_control_planes_and_two_lbs() -> None:
    layout = plan_layout("khatui", SUBNET, 5)
    assert [(n.name, str(n.address), n.roles) for n in layout.nodes] == [
        ("cp1", "10.77.0.11", ("control-plane", "etcd")),
        ("cp2", "10.77.0.12", ("control-plane", "etcd")),
        ("cp3", "10.77.0.13", ("control-plane", "etcd")),
        ("lb1", "10.77.0.14", ("lb",)),
        ("lb2", "10.77.0.15", ("lb",)),
    ]
    assert str(layout.vip) == "10.77.0.100" and str(layout.bridge_address) == "10.77.0.1"


def test_two_labs_get_different_names() -> None:
    one, two = plan_layout("khatui", SUBNET, 3), plan_layout("other", SUBNET, 3)
    assert one.bridge != two.bridge and one.nodes[0].netns != two.nodes[0].netns


@pytest.mark.parametrize(
    ("name", "subnet", "count", "message"),
    [
        ("Bad_Name", "10.77.0.0/24", 3, "not a usable lab name"),
        ("khatui", "10.77.0.0/24", 0, "1 to 20 nodes"),
        ("khatui", "10.77.0.1/24", 3, "has host bits set"),
        ("khatui", "10.77.0.0/28", 3, "between /8 and /25"),
        ("khatui", "fd00::/64", 3, "IPv4"),
        ("khatui", "8.8.8.0/24", 3, "private range"),
    ],
)
def test_unusable_inputs_are_refused_clearly(name: str, subnet: str, count: int, message: str) -> None:
    with pytest.raises(InputError, match=message):
        plan_layout(name, parse_subnet(subnet), count)


def test_not_root_or_not_linux_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from khatui.errors import KhatuiError
    from khatui_lab import preflight

    monkeypatch.setattr("os.geteuid", lambda: 1000)
    with pytest.raises(KhatuiError, match="the lab needs root .*: run it with sudo"):
        preflight.require_linux_root()
    monkeypatch.setattr("sys.platform", "darwin")
    with pytest.raises(KhatuiError, match="the lab needs Linux .*; this is darwin"):
        preflight.require_linux_root()


def test_the_lab_spec_declares_its_deviations_and_sets_what_they_need(tmp_path: Path) -> None:
    from khatui_lab.deviations import DEVIATIONS, describe
    from khatui_lab.labspec import lab_spec_yaml

    layout = plan_layout("khatui", SUBNET, 5)
    text = lab_spec_yaml(layout, tmp_path / "id_ed25519", tmp_path / "lab.yaml")
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert all(f"# - {line}" in header for line in describe()) and len(describe()) == len(DEVIATIONS)
    assert lab_spec_data(layout, tmp_path / "id_ed25519")["spec"]["controlPlane"] == {"imagePullPolicy": "Never"}
