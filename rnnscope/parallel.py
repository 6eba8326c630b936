"""Running independent jobs in worker processes, each with one compute thread.

A model's numbers depend on how many threads torch and BLAS use (the order of floating-point
reductions changes), so every job runs with exactly one thread, in this process or in a worker.
The results are then the same whatever the number of workers or cores.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, TypeVar

__all__ = ["map_jobs", "single_thread"]

T = TypeVar("T")

# Read by OpenBLAS, MKL and OpenMP when they are loaded: a library that a worker loads late
# (after `threadpool_limits` has been applied) then still starts with one thread.
_THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


def _load_compute_libraries() -> None:
    """Import the libraries whose thread pools the reports use, so that limits reach them.

    `threadpool_limits` only limits libraries already loaded; scipy ships its own OpenBLAS,
    loaded with ``scipy.linalg``, which would otherwise keep its default thread count when it
    is first imported inside a limited block.
    """
    import numpy  # noqa: F401
    import scipy.linalg  # noqa: F401
    import torch  # noqa: F401


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """Limit torch and the BLAS libraries (numpy's, scipy's) to one thread inside the block.

    numpy, scipy.linalg and torch are imported first, so the limit reaches their thread pools
    even when this block is the first to use them.

    Yields
    ------
    None
        Inside the block, ``torch.get_num_threads() == 1``.

    Examples
    --------
    >>> import torch
    >>> with single_thread():
    ...     torch.get_num_threads()
    1
    """
    import torch
    from threadpoolctl import threadpool_limits

    _load_compute_libraries()
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        torch.set_num_threads(before)


def _initializer() -> None:
    for name in _THREAD_VARIABLES:
        os.environ[name] = "1"
    import torch

    torch.set_num_threads(1)


def map_jobs(
    func: Callable[..., T], jobs: Sequence[tuple[Any, ...]], *, workers: int = 1
) -> Iterator[T]:
    """Call ``func(*job)`` for every job, in up to `workers` processes.

    Parameters
    ----------
    func : callable
        A module-level function (it is pickled for the workers).
    jobs : sequence of tuple
        Positional arguments of each call.
    workers : int, optional
        Number of processes; with 1 (or a single job) everything runs here.

    Yields
    ------
    object
        ``func``'s results, in completion order (include a key in the result to reorder).

    Raises
    ------
    Exception
        The first exception raised by a job; the remaining jobs are cancelled.

    Examples
    --------
    >>> list(map_jobs(pow, [(2, 3), (3, 2)]))
    [8, 9]
    """
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            yield func(*job)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=min(workers, len(jobs)), mp_context=context, initializer=_initializer
    ) as pool:
        futures = [pool.submit(func, *job) for job in jobs]
        try:
            for future in as_completed(futures):
                yield future.result()
        finally:
            for future in futures:
                future.cancel()
