"""Logging set-up for the command line (the only place that configures logging).

Libraries only create loggers; this module attaches one handler to the root logger that writes
to the *current* ``sys.stderr`` (so it also works when the stream is swapped, as in tests) and
routes :mod:`warnings` (for example numerical warnings from :mod:`spectra`) through logging.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["configure_logging", "level_for", "progress_bar"]

_FORMAT = "%(levelname)s %(name)s: %(message)s"


class _StderrHandler(logging.Handler):
    """Write records to whatever ``sys.stderr`` is at the time of the record.

    The message is shown with its control characters escaped (names in it come from files).
    """

    def emit(self, record: logging.LogRecord) -> None:
        from rnnscope.safetext import printable

        try:
            shown = logging.makeLogRecord(record.__dict__)
            shown.msg, shown.args = printable(record.getMessage()), None
            sys.stderr.write(self.format(shown) + "\n")
        except Exception:  # pragma: no cover - the logging module's own convention
            self.handleError(record)


def level_for(verbose: int, quiet: bool) -> int:
    """Return the logging level for a verbosity count and a quiet flag.

    Parameters
    ----------
    verbose : int
        Number of ``-v`` flags: 0 shows warnings, 1 adds info, 2 or more add debug messages.
    quiet : bool
        Show errors only (wins over `verbose`).

    Returns
    -------
    int
        A :mod:`logging` level.

    Examples
    --------
    >>> level_for(0, False) == logging.WARNING, level_for(1, False) == logging.INFO
    (True, True)
    """
    if quiet:
        return logging.ERROR
    if verbose >= 2:
        return logging.DEBUG
    if verbose == 1:
        return logging.INFO
    return logging.WARNING


def configure_logging(*, verbose: int = 0, quiet: bool = False) -> None:
    """Attach the command line's stderr handler to the root logger (idempotent).

    Parameters
    ----------
    verbose : int, optional
        Number of ``-v`` flags (see :func:`level_for`).
    quiet : bool, optional
        Show errors only.

    Examples
    --------
    >>> configure_logging(verbose=1)
    >>> logging.getLogger().level == logging.INFO
    True
    >>> configure_logging()
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, _StderrHandler):
            root.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter(_FORMAT))
    root.addHandler(handler)
    level = level_for(verbose, quiet)
    root.setLevel(level)
    handler.setLevel(level)
    logging.captureWarnings(True)


@contextmanager
def progress_bar(enabled: bool, total: int, label: str) -> Iterator[Callable[..., None]]:
    """Show a progress bar on stderr while the block runs.

    Parameters
    ----------
    enabled : bool
        Draw the bar; when false the update function does nothing.
    total : int
        Number of steps of the bar.
    label : str
        Description shown until the first update.

    Yields
    ------
    callable
        ``update(description, advance=0)``: sets the description and advances the bar.

    Examples
    --------
    >>> with progress_bar(False, 3, "work") as update:
    ...     update("step 1", advance=1)
    """
    if not enabled:
        yield lambda description, advance=0: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
    ) as bar:
        from rnnscope.safetext import printable

        handle = bar.add_task(printable(label), total=total)
        yield lambda description, advance=0: bar.update(
            handle, description=printable(description), advance=advance
        )
