"""The ``rnnscope sweep`` command: check the SPEC, print the dry run, or run and summarize."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rnnscope.errors import BadOptionError
from rnnscope.sweep.errors import SweepError

if TYPE_CHECKING:
    from rnnscope.sweep.plan import SweepPlan

__all__ = ["read_and_plan", "sweep_command", "sweep_report_command"]


def read_and_plan(spec_path: str | os.PathLike[str], *, start_server: bool) -> SweepPlan:
    r"""Read a SPEC and plan its points, as ``rnnscope sweep`` does before anything runs.

    Reading the SPEC (its form, types, kinds and product) imports no torch. Then, when
    `start_server` is true, the worker server (:mod:`rnnscope.sweep.server`) starts its imports
    on another core while this process plans the points (their tasks and model options) with
    the garbage collector paused (:mod:`rnnscope.sweep._gc`).

    Parameters
    ----------
    spec_path : str or path-like
        SPEC file.
    start_server : bool
        Start the worker server of the embedded LocalCluster once the SPEC has been read
        (nothing happens without Dask).

    Returns
    -------
    SweepPlan
        The points, in grid order.

    Raises
    ------
    rnnscope.sweep.errors.SweepSpecError
        If the SPEC is invalid.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> spec = pathlib.Path(tempfile.mkdtemp()) / "s.toml"
    >>> _ = spec.write_text("[task]\nname = 'digits'\n[grid]\nkind = ['rnn']\nseed = [0, 1]\n")
    >>> len(read_and_plan(spec, start_server=False).points)
    2
    """
    from rnnscope.sweep._gc import collector_paused
    from rnnscope.sweep.plan import plan_sweep
    from rnnscope.sweep.spec import load_spec

    spec = load_spec(spec_path)
    with collector_paused():  # Dask, then torch and scikit-learn are imported
        if start_server:
            from rnnscope.sweep.server import start_worker_server

            start_worker_server()
        return plan_sweep(spec)


def sweep_command(
    spec_path: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    scheduler: str | None,
    workers: int | None,
    dry_run: bool,
    console: Any,
    progress: bool,
    warn: Callable[[str], None],
) -> int:
    """Run ``rnnscope sweep`` (every check happens before anything is written or run).

    Reading the SPEC checks its form, types, kinds and product; the worker server
    (:mod:`rnnscope.sweep.server`) then starts its imports while planning checks each point's
    task and model options. A SPEC that fails in planning leaves nothing behind either: the
    server finishes its imports and ends with this process.

    Parameters
    ----------
    spec_path : str or path-like
        SPEC file.
    out : str or path-like
        Sweep folder.
    scheduler : str or None
        Dask scheduler address.
    workers : int or None
        LocalCluster workers.
    dry_run : bool
        Print the points and their estimated cost, and stop.
    console : rich.console.Console
        Where the tables go (stdout).
    progress : bool
        Draw the progress bar on stderr.
    warn : callable
        Prints one informational line on stderr.

    Returns
    -------
    int
        0 when every point has a result (finished or recorded as failed), 1 when a point
        raised after its retries.

    Raises
    ------
    rnnscope.sweep.errors.SweepSpecError
        If the SPEC is invalid.
    rnnscope.errors.BadOptionError
        If ``--workers`` is combined with ``--scheduler``.
    """
    if scheduler is not None and workers is not None:
        raise BadOptionError(
            "--workers sets the size of the local cluster; omit it with --scheduler"
        )
    plan = read_and_plan(spec_path, start_server=not dry_run and scheduler is None)
    out_dir = Path(out)
    if out_dir.exists() and not out_dir.is_dir():
        raise SweepError(f"--out {out_dir} exists and is not a folder")
    if dry_run:
        _print_dry_run(console, plan, out_dir, workers=workers, scheduler=scheduler)
        return 0
    from rnnscope.sweep.progress import sweep_progress
    from rnnscope.sweep.run import run_sweep

    with sweep_progress(progress, label=f"sweep {plan.spec.name}") as listener:
        outcome = run_sweep(
            plan, out_dir, scheduler=scheduler, workers=workers, listener=listener, notify=warn
        )
    ran = len(outcome.statuses)
    console.print(
        f"{outcome.points} point(s): {outcome.skipped} finished earlier, {ran} run now "
        f"({len(outcome.failed)} recorded as failed, {len(outcome.errors)} without a result, "
        f"{outcome.retried} restart(s)) in {outcome.seconds:.1f} s"
    )
    console.print(f"results: {outcome.csv_path} and {outcome.json_path}")
    for point_id in outcome.failed:
        warn(f"point {point_id} failed; see {out_dir / 'runs' / point_id / 'result.json'}")
    for point_id, message in sorted(outcome.errors.items()):
        warn(f"point {point_id} has no result: {message}")
    return 1 if outcome.errors else 0


def _print_dry_run(
    console: Any, plan: Any, out_dir: Path, *, workers: int | None, scheduler: str | None
) -> None:
    from rich.table import Table

    from rnnscope.sweep.plan import estimate_cost
    from rnnscope.sweep.run import describe_point, plan_states

    states = plan_states(plan, out_dir)
    todo = [point for point in plan.points if states[point.id] != "finished"]
    estimate = estimate_cost(plan, todo)
    table = Table(title=f"sweep {plan.spec.name}: {plan.spec.task} ({plan.spec.source})")
    for column in ("id", "kind", "hidden", "seed", "settings", "state", "est. s"):
        table.add_column(
            column, justify="right" if column in ("hidden", "seed", "est. s") else "left"
        )
    for point in plan.points:
        seconds = estimate.seconds.get(point.id)
        table.add_row(
            point.id,
            point.kind,
            str(point.hidden),
            str(point.seed),
            describe_point(point),
            states[point.id],
            "" if seconds is None else f"{seconds:.1f}",
        )
    console.print(table)
    if scheduler is not None:
        where = f"the cluster at {scheduler}"
        share = ""
    else:
        count = workers if workers is not None else min(len(todo) or 1, os.cpu_count() or 1)
        where = f"{count} local worker(s)"
        share = f", about {estimate.wall(count):.0f} s on {where}"
    console.print(
        f"{len(plan.points)} point(s), {len(plan.points) - len(todo)} finished, {len(todo)} to "
        f"run: estimated {estimate.total:.0f} s on one worker{share} (training and attacks, "
        f"from {estimate.method}; start-up and analysis not included)"
    )
    console.print(f"nothing was run; results would go to {out_dir}")


def sweep_report_command(
    paths: list[Path], out: str | os.PathLike[str], *, console: Any, warn: Callable[[str], None]
) -> int:
    """Run ``rnnscope report DIR --out OUT`` for a sweep folder.

    Parameters
    ----------
    paths : list of pathlib.Path
        The report's inputs: one sweep folder.
    out : str or path-like
        Report folder.
    console : rich.console.Console
        Where the summary goes (stdout).
    warn : callable
        Prints one informational line on stderr.

    Returns
    -------
    int
        0.

    Raises
    ------
    rnnscope.errors.BadOptionError
        If a sweep folder is given together with other inputs.
    """
    from rnnscope.sweep.report import build_sweep_report, write_sweep_report

    if len(paths) != 1:
        raise BadOptionError(
            "a sweep folder is reported on its own; give either one sweep folder or checkpoints"
        )
    report = build_sweep_report(paths[0])
    index = write_sweep_report(report, out)
    console.print(
        f"sweep {report.name}: {len(report.runs)} run(s) in {len(report.groups)} group(s), "
        f"{len(report.figures)} figure(s)"
    )
    console.print(f"report: {index}")
    warn("a sweep folder is reported from its results.json; the attack options are not used")
    return 0
