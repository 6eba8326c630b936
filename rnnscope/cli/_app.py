"""The typer application, its global options and what every command shares.

Shared here: the ``--verbose/--quiet/--debug/--version`` options and the state they set, the
stdout console, progress and warning lines on stderr, the check that an input exists, and the
option types several commands take (``--max-size``, ``--grid``, ``--eps``, ``--strength``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from rnnscope import __version__
from rnnscope.cli_group import ErrorGroup
from rnnscope.logs import configure_logging
from rnnscope.options import parse_choice
from rnnscope.settings import AnalysisSettings, default, eps_text, help_text

__all__ = [
    "EPS_DEFAULT",
    "EPS_HELP",
    "GRID_DEFAULT",
    "GRID_HELP",
    "STRENGTHS",
    "Grid",
    "MaxSize",
    "app",
    "parse_convention",
    "require_input",
    "show_progress",
    "stdout_console",
    "warn",
]


app = typer.Typer(
    cls=ErrorGroup,
    name="rnnscope",
    help="Robustness and spectral analysis of recurrent neural networks.",
    epilog="Example: rnnscope demo --quick --out reports/demo",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

_STATE: dict[str, bool] = {"quiet": False, "debug": False}


def _version_callback(value: bool) -> None:
    if value:
        sys.stdout.write(f"rnnscope {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def _global_options(
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="More log messages (-vv: debug).")
    ] = 0,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Errors only; no progress bars.")
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback of a failure.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version_callback, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    """Robustness and spectral analysis of recurrent neural networks."""
    configure_logging(verbose=verbose, quiet=quiet)
    _STATE["quiet"] = quiet
    _STATE["debug"] = debug


def stdout_console() -> Any:
    """Return the rich console that writes results to stdout (200 columns when not a terminal)."""
    from rich.console import Console

    width = _terminal_width() if sys.stdout.isatty() else 200
    return Console(file=sys.stdout, soft_wrap=False, width=width)


def _terminal_width() -> int:
    import shutil

    return shutil.get_terminal_size((100, 24)).columns


def show_progress() -> bool:
    """Return whether to draw progress bars: only on an interactive stderr, not with ``--quiet``."""
    return not _STATE["quiet"] and sys.stderr.isatty()


def warn(message: str) -> None:
    """Write one informational line on stderr (suppressed by ``--quiet``)."""
    if not _STATE["quiet"]:
        from rnnscope.safetext import printable

        sys.stderr.write(printable(message.rstrip()) + "\n")


def parse_convention(value: str | None) -> str | None:
    """Return the ``--convention`` value checked against ``row`` and ``column`` (or ``None``)."""
    if value is None:
        return None
    return parse_choice(value, name="--convention", choices=("row", "column"))


def require_input(path: Path) -> None:
    """Fail early with a one-line message when an input path does not exist."""
    if not Path(path).exists():
        raise FileNotFoundError(2, "No such file or directory", str(path))


_MAX_SIZE_HELP = (
    "Largest N of an N×N recurrent matrix; larger ones are refused before anything is read or "
    "built (the analysis costs O(N³) time). Files also may hold at most 128·N² bytes."
)
#: The ``--max-size`` option of every command that reads matrices.
MaxSize = Annotated[int, typer.Option("--max-size", min=1, help=_MAX_SIZE_HELP)]

#: Help and default text of the pseudospectral ``--eps`` and ``--grid`` options.
EPS_HELP = help_text(AnalysisSettings, "eps")
EPS_DEFAULT = eps_text(default(AnalysisSettings, "eps"))
GRID_HELP = help_text(AnalysisSettings, "grid")
GRID_DEFAULT: int = default(AnalysisSettings, "grid")
#: The ``--grid`` option of the commands that draw pseudospectra of a checkpoint's matrices.
Grid = Annotated[int, typer.Option("--grid", min=10, max=400, help=GRID_HELP)]

#: Choices of ``--strength``.
STRENGTHS = ("quick", "standard", "thorough")
