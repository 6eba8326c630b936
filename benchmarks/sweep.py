"""Speed-up of an 8-point sweep on a 2-worker Dask LocalCluster over the same sweep in-process.

The sweep: ELU RNNs (hidden 64) on permuted digits, chain / orthogonal inits x 4 seeds, each
trained for ``--steps`` steps (default: the default of ``rnnscope train``), analyzed, and
attacked in L-inf (FGSM and PGD, 4 budgets, 64 samples). Every run starts from an empty folder
and uses one compute thread per process. The Dask time is end to end: it includes starting the
cluster and each worker's imports, as a user of ``rnnscope sweep`` would wait for them.

Also printed, from the same run:

* the CPU time of each run's own processes and of every other process of the machine during
  it (``/proc/stat``): the ratio is only meaningful when the other processes used next to
  nothing; a CPU-bound job of someone else takes one of the 2 cores from the workers (but not
  from the in-process run, which needs one);
* the fixed cost of the cluster: started, every worker made to run a tiny point (its imports
  of torch, torch._dynamo, scipy and foolbox and the first calls of training, analysis and
  attack, which the in-process run pays once and every worker pays again; the digits come from
  the sweep's task data, as in the sweep), closed; and the best speed-up that this fixed cost
  leaves, the in-process work less one warm-up split evenly;
* the same 8 points on a plain process pool without Dask (:func:`rnnscope.parallel.map_jobs`),
  reading the same task data, the peer that shows what Dask itself costs on this machine.

The three results.csv files are compared byte for byte.

Usage: ``python benchmarks/sweep.py [--steps N] [--workers 2]``
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# This folder holds attacks.py, which would shadow the attacks package here and in the workers.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

from rnnscope.parallel import map_jobs  # noqa: E402
from rnnscope.settings import TrainSettings  # noqa: E402
from rnnscope.sweep import (  # noqa: E402
    gather_results,
    parse_spec,
    plan_sweep,
    run_sweep,
    write_results,
)
from rnnscope.sweep.data import write_task_data  # noqa: E402
from rnnscope.sweep.plan import SweepPlan, SweepPoint  # noqa: E402
from rnnscope.sweep.point import run_point  # noqa: E402
from rnnscope.sweep.runner import _client  # noqa: E402

SPEC = """
name = "bench"
[task]
name = "digits"
params = {{ permuted = true }}
[model]
kind = "rnn"
hidden = 64
nonlinearity = "elu"
[grid]
init = ["orthogonal", {{ name = "chain", alpha = 1.0 }}]
seed = [0, 1, 2, 3]
[train]
steps = {steps}
batch_size = 32
clip = 1.0
[analyze]
eps = [0.001, 0.01, 0.1]
[attack]
norms = ["linf"]
linf_eps = [0.01, 0.03, 0.1, 0.3]
attacks = ["fgsm", "pgd"]
samples = {samples}
steps = 10
"""


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} CPU(s)"


def _own_cpu() -> float:
    """CPU seconds of this process and of its finished children (the cluster's processes)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def _machine_cpu() -> float | None:
    """CPU seconds that all processes of the machine have used (Linux), or None."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            ticks = [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


class _Timed:
    """Wall time, CPU time of this process tree, CPU time of every other process."""

    def __enter__(self) -> _Timed:
        self._wall, self._own, self._machine = time.perf_counter(), _own_cpu(), _machine_cpu()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._wall
        self.own = _own_cpu() - self._own
        machine = _machine_cpu()
        self.others = None if machine is None else machine - self._machine - self.own

    def describe(self) -> str:
        others = "" if self.others is None else f"; other processes {max(self.others, 0):.1f} s"
        return f"{self.wall:7.1f} s (CPU: this sweep {self.own:.1f} s{others})"


def _warm(point: SweepPoint, evaluation: dict[str, Any], data: str) -> tuple[float, float]:
    """Run a tiny point in a temporary folder; return its wall and CPU seconds.

    This is what the first point of a fresh process pays on top of its own work: importing
    torch, torch._dynamo (the first optimizer imports it), scipy and foolbox and the first
    calls of each step. The point comes planned, and the digits from the task data in
    ``data/data``, as a worker of a sweep gets them, so scikit-learn is not imported.
    """
    import shutil
    import tempfile

    start, cpu = time.perf_counter(), time.process_time()
    from rnnscope.sweep.data import DATA_FOLDER
    from rnnscope.sweep.point import run_point

    with tempfile.TemporaryDirectory() as folder:
        shutil.copytree(Path(data) / DATA_FOLDER, Path(folder) / DATA_FOLDER)
        run_point(point, folder, evaluation)
    return time.perf_counter() - start, time.process_time() - cpu


def _pool_sweep(plan: SweepPlan, folder: Path, workers: int) -> None:
    """The same points on a plain process pool (no Dask), gathered the same way."""
    evaluation = plan.spec.evaluation()
    jobs = [(point, folder, evaluation) for point in plan.points]
    (folder / "runs").mkdir(parents=True)
    write_task_data(folder, [(point.task, point.task_params) for point in plan.points])
    for _ in map_jobs(run_point, jobs, workers=workers):
        pass
    write_results(gather_results(plan, folder), folder)


def _fixed_cost(workers: int, data: Path) -> tuple[float, list[tuple[float, float]]]:
    """Seconds to start the sweep's own LocalCluster, warm every worker and close it."""
    plan = plan_sweep(parse_spec(SPEC.format(steps=2, samples=8), source="warm"))
    write_task_data(data, [(plan.points[0].task, plan.points[0].task_params)])
    start = time.perf_counter()
    with _client(None, workers, lambda message: None) as client:
        warm = client.run(_warm, plan.points[0], plan.spec.evaluation(), os.fspath(data))
    return time.perf_counter() - start, sorted(warm.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--steps", type=int, default=TrainSettings().steps, help="training steps per point"
    )
    parser.add_argument("--workers", type=int, default=2, help="LocalCluster workers")
    args = parser.parse_args()
    plan = plan_sweep(parse_spec(SPEC.format(steps=args.steps, samples=64), source="bench"))
    assert len(plan.points) == 8
    print(f"8-point sweep, {args.steps} training steps per point; before: {_load()}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with _Timed() as inline_t:
            inline = run_sweep(plan, root / "inline", in_process=True)
        with _Timed() as dask_t:
            dask = run_sweep(plan, root / "dask", workers=args.workers, notify=print)
        with _Timed() as pool_t:
            _pool_sweep(plan, root / "pool", args.workers)
        fixed_s, warm_s = _fixed_cost(args.workers, root / "warm")
        assert set(inline.statuses.values()) == {"ok"}, inline.statuses
        assert set(dask.statuses.values()) == {"ok"}, dask.statuses
        csv = {
            name: (root / name / "results.csv").read_bytes() for name in ("inline", "dask", "pool")
        }
    inline_s, dask_s = inline_t.wall, dask_t.wall
    print(f"in-process:        {inline_t.describe()}")
    print(f"dask, {args.workers} workers: {dask_t.describe()}, cluster start included")
    print(f"speed-up: {inline_s / dask_s:.2f}x  (target >= 1.7x on 2 cores)")
    warm, warm_cpu = max(warm_s)
    ideal = inline_s / (fixed_s + (inline_s - warm) / args.workers)
    print(
        f"fixed cost of the cluster (start, every worker's first-point warm-up of "
        f"{warm:.1f} s, {warm_cpu:.1f} CPU-s, close): {fixed_s:.1f} s; speed-up without it: "
        f"{inline_s / max(dask_s - fixed_s, 1e-9):.2f}x; best possible with it: {ideal:.2f}x"
    )
    print(
        f"process pool without Dask, {args.workers} processes: {pool_t.describe()}; "
        f"speed-up {inline_s / pool_t.wall:.2f}x, Dask against it {pool_t.wall / dask_s:.2f}x"
    )
    print(f"results.csv identical (in-process, dask, pool): {len(set(csv.values())) == 1}")
    print(f"after: {_load()}")


if __name__ == "__main__":
    main()
