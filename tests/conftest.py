"""Shared test configuration: a global seed, a non-interactive matplotlib backend, and one
compute thread per process in parallel runs (``pytest -n 2 --dist loadfile``, as ``make test``)."""

from __future__ import annotations

import os
import random

if os.environ.get("PYTEST_XDIST_WORKER"):
    # One compute thread per test process: the workers share the cores between them. Set
    # before numpy and torch are imported, since their thread pools read it once.
    for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_name, "1")

import numpy as np
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(autouse=True)
def _global_seed() -> None:
    """Seed the global generators so that a test that forgets a seed is still repeatable."""
    random.seed(0)
    np.random.seed(0)  # noqa: NPY002
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a hard dependency
        return
    torch.manual_seed(0)
