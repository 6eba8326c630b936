"""The Examples sections of the rnnscope package (subpackages included) run, none is skipped."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import rnnscope

NAMES = sorted(info.name for info in pkgutil.walk_packages(rnnscope.__path__, "rnnscope."))
MODULES = ["rnnscope", *(name for name in NAMES if name != "rnnscope.__main__")]


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
