"""The command group of the CLI: every failure becomes one ``error:`` line and an exit code.

Exit codes: 0 on success, 2 for bad input or usage (one line on stderr, ``error: ...``), 1 for
an unexpected failure (the global ``--debug`` option shows the traceback).
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Sequence
from typing import Any

import typer
from typer.core import TyperGroup

from rnnscope.errors import RnnscopeError

__all__ = ["ErrorGroup"]


def _domain_errors() -> tuple[type[BaseException], ...]:
    """Exception classes reported as bad input (exit code 2)."""
    import attacks.errors
    import models.errors
    import spectra.errors

    return (
        RnnscopeError,
        spectra.errors.SpectraError,
        models.errors.ModelsError,
        attacks.errors.AttacksError,
        FileNotFoundError,
        PermissionError,
        IsADirectoryError,
        NotADirectoryError,
    )


def _message(exc: BaseException) -> str:
    """One-line description of a domain error."""
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return f"{exc.strerror}: {exc.filename}"
    text = str(exc).strip() or type(exc).__name__
    return " ".join(text.split())


def _debug_requested(args: Sequence[str]) -> bool:
    """Whether the global ``--debug`` option comes before the command name."""
    for arg in args:
        if arg == "--debug":
            return True
        if not arg.startswith("-"):
            return False
    return False


class ErrorGroup(TyperGroup):
    """Typer group that turns every failure into one ``error:`` line and an exit code."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the command line and exit with 0, 1 or 2 (see the module docstring).

        Parameters
        ----------
        args : sequence of str, optional
            Arguments without the program name (default: ``sys.argv[1:]``).
        prog_name : str, optional
            Program name shown in messages.
        complete_var : str, optional
            Environment variable of shell completion.
        standalone_mode : bool, optional
            Exit with the code (``True``) or return it.
        **extra
            Passed to the context.

        Returns
        -------
        int
            The exit code, when `standalone_mode` is false.
        """
        argv = list(sys.argv[1:] if args is None else args)
        debug = _debug_requested(argv)
        code = 0
        try:
            result = super().main(
                args=argv,
                prog_name=prog_name or "rnnscope",
                complete_var=complete_var,
                standalone_mode=False,
                **extra,
            )
            if isinstance(result, int):
                code = result
        except typer.TyperException as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # bare `rnnscope`: show the help
                sys.stdout.write(exc.format_message() + "\n")
                code = 0
                if standalone_mode:
                    sys.exit(code)
                return code
            hint = ""
            ctx = getattr(exc, "ctx", None)
            if ctx is not None:
                hint = f" (see '{ctx.command_path} --help')"
            _echo_error(exc.format_message() + hint, debug=debug)
            code = exc.exit_code
        except typer.Abort:
            _echo_error("aborted", debug=debug)
            code = 1
        except _domain_errors() as exc:
            _echo_error(_message(exc), debug=debug)
            code = 2
        except Exception as exc:
            _echo_error(
                f"unexpected failure: {type(exc).__name__}: {_message(exc)}"
                + ("" if debug else " (run with --debug for the traceback)"),
                debug=debug,
            )
            code = 1
        if standalone_mode:
            sys.exit(code)
        return code


def _echo_error(message: str, *, debug: bool) -> None:
    """Print ``error: message`` on stderr, after the traceback when debugging."""
    if debug and sys.exc_info()[0] is not None:
        traceback.print_exc(file=sys.stderr)
    from rnnscope.safetext import printable

    sys.stderr.write(f"error: {printable(' '.join(message.split()))}\n")
    sys.stderr.flush()
