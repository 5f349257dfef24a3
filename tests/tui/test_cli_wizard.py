"""`khatui` opens the wizard only on a terminal; headless it prints help and never loads textual."""

from __future__ import annotations

import subprocess
import sys

from khatui.cli.main import COMMANDS, main


def test_no_command_without_a_terminal_prints_help_and_loads_no_textual() -> None:
    code = (
        "import sys, io; from khatui.cli.main import main; sys.stdout = io.StringIO(); rc = main([]); "
        "out = sys.stdout.getvalue(); sys.stdout = sys.__stdout__; "
        "print(rc, 'usage: khatui' in out, any(m.split('.')[0] == 'textual' for m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, stdin=subprocess.DEVNULL, check=True
    )
    assert done.stdout.split() == ["0", "True", "False"]


def test_wizard_command_is_registered_and_refuses_without_a_terminal(capsys: object) -> None:
    assert COMMANDS["wizard"][0] == "wizard_cmd"
    assert main(["wizard", "cluster.yaml"]) == 2  # pytest's stdin is not a terminal
    err = capsys.readouterr().err  # type: ignore[attr-defined]
    assert "the wizard needs a terminal" in err


def test_the_first_screen_loads_no_spec_model() -> None:
    """The app, its state and the start screen load without pydantic: the models load after the first frame."""
    code = (
        "import sys; from khatui.tui.app import make_app; import khatui.tui.screens.start; make_app(); "
        "print([m for m in sys.modules if m.split('.')[0] == 'pydantic' or m == 'khatui.spec.cluster'])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
