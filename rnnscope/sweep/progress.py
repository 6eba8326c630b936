"""One rich progress bar on stderr for a whole sweep: points done, running, failed, retried."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rnnscope.sweep.runner import SweepListener

__all__ = ["sweep_progress"]


def _counts(listener: SweepListener) -> str:
    return (
        f"running {len(listener.running)} · failed {listener.failed} · retried {listener.retried}"
    )


@contextmanager
def sweep_progress(enabled: bool, *, label: str = "sweep") -> Iterator[SweepListener]:
    """Yield a :class:`SweepListener` drawing one progress bar on stderr while the block runs.

    Parameters
    ----------
    enabled : bool
        Draw the bar; when false the listener only counts.
    label : str, optional
        Description at the left of the bar.

    Yields
    ------
    SweepListener
        Pass it to :func:`rnnscope.sweep.run_sweep`.

    Examples
    --------
    >>> with sweep_progress(False) as listener:
    ...     listener.started("a")
    >>> listener.running
    {'a'}
    """
    if not enabled:
        yield SweepListener()
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[counts]}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
    ) as bar:
        handle = bar.add_task(label, total=None, counts="")

        def update(listener: SweepListener) -> None:
            bar.update(
                handle, total=listener.total, completed=listener.done, counts=_counts(listener)
            )

        yield SweepListener(on_change=update)
