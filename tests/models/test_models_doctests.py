"""The Examples sections of the models package run as written, and none is skipped."""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil

import pytest

import models

MODULES = [
    "models",
    *sorted(info.name for info in pkgutil.walk_packages(models.__path__, prefix="models.")),
]


@pytest.mark.parametrize("name", MODULES)
def test_examples(name: str) -> None:
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder()
    tests = finder.find(module, name)
    skipped = [
        f"{test.name} line {example.lineno}"
        for test in tests
        for example in test.examples
        if example.options.get(doctest.SKIP)
    ]
    assert not skipped, f"skipped examples in {name}: {', '.join(skipped)}"
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.failed == 0, f"{result.failed} failing examples in {name}"


def test_public_functions_have_examples() -> None:
    """Every function of ``models.__all__`` shows how it is called."""
    missing = [
        name
        for name in models.__all__
        if inspect.isfunction(getattr(models, name))
        and ">>>" not in (getattr(models, name).__doc__ or "")
    ]
    assert not missing, f"public names without an Example: {', '.join(missing)}"
