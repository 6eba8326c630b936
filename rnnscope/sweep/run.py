"""A whole sweep: plan the points, skip the finished ones, run the rest, gather the results."""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnnscope.sweep.data import DATA_FOLDER
from rnnscope.sweep.errors import SweepError
from rnnscope.sweep.gather import gather_results, write_results
from rnnscope.sweep.plan import SweepPlan, point_state
from rnnscope.sweep.runner import SweepListener, run_points

__all__ = ["SweepOutcome", "describe_point", "plan_states", "run_sweep"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepOutcome:
    """What a sweep did.

    Attributes
    ----------
    points : int
        Points in the sweep.
    skipped : int
        Points finished before this run.
    statuses : dict
        Point id to ``"ok"``, ``"failed"`` or ``"error: ..."`` for the points run now.
    retried : int
        Starts of points after their first (a worker died, or the point raised).
    csv_path, json_path : pathlib.Path
        The gathered results.
    seconds : float
        Wall-clock time of the run.

    Examples
    --------
    >>> from pathlib import Path
    >>> outcome = SweepOutcome(2, 1, {"a": "error: boom"}, 0, Path("r.csv"), Path("r.json"), 1.0)
    >>> outcome.errors
    {'a': 'error: boom'}
    """

    points: int
    skipped: int
    statuses: dict[str, str]
    retried: int
    csv_path: Path
    json_path: Path
    seconds: float

    @property
    def errors(self) -> dict[str, str]:
        """Points that raised and have no result."""
        return {k: v for k, v in self.statuses.items() if v.startswith("error")}

    @property
    def failed(self) -> list[str]:
        """Points whose result records a failure (e.g. training diverged)."""
        return [k for k, v in self.statuses.items() if v == "failed"]


def plan_states(plan: SweepPlan, root: str | os.PathLike[str]) -> dict[str, str]:
    r"""Return the state of every point in the sweep folder (see :func:`point_state`).

    Parameters
    ----------
    plan : SweepPlan
        The sweep.
    root : str or path-like
        Sweep folder.

    Returns
    -------
    dict
        Point id to ``"finished"``, ``"trained"``, ``"started"`` or ``"new"``.

    Examples
    --------
    >>> from rnnscope.sweep import parse_spec, plan_sweep
    >>> spec = parse_spec("[task]\nname = 'digits'\n[model]\nkind = 'rnn'\n")
    >>> list(plan_states(plan_sweep(spec), "/no/such/dir").values())
    ['new']
    """
    evaluation = plan.spec.evaluation()
    return {point.id: point_state(root, point, evaluation) for point in plan.points}


def run_sweep(
    plan: SweepPlan,
    out: str | os.PathLike[str],
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    in_process: bool = False,
    retries: int = 2,
    listener: SweepListener | None = None,
    notify: Callable[[str], None] | None = None,
) -> SweepOutcome:
    r"""Run every unfinished point of `plan` into ``out/runs`` and gather the results.

    Parameters
    ----------
    plan : SweepPlan
        The sweep (see :func:`rnnscope.sweep.plan_sweep`).
    out : str or path-like
        Sweep folder (created if missing).
    scheduler : str, optional
        Address of a Dask scheduler; default: an embedded LocalCluster.
    workers : int, optional
        Worker processes of the LocalCluster.
    in_process : bool, optional
        Run the points here without Dask.
    retries : int, optional
        Dask retries of a point that raises.
    listener : SweepListener, optional
        Follows the points (e.g. a progress bar).
    notify : callable, optional
        Receives one-line messages for the user.

    Returns
    -------
    SweepOutcome
        Counts, statuses and the results files.

    Raises
    ------
    rnnscope.errors.OutputPathError
        If `out` cannot be written.
    rnnscope.sweep.errors.SweepError
        If the scheduler cannot be reached; the folders this call created are removed again.

    Examples
    --------
    >>> from rnnscope.sweep import parse_spec, plan_sweep
    >>> import tempfile
    >>> spec = parse_spec("[task]\nname = 'digits'\n[model]\nkind = 'rnn'\nhidden = 4\n"
    ...                   "[train]\nsteps = 2\n")
    >>> run_sweep(plan_sweep(spec), tempfile.mkdtemp(), in_process=True).statuses.values()
    dict_values(['ok'])
    """
    from rnnscope.files import prepare_output_dir

    start = time.perf_counter()
    target = Path(out).resolve()
    new = _missing_folders(target)
    folder = prepare_output_dir(target, what="--out")
    prepare_output_dir(folder / "runs", what="--out")
    states = plan_states(plan, folder)
    todo = [point for point in plan.points if states[point.id] != "finished"]
    listener = listener if listener is not None else SweepListener()
    listener.total = len(plan.points)
    listener.skipped(len(plan.points) - len(todo))
    logger.info(
        "sweep %s: %d point(s), %d finished earlier, %d to run",
        plan.spec.name,
        len(plan.points),
        len(plan.points) - len(todo),
        len(todo),
    )
    try:
        statuses = run_points(
            todo,
            folder,
            plan.spec.evaluation(),
            scheduler=scheduler,
            workers=workers,
            retries=retries,
            in_process=in_process,
            listener=listener,
            notify=notify,
        )
    except SweepError:  # the scheduler was not reached: no point ran
        _remove_new_folders(new, target / DATA_FOLDER)
        raise
    csv_path, json_path = write_results(gather_results(plan, folder), folder)
    return SweepOutcome(
        points=len(plan.points),
        skipped=len(plan.points) - len(todo),
        statuses=statuses,
        retried=listener.retried,
        csv_path=csv_path,
        json_path=json_path,
        seconds=round(time.perf_counter() - start, 3),
    )


def _missing_folders(out: Path) -> list[Path]:
    """List the missing folders that :func:`run_sweep` creates before its points run.

    They are `out` (a resolved path: ``new/..`` is the folder that holds ``new``) and its
    missing parents, ``out/runs`` and ``out/data``, outermost first.
    """
    missing = [path for path in (out / DATA_FOLDER, out / "runs") if not path.exists()]
    path = out
    while not path.exists() and path != path.parent:
        missing.append(path)
        path = path.parent
    return missing[::-1]


def _remove_new_folders(new: list[Path], data: Path) -> None:
    """Remove the folders of :func:`_missing_folders` again, innermost first.

    `data` (the task data, written by this call) goes with its files; any other folder only if
    it is empty, so that nothing that another process put there meanwhile is lost.
    """
    for path in reversed(new):
        try:
            if path == data and path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.rmdir()
        except OSError:
            pass


def describe_point(point: Any) -> str:
    r"""Describe a point's settings in one short line (for the dry run).

    Parameters
    ----------
    point : SweepPoint
        The point.

    Returns
    -------
    str
        For example ``"init=chain alpha=1.0 lr=0.001"``.

    Examples
    --------
    >>> from rnnscope.sweep import parse_spec, plan_sweep
    >>> spec = parse_spec("[task]\nname = 'digits'\n[model]\nkind = 'rnn'\ninit = 'chain'\n")
    >>> describe_point(plan_sweep(spec).points[0])
    'init=chain lr=0.001'
    """
    parts = [f"{key}={value}" for key, value in point.options.items()]
    if point.constrain is not None:
        parts.append(f"constrain={point.constrain}")
    parts.append(f"lr={point.lr!r}")
    return " ".join(parts)
