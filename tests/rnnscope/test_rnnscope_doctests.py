"""The Examples sections of the rnnscope package run as written."""

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
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.failed == 0, f"{result.failed} failing examples in {name}"
