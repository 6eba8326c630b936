"""Help, version, entry points, exit codes and logging of the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import rnnscope
from rnnscope.logs import level_for
from tests.rnnscope.helpers import assert_bad_input, invoke

COMMANDS = ("train", "analyze", "pseudospectrum", "attack", "report", "demo")


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = invoke([command, "--help"])
    assert result.exit_code == 0, result.stderr
    assert "Example: rnnscope " + command in " ".join(result.stdout.split())


def test_top_level_help_lists_every_command() -> None:
    result = invoke(["--help"])
    assert result.exit_code == 0
    for command in COMMANDS:
        assert command in result.stdout


def test_version() -> None:
    result = invoke(["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"rnnscope {rnnscope.__version__}"


def test_usage_errors_are_one_line_with_exit_code_2() -> None:
    assert_bad_input(invoke(["frobnicate"]), "frobnicate")
    assert_bad_input(invoke(["analyze"]), "missing argument")
    assert_bad_input(invoke(["train", "rnn", "digits"]), "--out")
    assert_bad_input(invoke(["train", "rnn", "digits", "--out", "x", "--steps", "zero"]), "steps")


def test_unexpected_failure_exits_1_and_debug_shows_traceback(
    monkeypatch: pytest.MonkeyPatch, chain_npy: Path
) -> None:
    import rnnscope.analysis

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("kaput")

    monkeypatch.setattr(rnnscope.analysis, "analyze_checkpoint", boom)
    result = invoke(["analyze", chain_npy])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "error: unexpected failure: RuntimeError: kaput (run with --debug for the traceback)"
    ]
    debug = invoke(["--debug", "analyze", chain_npy])
    assert debug.exit_code == 1
    assert "Traceback (most recent call last)" in debug.stderr
    assert debug.stderr.strip().splitlines()[-1] == "error: unexpected failure: RuntimeError: kaput"


def test_domain_error_with_debug_keeps_exit_code_2_and_adds_traceback(tmp_path: Path) -> None:
    result = invoke(["--debug", "analyze", tmp_path / "missing.npy"])
    assert result.exit_code == 2
    assert "Traceback" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: ")


def test_verbosity_levels() -> None:
    import logging

    assert level_for(0, False) == logging.WARNING
    assert level_for(1, False) == logging.INFO
    assert level_for(3, False) == logging.DEBUG
    assert level_for(2, True) == logging.ERROR


def test_verbose_logs_go_to_stderr_not_stdout(chain_npy: Path) -> None:
    result = invoke(["-v", "analyze", chain_npy, "--json"])
    assert result.exit_code == 0, result.stderr
    json.loads(result.stdout)  # stdout stays one JSON object
    assert "INFO" in result.stderr


def _console_script() -> Path:
    return Path(sys.executable).parent / "rnnscope"


def test_console_script_and_module_entry_point(chain_npy: Path) -> None:
    script = _console_script()
    assert script.exists(), "the package is not installed with its console script"
    done = subprocess.run(
        [str(script), "analyze", str(chain_npy), "--json", "--eps", "0.1"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["matrices"][0]["size"] == 6
    module = subprocess.run(
        [sys.executable, "-m", "rnnscope", "analyze", str(chain_npy.parent / "nope.npy")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert module.returncode == 2
    assert module.stderr.strip().startswith("error: ")
    assert len(module.stderr.strip().splitlines()) == 1


_FREEZE_PROBE = (
    "import atexit, gc\natexit.register(lambda: print('frozen', gc.get_freeze_count() > 0))\n"
)


@pytest.mark.parametrize(
    ("call", "frozen"),
    [
        ("from rnnscope.cli import console\nconsole()", True),
        ("import runpy\nrunpy.run_module('rnnscope', run_name='__main__')", True),
        ("from rnnscope.cli import main\nmain(['--version'])", False),
    ],
    ids=["console", "python -m rnnscope", "main"],
)
def test_only_the_program_freezes_its_objects_before_the_interpreter_exits(
    call: str, frozen: bool
) -> None:
    """The program freezes once the command is done; :func:`main` leaves the objects alone."""
    done = subprocess.run(
        [sys.executable, "-c", _FREEZE_PROBE + call, "--version"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["rnnscope", rnnscope.__version__, "frozen", str(frozen)]


def test_the_console_script_runs_console() -> None:
    from importlib.metadata import entry_points

    (script,) = entry_points(group="console_scripts", name="rnnscope")
    assert script.value == "rnnscope.cli:console"
