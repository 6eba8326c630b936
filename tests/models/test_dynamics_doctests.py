"""The Examples of models.dynamics, the step methods and spectra.lyapunov run as written."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "models.base",
    "models.tasks.flipflop",
    "models.dynamics",
    "models.dynamics.chains",
    "models.dynamics.fixed_points",
    "models.dynamics.foreign",
    "models.dynamics.gradient_flow",
    "models.dynamics.plot",
    "models.dynamics.trajectories",
    "spectra.lyapunov",
]


@pytest.mark.parametrize("name", MODULES)
def test_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.attempted > 0, f"no examples in {name}"
    assert result.failed == 0, f"{result.failed} failing examples in {name}"
