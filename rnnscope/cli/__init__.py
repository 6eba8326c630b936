"""Command line: ``rnnscope train | analyze | pseudospectrum | attack | dynamics | report | demo``.

Exit codes: 0 on success, 2 for bad input or usage (one line on stderr, ``error: ...``), 1 for
an unexpected failure (add the global ``--debug`` option to see the traceback). Results go to
stdout (tables, or JSON with ``--json``); progress bars and log messages go to stderr.

The application and its global options live in ``_app``, each command in a module of its own.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Sequence
from typing import NoReturn

import typer

# Each module registers its command on import; ``--help`` lists them in this order.
# isort: off
from rnnscope.cli import _train  # noqa: F401
from rnnscope.cli import _analyze  # noqa: F401
from rnnscope.cli import _pseudospectrum  # noqa: F401
from rnnscope.cli import _attack  # noqa: F401
from rnnscope.cli import _report  # noqa: F401
from rnnscope.cli import _dynamics  # noqa: F401
from rnnscope.cli import _demo  # noqa: F401
from rnnscope.cli import _sweep  # noqa: F401

# isort: on
from rnnscope.cli._app import app

__all__ = ["app", "console", "main"]


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Run the command line and exit.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name (default: ``sys.argv[1:]``).

    Raises
    ------
    SystemExit
        Always: 0 on success, 2 for bad input or usage, 1 for an unexpected failure.

    Examples
    --------
    >>> try:
    ...     main(["--version"])
    ... except SystemExit as done:
    ...     print("exit code", done.code)
    rnnscope ...
    exit code 0
    """
    command = typer.main.get_command(app)
    command.main(args=list(sys.argv[1:] if argv is None else argv), prog_name="rnnscope")
    raise SystemExit(0)  # pragma: no cover - command.main always exits


def console() -> NoReturn:
    """Run the ``rnnscope`` program (and ``python -m rnnscope``): :func:`main`, then exit quickly.

    Once the command has ended (its files written and closed, its output flushed), the objects
    that exist are frozen (:func:`gc.freeze`), so the interpreter's shutdown does not scan them
    again and again while it clears the modules of torch, scipy and Dask: that took about
    1 s at the end of a command that had imported them (``rnnscope train``, here). ``atexit``
    handlers still run and objects are still freed when their last reference goes; the
    process then ends. Call :func:`main` instead in a process that goes on running.

    Raises
    ------
    SystemExit
        Always, with the exit code of :func:`main`.
    """
    try:
        main()
    finally:
        gc.freeze()
