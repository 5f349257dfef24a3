"""The bootstrap-token step run in a real `sh` against a scripted kubeadm: a create cut off by a killed
engine may finish on the node while the resumed rollout runs the step again, so a token that is
already there (this rollout's own) counts as success, only a token that cannot be made fails, and
the step never deletes a token (a late delete from the cut-off run would race the resumed one)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from khatui.plan.model import Run
from tests.plan.test_fixtures import TOKEN, plan_of

KUBEADM = """#!/bin/sh
# Scripted kubeadm: `token create` fails as the real one does when the id exists; `list` prints what $LISTED holds.
echo "$@" >> "$CALLS"
case "$1 $2" in
  "token delete") exit 99 ;;
  "token create") [ "$CREATE" = 0 ] || echo "a token with id \\"abcdef\\" already exists" >&2; exit "$CREATE" ;;
  "token list") printf 'TOKEN TTL\\n%s 1h\\n' "$LISTED" ;;
esac
"""


def token_command() -> str:
    step = plan_of({"example": "stacked-haproxy-ipvs-nfs"}).step("control-plane-init/cp1/token")
    (action,) = step.actions
    assert isinstance(action, Run)
    return action.command


@pytest.mark.parametrize(
    ("create", "listed", "ok"),
    [
        (0, "", True),  # the usual case
        (1, TOKEN, True),  # the cut-off create made it already: the token is ours
        (1, "zzzzzz.0123456789abcdef", False),  # another token: ours could not be made
        (1, "", False),  # the API refused the create
    ],
)
def test_the_token_step_accepts_its_own_token_already_there(tmp_path: Path, create: int, listed: str, ok: bool) -> None:
    kubeadm = tmp_path / "kubeadm"
    kubeadm.write_text(KUBEADM)
    kubeadm.chmod(0o755)
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "CALLS": str(tmp_path / "calls")}
    env |= {"CREATE": str(create), "LISTED": listed}
    done = subprocess.run(["sh", "-c", token_command()], env=env, capture_output=True, text=True, check=False)
    assert (done.returncode == 0) is ok, done.stderr
    calls = (tmp_path / "calls").read_text().splitlines()
    assert calls[0].startswith(f"token create {TOKEN} --ttl 2h")
    assert not any(call.startswith("token delete") for call in calls)
