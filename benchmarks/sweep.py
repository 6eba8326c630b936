"""Speed-up of an 8-point sweep on a 2-worker Dask LocalCluster over the same sweep in-process.

The sweep: ELU RNNs (hidden 64) on permuted digits, chain / orthogonal inits x 4 seeds, each
trained for ``--steps`` steps (default: the default of ``rnnscope train``), analyzed, and
attacked in L-inf (FGSM and PGD, 4 budgets, 64 samples). Every point uses one compute thread.

Each variant is one fresh Python process that takes the steps of ``rnnscope sweep SPEC --out
DIR``: read the SPEC and plan the points with the command's own
:func:`rnnscope.sweep.command.read_and_plan` (for Dask it starts the worker server,
:mod:`rnnscope.sweep.server`), write the task data, run the points, gather ``results.csv``,
freeze the objects before exiting (:func:`rnnscope.cli.console`). It is timed from its start
to its exit, as a user of ``rnnscope sweep`` waits for it: imports, planning, the cluster's
start and close and every worker's warm-up are included. The variants:

* in-process: the points one after the other in that process (``rnnscope sweep`` without
  Dask);
* dask: the embedded 2-worker LocalCluster of ``rnnscope sweep --workers 2``;
* pool: the same points on a plain process pool without Dask
  (:func:`rnnscope.parallel.map_jobs`, spawned workers), the peer that shows what Dask and the
  worker server change on this machine.

Also printed for each: the start-up (until the first point starts), the points (until the last
one ends) and the CPU seconds that every process of the machine used during the run
(``/proc/stat``): the in-process run needs one core, so CPU well above its wall time means that
someone else's process was busy and the ratio is not meaningful. Every results.csv is compared
byte for byte.

The three variants run ``--rounds`` times (3 by default), each variant first in one round: the
speed-up is the ratio of the median wall times, shown with the range of the rounds' own ratios,
because the time of the same run moves by 20 % and more from one minute to the next on a small
shared machine.

Usage: ``python benchmarks/sweep.py [--steps N] [--workers 2] [--rounds 3]``
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# This folder holds attacks.py, which would shadow the attacks package here and in the workers.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

from rnnscope.parallel import map_jobs  # noqa: E402
from rnnscope.settings import TrainSettings  # noqa: E402
from rnnscope.sweep import SweepListener, gather_results, run_sweep, write_results  # noqa: E402
from rnnscope.sweep.command import read_and_plan  # noqa: E402
from rnnscope.sweep.data import write_task_data  # noqa: E402
from rnnscope.sweep.plan import SweepPlan  # noqa: E402
from rnnscope.sweep.point import run_point  # noqa: E402

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


def _machine_cpu() -> float | None:
    """CPU seconds that all processes of the machine have used (Linux), or None."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            ticks = [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


class _Clock(SweepListener):
    """A listener that notes when the first point starts and the last one ends."""

    first: float | None = None
    last: float | None = None

    def started(self, point_id: str) -> None:
        if self.first is None:
            self.first = time.time()
        super().started(point_id)

    def finished(self, point_id: str, status: str) -> None:
        self.last = time.time()
        super().finished(point_id, status)


def _pool_sweep(plan: SweepPlan, folder: Path, workers: int, clock: _Clock) -> None:
    """The same points on a plain process pool (no Dask), gathered the same way."""
    evaluation = plan.spec.evaluation()
    jobs = [(point, folder, evaluation) for point in plan.points]
    (folder / "runs").mkdir(parents=True)
    write_task_data(folder, [(point.task, point.task_params) for point in plan.points])
    clock.first = time.time()
    for _ in map_jobs(run_point, jobs, workers=workers):
        pass
    clock.last = time.time()
    write_results(gather_results(plan, folder), folder)


def _variant(name: str, spec_path: Path, out: Path, workers: int) -> None:
    """One variant, in this fresh process: the steps of ``rnnscope sweep`` (see above)."""
    plan = read_and_plan(spec_path, start_server=name == "dask")  # as sweep_command does
    assert len(plan.points) == 8
    clock = _Clock()
    if name == "pool":
        _pool_sweep(plan, out, workers, clock)
    else:
        outcome = run_sweep(
            plan, out, in_process=name == "in-process", workers=workers, listener=clock
        )
        assert set(outcome.statuses.values()) == {"ok"}, outcome.statuses
    print(json.dumps({"first": clock.first, "last": clock.last}), flush=True)
    gc.freeze()  # as the rnnscope program does before it exits (rnnscope.cli.console)


