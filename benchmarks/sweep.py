"""Speed-up of an 8-point sweep on a 2-worker Dask LocalCluster over the same sweep in-process.

The sweep: ELU RNNs (hidden 64) on permuted digits, chain / orthogonal inits x 4 seeds, each
trained for ``--steps`` steps (default: the default of ``rnnscope train``), analyzed, and
attacked in L-inf (FGSM and PGD, 4 budgets, 64 samples). Both runs start from an empty folder
and use one compute thread per process. The Dask time is end to end: it includes starting the
cluster and importing torch in the workers, as a user of ``rnnscope sweep`` would wait for it;
that fixed cost is also timed on its own (a cluster started, every worker made to import what a
point needs, the cluster closed) and printed with the speed-up it leaves out. The two
results.csv files are compared byte for byte. The load average before and after is printed: on
a machine shared with other work the ratio is only meaningful when the load stays below the
number of cores.

Usage: ``python benchmarks/sweep.py [--steps N] [--workers 2]``
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

# This folder holds attacks.py, which would shadow the attacks package here and in the workers.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

from rnnscope.settings import TrainSettings  # noqa: E402
from rnnscope.sweep import parse_spec, plan_sweep, run_sweep  # noqa: E402
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
samples = 64
steps = 10
"""


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} CPU(s)"


def _warm() -> float:
    """Import on a worker what a point needs; return the seconds it took."""
    start = time.perf_counter()
    import rnnscope.analysis
    import rnnscope.attack
    import rnnscope.sweep.point
    import rnnscope.training  # noqa: F401

    return time.perf_counter() - start


def _fixed_cost(workers: int) -> float:
    """Seconds to start the sweep's own LocalCluster, warm every worker and close it."""
    start = time.perf_counter()
    with _client(None, workers, lambda message: None) as client:
        client.run(_warm)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--steps", type=int, default=TrainSettings().steps, help="training steps per point"
    )
    parser.add_argument("--workers", type=int, default=2, help="LocalCluster workers")
    args = parser.parse_args()
    plan = plan_sweep(parse_spec(SPEC.format(steps=args.steps), source="bench"))
    assert len(plan.points) == 8
    print(f"8-point sweep, {args.steps} training steps per point; before: {_load()}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        inline = run_sweep(plan, root / "inline", in_process=True)
        inline_s = time.perf_counter() - start
        start = time.perf_counter()
        dask = run_sweep(plan, root / "dask", workers=args.workers, notify=print)
        dask_s = time.perf_counter() - start
        fixed_s = _fixed_cost(args.workers)
        assert set(inline.statuses.values()) == {"ok"}, inline.statuses
        assert set(dask.statuses.values()) == {"ok"}, dask.statuses
        same = (root / "inline" / "results.csv").read_bytes() == (
            root / "dask" / "results.csv"
        ).read_bytes()
    print(f"in-process: {inline_s:7.1f} s")
    print(f"dask, {args.workers} workers: {dask_s:7.1f} s (cluster start, worker imports included)")
    print(f"speed-up: {inline_s / dask_s:.2f}x  (target >= 1.7x on 2 cores)")
    print(
        f"fixed cost of the cluster (start, worker imports, close): {fixed_s:.1f} s; "
        f"speed-up without it: {inline_s / max(dask_s - fixed_s, 1e-9):.2f}x"
    )
    print(f"results.csv identical: {same}")
    print(f"after: {_load()}")


if __name__ == "__main__":
    main()
