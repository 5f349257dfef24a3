"""What `plan` and the `apply` preview print: JSON alone on stdout, notes on stderr, secrets masked,
spec text shown as it is (never read as rich markup)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from khatui.cli.main import main
from khatui.preflight.results import CheckResult, Status
from khatui.rollout.nodes import Observed
from khatui.rollout.rollout import Rollout
from tests.test_error_boundary import EXAMPLE, khatui

TOKEN = re.compile(r"\b[a-z0-9]{6}\.([a-z0-9]{16})\b")
"""A kubeadm bootstrap token; group 1 is its secret half."""
HOSTILE_USERS = ["ops[/]x", "[link=http://x]y[/link]", "[@click=app.quit]q[/]"]


def hostile_spec(tmp_path: Path) -> Path:
    """The example with rich markup as the SSH users of its first nodes (refused: not user names)."""
    data = yaml.safe_load(EXAMPLE.read_text())
    for node, user in zip(data["spec"]["nodes"], HOSTILE_USERS, strict=False):
        node.setdefault("ssh", {})["user"] = user
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def example_spec(tmp_path: Path) -> Path:
    path = tmp_path / "cluster.yaml"
    path.write_text(EXAMPLE.read_text())
    return path


def commands(plan: dict[str, Any]) -> list[str]:
    return [a["command"] for p in plan["phases"] for s in p["steps"] for a in s["actions"] if "command" in a]


def test_plan_json_on_a_fresh_data_dir_is_only_json_with_the_token_masked(tmp_path: Path) -> None:
    done = khatui("plan", "--offline", "--output", "json", str(example_spec(tmp_path)))
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)  # nothing but the JSON on stdout
    assert "created the PKI store" in done.stderr
    assert not TOKEN.search(done.stdout)
    assert any("kubeadm token create ******** " in command for command in commands(plan))


def test_plan_text_masks_the_token(tmp_path: Path) -> None:
    done = khatui("plan", "--offline", str(example_spec(tmp_path)))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert not TOKEN.search(done.stdout)
    assert "kubeadm token create" in done.stdout and "********" in done.stdout


@pytest.mark.parametrize("command", ["plan", "validate"])
def test_markup_in_a_refused_value_is_printed_as_it_is(tmp_path: Path, command: str) -> None:
    done = khatui(command, *(["--offline"] if command == "plan" else []), str(hostile_spec(tmp_path)))
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    for user in HOSTILE_USERS:
        assert f"{user!r} is not a user name" in done.stderr
    assert "\x1b]8;" not in done.stdout + done.stderr  # no terminal hyperlink was made


def test_the_apply_preview_masks_the_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = example_spec(tmp_path)

    def observe(rollout: Rollout) -> Observed:
        rollout.observed = Observed({}, {}, {})
        return rollout.observed

    monkeypatch.setattr(Rollout, "observe", observe)
    seen: list[str] = []
    original = Rollout.make_plan

    def make_plan(rollout: Rollout) -> Any:
        plan = original(rollout)
        seen.extend(plan.secrets)
        return plan

    monkeypatch.setattr(Rollout, "make_plan", make_plan)
    assert main(["apply", str(spec)]) == 2  # the preview, then: confirmation needs a terminal
    out, err = capsys.readouterr()
    assert "needs confirmation" in err
    assert "kubeadm token create" in out and "********" in out
    token = TOKEN.fullmatch(seen[0])
    assert token is not None
    assert seen[0] not in out + err and token.group(1) not in out + err


def test_text_plan_lines_are_never_wrapped_and_follow_the_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A long line stays one line (to copy a command whole; and a 2,000-node plan prints as fast as
    its JSON), under the tree's guides; the text carries no ANSI codes when stdout is not a terminal."""
    monkeypatch.setenv("KHATUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "60")
    assert main(["plan", "--offline", str(example_spec(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert "\x1b[" not in out
    lines = out.splitlines()
    sans = [line for line in lines if "CN=kube-apiserver [" in line]
    assert sans and all(len(line) > 60 and line.rstrip().endswith(tuple("0123456789abcdef")) for line in sans)
    assert all(line.startswith(("│", "├", "└", " ")) for line in sans)
    assert lines[-1].endswith("nodes")  # the summary is last


def test_write_plan_styles_with_the_consoles_colours() -> None:
    import io

    from khatui.views.preview import write_plan

    out = io.StringIO()
    write_plan(out, [("+added", "green"), ("plain", "")], "truecolor")
    assert out.getvalue() == "\x1b[32m+added\x1b[0m\nplain\n"
    out = io.StringIO()
    write_plan(out, [("+added", "green")], None)
    assert out.getvalue() == "+added\n"


def test_each_node_shows_its_own_certificates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Per-node leaves (etcd peer and server) carry each node's own subject, not the last node's."""
    monkeypatch.setenv("KHATUI_DATA_DIR", str(tmp_path / "data"))
    assert main(["plan", "--offline", "--output", "json", str(example_spec(tmp_path))]) == 0
    plan = json.loads(capsys.readouterr().out)
    seen = 0
    for phase in plan["phases"]:
        for step in phase["steps"]:
            for action in step["actions"]:
                if action.get("path") == "/etc/kubernetes/pki/etcd/peer.crt":
                    assert f"CN={step['node']} " in action["summary"], (step["node"], action["summary"])
                    seen += 1
    assert seen == 3


def observed_with_a_failed_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nodes observed with one failing preflight check on cp1, waived when `--waive swap:cp1` is given."""

    def observe(rollout: Rollout) -> Observed:
        waived = "swap:cp1" in rollout.options.waivers
        rollout.observed = Observed({}, {}, {}, [CheckResult("cp1", "swap", Status.FAIL, "swap is on", waived)])
        return rollout.observed

    monkeypatch.setattr(Rollout, "observe", observe)


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ((), 1),
        (("--output", "json"), 1),
        (("--waive", "swap:cp1"), 0),
        (("--output", "json", "--waive", "swap:cp1"), 0),
    ],
)
def test_plan_exits_1_when_a_preflight_check_fails_so_ci_can_gate_on_it(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    extra: tuple[str, ...],
    code: int,
) -> None:
    observed_with_a_failed_check(monkeypatch)
    assert main(["plan", str(example_spec(tmp_path)), *extra]) == code
    out, err = capsys.readouterr()
    if "json" in extra:
        assert json.loads(out)["preflight"][0]["check"] == "swap"  # stdout stays JSON alone
    if code:
        assert "preflight: 1 check(s) fail (swap:cp1): apply would refuse" in err
        assert "--waive swap:cp1" in err
