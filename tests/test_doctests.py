"""The Examples sections of spectra, models, attacks and rnnscope run as written; none is skipped.

Every module of the four packages (subpackages included) is collected; a ``+SKIP`` example is
refused in each, and a failing example fails its module's test.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil

import pytest

import attacks
import models
import rnnscope
import spectra

PACKAGES = (spectra, models, attacks, rnnscope)


def _modules() -> list[str]:
    """Every module of the four packages, the packages first, ``__main__`` modules left out."""
    names = []
    for package in PACKAGES:
        prefix = f"{package.__name__}."
        found = sorted(info.name for info in pkgutil.walk_packages(package.__path__, prefix))
        names += [package.__name__, *(n for n in found if not n.endswith(".__main__"))]
    return names


MODULES = _modules()

#: Modules whose examples document the dynamics layer: each must have at least one.
WITH_EXAMPLES = (
    "models.base",
    "models.one_step",
    "models.tasks.flipflop",
    "models.dynamics",
    "models.dynamics.chains",
    "models.dynamics.fixed_points",
    "models.dynamics.foreign",
    "models.dynamics.gradient_flow",
    "models.dynamics.plot",
    "models.dynamics.trajectories",
    "spectra.lyapunov",
    "spectra._frames",
)


@pytest.mark.parametrize("name", MODULES)
def test_examples(name: str) -> None:
    module = importlib.import_module(name)
    skipped = [
        f"{test.name} line {example.lineno}"
        for test in doctest.DocTestFinder().find(module, name)
        for example in test.examples
        if example.options.get(doctest.SKIP)
    ]
    assert not skipped, f"skipped examples in {name}: {', '.join(skipped)}"
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.failed == 0, f"{result.failed} failing examples in {name}"
    if name in WITH_EXAMPLES:
        assert result.attempted > 0, f"no examples in {name}"


def test_the_dynamics_modules_are_collected() -> None:
    missing = sorted(set(WITH_EXAMPLES) - set(MODULES))
    assert not missing, f"not collected: {', '.join(missing)}"


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.__name__)
def test_public_functions_have_examples(package: object) -> None:
    """Every function of a package's ``__all__`` shows how it is called."""
    missing = [
        name
        for name in package.__all__
        if inspect.isfunction(getattr(package, name))
        and ">>>" not in (getattr(package, name).__doc__ or "")
    ]
    assert not missing, f"public names without an Example: {', '.join(missing)}"
