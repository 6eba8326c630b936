"""Running the points of a sweep on Dask distributed, or in this process without Dask.

Each point is one Dask task (:func:`rnnscope.sweep.point.run_point`) on a worker with one
thread. With no scheduler address an embedded :class:`distributed.LocalCluster` is started (one
single-threaded worker process per core by default); with an address the sweep runs on that
cluster, whose workers must see the sweep folder at the same path (a shared file system) and
have rnnscope installed. A worker that dies takes its point with it: the scheduler gives the
point to another worker (up to ``distributed.scheduler.allowed-failures`` times), where it
resumes from its last checkpoint; a point that raises is retried ``retries`` times.

The embedded LocalCluster runs with :data:`LOCAL_CLUSTER_CONFIG`: a point is one long task on
a single-threaded worker, one worker per core, so Dask's own periodic work shares the cores
with the points. With Dask's defaults the workers' statistical profiler (a stack sample every
10 ms), the 20 ms event-loop ticks and the 100 ms memory monitor cost, on a 4-point sweep on
2 workers, about 35 % of the points' own CPU time in the workers' other threads and 15 % more
CPU in the point's own thread; with these settings, about 4 % and none. The dashboard works as
before, without its profile page. A cluster given by address keeps its own configuration.

The workers are also started without the ``MALLOC_TRIM_THRESHOLD_=65536`` that Dask's nannies
put in a worker's environment by default. Setting that variable turns off glibc's adaptive
``mmap`` threshold, so every buffer above 128 KiB (a batch of hidden states, its gradient) is
mapped, zero-filled and unmapped again on every step: a warm point of the sweep benchmark took
10.1 CPU seconds in such a worker (about 2.7 of them system time) and 7.3 without it, as in
this process (under 0.5 system time), also with two workers side by side on two cores. The
workers now allocate memory as this process does: they may keep freed memory for reuse instead
of handing it back at once, which Dask's memory limits (a share of the machine's memory per
worker) still bound.

The embedded LocalCluster's workers freeze Python's garbage collector when they close
(:class:`rnnscope.sweep._exit.FastExit`): the interpreter's shutdown in a worker that holds
torch then takes about 0.2 CPU seconds instead of 1.2, and the cluster closes that much sooner.

The workers are forked from the worker server (:mod:`rnnscope.sweep.server`), a process that
has imported torch, scipy, foolbox and rnnscope once: a worker starts with them imported
instead of importing them before its first point. The cluster starts with the garbage
collector paused (:mod:`rnnscope.sweep._gc`): its scheduler imports the dashboard's bokeh.

Each dataset task of the points is built once, here, and its arrays are written to
``DIR/data`` (:mod:`rnnscope.sweep.data`): a fresh worker builds the task from them with numpy,
without importing scikit-learn (about 1.5 CPU seconds of its warm-up) or generating MNIST-1D.

Dask is optional (``pip install 'rnnscope[cluster]'``): without it the points run one after
the other in this process.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rnnscope.sweep.data import write_task_data
from rnnscope.sweep.errors import SweepError
from rnnscope.sweep.plan import SweepPoint
from rnnscope.sweep.point import run_point
from rnnscope.sweep.server import WORKER_START_METHOD, start_worker_server

__all__ = ["LOCAL_CLUSTER_CONFIG", "SweepListener", "dask_available", "run_points"]

logger = logging.getLogger(__name__)

_NO_DASK = (
    "dask.distributed is not installed (pip install 'rnnscope[cluster]'): "
    "running the sweep in this process, one point at a time"
)


#: Dask configuration of the embedded LocalCluster (its scheduler, nannies and workers).
LOCAL_CLUSTER_CONFIG: dict[str, Any] = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
    "distributed.worker.multiprocessing-method": WORKER_START_METHOD,
}


def dask_available() -> bool:
    """Whether :mod:`distributed` can be imported.

    Returns
    -------
    bool
        ``True`` when Dask distributed is installed.

    Examples
    --------
    >>> isinstance(dask_available(), bool)
    True
    """
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass
class SweepListener:
    """Receives the life of every point; the counts it keeps drive the progress bar.

    Subclass it (or pass ``on_change``) to follow a sweep. Its methods may be called from
    another thread than the one running the sweep; they take a lock.

    Attributes
    ----------
    total : int
        Points in the sweep.
    done : int
        Points finished (run now or earlier).
    failed : int
        Points whose run failed.
    retried : int
        Starts of a point after its first one (a worker died, or the point raised).
    running : set of str
        Ids of the points running now.
    on_change : callable, optional
        Called with the listener after every change.

    Examples
    --------
    >>> listener = SweepListener(total=2)
    >>> listener.started("a"); listener.started("a"); listener.finished("a", "ok")
    >>> listener.done, listener.retried, listener.running
    (1, 1, set())
    """

    total: int = 0
    done: int = 0
    failed: int = 0
    retried: int = 0
    running: set[str] = field(default_factory=set)
    on_change: Callable[[SweepListener], None] | None = None
    _starts: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def skipped(self, count: int) -> None:
        """Count `count` points finished before this run.

        Parameters
        ----------
        count : int
            Number of points.
        """
        with self._lock:
            self.done += count
        self._changed()

    def started(self, point_id: str) -> None:
        """Record that a point started on a worker (again, when it is retried).

        Parameters
        ----------
        point_id : str
            The point.
        """
        with self._lock:
            self._starts[point_id] = self._starts.get(point_id, 0) + 1
            if self._starts[point_id] > 1:
                self.retried += 1
            self.running.add(point_id)
        self._changed()

    def finished(self, point_id: str, status: str) -> None:
        """Record that a point ended with `status` (``"ok"``, or ``"failed"`` if recorded).

        Parameters
        ----------
        point_id : str
            The point.
        status : str
            Its result status.
        """
        with self._lock:
            self.running.discard(point_id)
            self.done += 1
            if status != "ok":
                self.failed += 1
        self._changed()

    def crashed(self, point_id: str, message: str) -> None:
        """Record that a point raised (after its retries) and has no result.

        Parameters
        ----------
        point_id : str
            The point.
        message : str
            What went wrong.
        """
        with self._lock:
            self.running.discard(point_id)
            self.failed += 1
        self._changed()

    def retries_of(self, point_id: str) -> int:
        """Return the number of times a point was started again.

        Parameters
        ----------
        point_id : str
            The point.

        Returns
        -------
        int
            Starts after the first.
        """
        with self._lock:
            return max(0, self._starts.get(point_id, 0) - 1)

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change(self)


def run_points(
    points: Sequence[SweepPoint],
    root: str | os.PathLike[str],
    evaluation: Mapping[str, Any],
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    retries: int = 2,
    in_process: bool = False,
    listener: SweepListener | None = None,
    notify: Callable[[str], None] | None = None,
) -> dict[str, str]:
    """Run points on Dask (a LocalCluster, or the scheduler at `scheduler`) or in this process.

    Parameters
    ----------
    points : sequence of SweepPoint
        The points to run.
    root : str or path-like
        Sweep folder; point ``p`` writes ``root/runs/<p.id>``.
    evaluation : mapping
        Analysis and attack settings (:meth:`SweepSpec.evaluation`).
    scheduler : str, optional
        Address of a running Dask scheduler, e.g. ``tcp://10.0.0.5:8786``.
    workers : int, optional
        Worker processes of the LocalCluster (default: the number of CPUs, at most one per
        point).
    retries : int, optional
        Dask retries of a point that raises.
    in_process : bool, optional
        Run here, one point after the other, without Dask.
    listener : SweepListener, optional
        Told when points start and end.
    notify : callable, optional
        Called with one-line messages for the user (the dashboard address, the fallback).

    Returns
    -------
    dict
        Point id to ``"ok"``, ``"failed"`` (a failure recorded in its result) or
        ``"error: ..."`` (the point raised and has no result).

    Raises
    ------
    SweepError
        If the scheduler cannot be reached.

    Examples
    --------
    >>> run_points([], "/tmp", {}, in_process=True)
    {}
    """
    listener = listener if listener is not None else SweepListener(total=len(points))
    say = notify if notify is not None else (lambda message: None)
    if not points:
        return {}
    write_task_data(root, [(point.task, point.task_params) for point in points])
    if not in_process and not dask_available():
        say(_NO_DASK)
        in_process = True
    if in_process:
        return _run_here(points, root, evaluation, listener)
    return _run_dask(
        points,
        root,
        evaluation,
        scheduler=scheduler,
        workers=workers,
        retries=retries,
        listener=listener,
        say=say,
    )


def _run_here(
    points: Sequence[SweepPoint],
    root: str | os.PathLike[str],
    evaluation: Mapping[str, Any],
    listener: SweepListener,
) -> dict[str, str]:
    statuses: dict[str, str] = {}
    for point in points:
        listener.started(point.id)
        try:
            status = str(run_point(point, root, evaluation)["status"])
        except Exception as exc:
            logger.error("point %s raised %s: %s", point.id, type(exc).__name__, exc)
            statuses[point.id] = f"error: {type(exc).__name__}: {exc}"
            listener.crashed(point.id, statuses[point.id])
            continue
        statuses[point.id] = status
        listener.finished(point.id, status)
    return statuses


def _dask_task(point: SweepPoint, root: str, evaluation: Mapping[str, Any], topic: str) -> str:
    """Run one point as a Dask task: announce the start, run it, return its status."""
    try:
        from distributed import get_worker

        get_worker().log_event(topic, {"id": point.id, "event": "start"})
    except ValueError:  # not on a worker (e.g. the synchronous scheduler)
        pass
    return str(run_point(point, root, evaluation)["status"])


@contextlib.contextmanager
def _client(scheduler: str | None, workers: int, say: Callable[[str], None]) -> Iterator[Any]:
    import dask.config
    from distributed import Client, LocalCluster

    from rnnscope.sweep._exit import FastExit
    from rnnscope.sweep._gc import collector_paused

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="15s")
        except (OSError, TimeoutError) as exc:
            raise SweepError(f"cannot reach the Dask scheduler at {scheduler!r}: {exc}") from None
        with client:
            say(f"Dask scheduler {scheduler}; dashboard: {client.dashboard_link}")
            yield client
        return
    nanny = logging.getLogger("distributed.nanny")
    level = nanny.level
    environ = dict(os.environ)
    start_worker_server()
    try:
        with contextlib.ExitStack() as stack:
            stack.enter_context(dask.config.set(LOCAL_CLUSTER_CONFIG))
            with collector_paused():  # the scheduler's start imports its dashboard (bokeh)
                cluster = stack.enter_context(
                    LocalCluster(
                        n_workers=workers,
                        threads_per_worker=1,
                        processes=True,
                        silence_logs=logging.ERROR,
                    )
                )
                client = stack.enter_context(Client(cluster))
                client.register_plugin(FastExit())
            say(
                f"Dask LocalCluster with {workers} worker(s), one thread each; "
                f"dashboard: {client.dashboard_link}{_dashboard_note()}"
            )
            try:
                yield client
            finally:  # a worker slow to exit at shutdown is no news to the user
                nanny.setLevel(logging.ERROR)
    finally:
        nanny.setLevel(level)
        _restore_environ(environ)


def _restore_environ(saved: Mapping[str, str]) -> None:
    """Undo the nannies' changes to this process's environment, seen by later subprocesses.

    Every nanny writes Dask's ``pre-spawn-environ`` (a user's own entries included) into this
    process's environment before it starts its worker, and leaves it there.
    """
    for name in set(os.environ) - set(saved):
        del os.environ[name]
    for name, value in saved.items():
        if os.environ.get(name) != value:
            os.environ[name] = value


def _dashboard_note() -> str:
    try:
        import bokeh  # noqa: F401
    except ImportError:
        return " (install bokeh for the full dashboard)"
    return ""


def _run_dask(
    points: Sequence[SweepPoint],
    root: str | os.PathLike[str],
    evaluation: Mapping[str, Any],
    *,
    scheduler: str | None,
    workers: int | None,
    retries: int,
    listener: SweepListener,
    say: Callable[[str], None],
) -> dict[str, str]:
    from distributed import as_completed

    count = workers if workers is not None else min(len(points), os.cpu_count() or 1)
    token = uuid.uuid4().hex[:12]
    topic = f"rnnscope-sweep-{token}"
    statuses: dict[str, str] = {}

    def handler(event: Any) -> None:
        _, message = event
        if isinstance(message, Mapping) and message.get("event") == "start":
            listener.started(str(message["id"]))

    with _client(scheduler, max(1, count), say) as client:
        client.subscribe_topic(topic, handler)
        futures = {
            client.submit(
                _dask_task,
                point,
                os.fspath(root),
                dict(evaluation),
                topic,
                key=f"rnnscope-sweep-{point.id}-{token}",
                retries=retries,
                pure=False,
            ): point
            for point in points
        }
        try:
            for future in as_completed(futures, raise_errors=False):
                point = futures[future]
                if future.status == "finished":
                    statuses[point.id] = str(future.result())
                    listener.finished(point.id, statuses[point.id])
                else:
                    exc = future.exception()
                    statuses[point.id] = f"error: {type(exc).__name__}: {exc}"
                    logger.error("point %s: %s", point.id, statuses[point.id])
                    listener.crashed(point.id, statuses[point.id])
        finally:
            client.unsubscribe_topic(topic)
            for future in futures:
                future.cancel()
    return statuses
