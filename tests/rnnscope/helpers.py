"""Helpers shared by the command-line tests."""

from __future__ import annotations

from collections.abc import Sequence

from typer.testing import CliRunner, Result

from rnnscope.cli import app


def invoke(args: Sequence[str]) -> Result:
    """Run the command line in-process and return its result (stdout and stderr apart)."""
    return CliRunner().invoke(app, [str(a) for a in args])


def assert_bad_input(result: Result, *fragments: str) -> None:
    """Exit code 2, exactly one ``error:`` line on stderr mentioning every fragment."""
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment.lower() in lines[0].lower(), (fragment, lines[0])
