"""Sweeps: the product of a SPEC's settings, one train-analyze-attack run per point, on Dask.

``rnnscope sweep SPEC --out DIR`` reads a TOML SPEC (:mod:`rnnscope.sweep.spec`), expands it into
points with stable ids (:mod:`rnnscope.sweep.plan`), runs every unfinished point as one task on
Dask distributed or in this process (:mod:`rnnscope.sweep.runner`, :mod:`rnnscope.sweep.point`)
and gathers ``DIR/results.csv`` and ``DIR/results.json`` (:mod:`rnnscope.sweep.gather`).
Importing this package does not import Dask.
"""

from __future__ import annotations

from rnnscope.sweep.errors import SweepError, SweepSpecError
from rnnscope.sweep.gather import gather_results, read_results, write_results
from rnnscope.sweep.plan import (
    CostEstimate,
    SweepPlan,
    SweepPoint,
    estimate_cost,
    plan_sweep,
    point_state,
)
from rnnscope.sweep.point import run_point
from rnnscope.sweep.run import SweepOutcome, describe_point, plan_states, run_sweep
from rnnscope.sweep.runner import SweepListener, dask_available, run_points
from rnnscope.sweep.spec import SweepSpec, load_spec, parse_spec

__all__ = [
    "CostEstimate",
    "SweepError",
    "SweepListener",
    "SweepOutcome",
    "SweepPlan",
    "SweepPoint",
    "SweepSpec",
    "SweepSpecError",
    "dask_available",
    "describe_point",
    "estimate_cost",
    "gather_results",
    "load_spec",
    "parse_spec",
    "plan_states",
    "plan_sweep",
    "point_state",
    "read_results",
    "run_point",
    "run_points",
    "run_sweep",
    "write_results",
]
