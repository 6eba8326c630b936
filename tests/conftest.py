"""Shared test configuration: a global seed and a non-interactive matplotlib backend."""

from __future__ import annotations

import os
import random

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
