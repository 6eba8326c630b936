"""The worker server: one process that has imported what a point needs, forked for each worker.

A worker of the sweep's embedded LocalCluster that starts from a fresh interpreter (Dask's
default, ``spawn``) imports torch, scipy, foolbox and rnnscope before its first point can run:
about 3 CPU seconds, paid again by every worker and by every worker restarted after a crash.
Python's ``forkserver`` start method instead starts one server process that imports those
modules once (:data:`WORKER_MODULES`) and then forks a worker for each request: a worker
starts with them already imported.

:func:`start_worker_server` starts that server early: ``rnnscope sweep`` calls it as soon as
the SPEC has been read, so its imports run on another core while this process plans the
points, writes the task data and starts the scheduler. The LocalCluster then starts its
workers with the ``forkserver`` method (:data:`WORKER_START_METHOD`, in
:data:`rnnscope.sweep.runner.LOCAL_CLUSTER_CONFIG`). A server that is already running is
reused, so later sweeps of the same Python session start their workers at once.

Forking is safe here because the server process has a single thread: it only imports modules
and never runs a point or an event loop, and the thread variables of OpenBLAS, MKL and OpenMP
(``OMP_NUM_THREADS`` and the like) are 1 in its environment, so the libraries it loads start
no thread pool. Its environment is this process's, plus Dask's
``distributed.nanny.pre-spawn-environ`` (under the LocalCluster's configuration), plus those
thread variables and ``RNNSCOPE_WORKER_SERVER=1``: it is the environment of every worker
forked from it, which a nanny cannot change any more. Each worker still takes this process's
current folder, ``sys.path`` and main module when it starts, as a spawned one does.

Where ``forkserver`` is not available (Windows), workers are spawned as before.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Mapping

__all__ = ["WORKER_MODULES", "WORKER_START_METHOD", "start_worker_server"]

#: Modules imported by the worker server before it forks any worker: Dask's worker, and what
#: :func:`rnnscope.sweep.point.run_point` imports on its first call (training, analysis,
#: attacks through foolbox, dynamics). First, :mod:`rnnscope.sweep._server_start` turns the
#: cyclic garbage collector off for these imports; last, :mod:`rnnscope.sweep._server_freeze`
#: freezes their objects and turns it on again. ``torch._dynamo`` is not among them: training
#: does not import it (:mod:`models._eager_optim`), and a point that needs it imports it.
WORKER_MODULES: tuple[str, ...] = (
    "__main__",
    "rnnscope.sweep._server_start",
    "distributed",
    "torch",
    "models",
    "models.tasks",
    "spectra",
    "attacks._foolbox",
    "rnnscope.training",
    "rnnscope.analysis",
    "rnnscope.attack",
    "rnnscope.dynamics",
    "rnnscope.sweep.point",
    "rnnscope.sweep._server_freeze",
)

#: How the embedded LocalCluster starts its worker processes.
WORKER_START_METHOD: str = (
    "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
)

_lock = threading.Lock()


def start_worker_server(environ: Mapping[str, str] | None = None) -> bool:
    """Start the worker server in the background, unless it is running; return at once.

    Parameters
    ----------
    environ : mapping, optional
        Variables to add to the server's environment (and so to every worker's). Default: the
        variables of Dask's ``distributed.nanny.pre-spawn-environ`` under the LocalCluster's
        configuration, a variable of this process's environment taking precedence. The
        thread variables are set to 1 in any case, and ``RNNSCOPE_WORKER_SERVER=1`` marks the
        server for :mod:`rnnscope.sweep._server_freeze`.

    Returns
    -------
    bool
        ``True`` when the server runs (started now or earlier); ``False`` where workers are
        spawned instead (no ``forkserver`` start method, or Dask not installed).

    Examples
    --------
    >>> WORKER_START_METHOD in ("forkserver", "spawn")
    True
    """
    if WORKER_START_METHOD != "forkserver":
        return False
    if environ is None:
        try:
            environ = _pre_spawn_environ()
        except ImportError:
            return False
    from multiprocessing import forkserver

    from rnnscope.parallel import _THREAD_VARIABLES

    environ = {**environ, **dict.fromkeys(_THREAD_VARIABLES, "1"), "RNNSCOPE_WORKER_SERVER": "1"}
    context = multiprocessing.get_context("forkserver")
    with _lock:
        saved = {name: os.environ.get(name) for name in environ}
        os.environ.update(environ)
        try:
            context.set_forkserver_preload(list(WORKER_MODULES))
            forkserver.ensure_running()
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
    return True


def _pre_spawn_environ() -> dict[str, str]:
    """Dask's pre-spawn environment of a nanny of the embedded LocalCluster."""
    import dask.config
    import distributed  # noqa: F401  (loads Dask's distributed configuration)

    from rnnscope.sweep.runner import LOCAL_CLUSTER_CONFIG

    with dask.config.set(LOCAL_CLUSTER_CONFIG):  # read inside: leaving restores the values
        config = dask.config.get("distributed.nanny.pre-spawn-environ")
        return {name: os.environ.get(name, str(v)) for name, v in config.items() if v is not None}