def _run(name: str, spec_path: Path, out: Path, workers: int) -> dict[str, float | None]:
    """Run a variant in a fresh process; return its wall, phases and the machine's CPU."""
    command = [sys.executable, __file__, "--variant", name, "--spec", os.fspath(spec_path)]
    command += ["--out", os.fspath(out), "--workers", str(workers)]
    cpu, start = _machine_cpu(), time.time()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    end, cpu_end = time.time(), _machine_cpu()
    if done.returncode != 0:
        raise SystemExit(f"the {name} run failed:\n{done.stderr}")
    marks = json.loads(done.stdout.strip().splitlines()[-1])
    return {
        "wall": end - start,
        "startup": marks["first"] - start,
        "points": marks["last"] - marks["first"],
        "cpu": None if cpu is None or cpu_end is None else cpu_end - cpu,
    }


def _describe(run: dict[str, float | None]) -> str:
    cpu = "" if run["cpu"] is None else f"; machine CPU {run['cpu']:.1f} s"
    return (
        f"{run['wall']:6.1f} s (start-up {run['startup']:.1f} s, points {run['points']:.1f} s, "
        f"results and exit {run['wall'] - run['startup'] - run['points']:.1f} s{cpu})"
    )


_VARIANTS = ("in-process", "dask", "pool")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--steps", type=int, default=TrainSettings().steps, help="training steps per point"
    )
    parser.add_argument("--workers", type=int, default=2, help="LocalCluster workers")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds of the three variants (medians are shown)"
    )
    parser.add_argument("--variant", choices=_VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--spec", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant is not None:
        _variant(args.variant, args.spec, args.out, args.workers)
        return
    print(f"8-point sweep, {args.steps} training steps per point; before: {_load()}")
    print("each run: a fresh process taking the steps of `rnnscope sweep`, start to exit")
    runs: dict[str, list[dict[str, float | None]]] = {name: [] for name in _VARIANTS}
    csv: set[bytes] = set()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        spec_path = root / "bench.toml"
        spec_path.write_text(SPEC.format(steps=args.steps, samples=64), encoding="utf-8")
        for index in range(args.rounds):
            first = index % len(_VARIANTS)  # each variant goes first in one round
            order = _VARIANTS[first:] + _VARIANTS[:first]
            for name in order:
                out = root / f"{name}-{index}"
                runs[name].append(_run(name, spec_path, out, args.workers))
                csv.add((out / "results.csv").read_bytes())
            inline, dask, pool = (runs[name][-1] for name in _VARIANTS)
            print(f"round {index + 1} ({', '.join(order)}):")
            print(f"  in-process:            {_describe(inline)}")
            print(f"  dask, {args.workers} workers:       {_describe(dask)}")
            print(f"  process pool, {args.workers} procs: {_describe(pool)}")
            print(
                f"  speed-up {inline['wall'] / dask['wall']:.2f}x, "
                f"pool {inline['wall'] / pool['wall']:.2f}x"
            )
    walls = {name: [run["wall"] for run in runs[name]] for name in _VARIANTS}
    inline, dask, pool = (statistics.median(walls[name]) for name in _VARIANTS)
    per_round = [a / b for a, b in zip(walls["in-process"], walls["dask"], strict=True)]
    print(
        f"medians of {args.rounds} round(s): in-process {inline:.1f} s, dask {dask:.1f} s, "
        f"pool {pool:.1f} s"
    )
    print(
        f"speed-up: {inline / dask:.2f}x  (target >= 1.7x on 2 cores; "
        f"rounds {min(per_round):.2f}x to {max(per_round):.2f}x)"
    )
    print(f"pool speed-up {inline / pool:.2f}x; Dask against the pool {pool / dask:.2f}x")
    print(f"results.csv identical in all {len(_VARIANTS) * args.rounds} runs: {len(csv) == 1}")
    print(f"after: {_load()}")


if __name__ == "__main__":
    main()
