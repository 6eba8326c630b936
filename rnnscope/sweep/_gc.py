"""A pause of Python's cyclic garbage collector while a sweep starts.

Starting a sweep is mostly imports: torch, scikit-learn and the models while the points are
planned, Dask's dashboard (bokeh) while the LocalCluster starts. Their objects live as long as
the process, yet the cyclic collector runs every few hundred allocations and scans the growing
heap again and again: about a fifth of the CPU time of those imports here, on the critical
path of a sweep's start. :func:`collector_paused` turns it off for such a stretch and back on
after; the cycles made meanwhile are collected then, by the next collection.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["collector_paused"]


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Turn the cyclic garbage collector off inside the block (back on after, if it was on).

    Yields
    ------
    None

    Examples
    --------
    >>> import gc
    >>> with collector_paused():
    ...     gc.isenabled()
    False
    >>> gc.isenabled()
    True
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
