"""The Examples sections of the spectra package run as written, and none is skipped."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import spectra

MODULES = [
    "spectra",
    *sorted(info.name for info in pkgutil.walk_packages(spectra.__path__, prefix="spectra.")),
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
