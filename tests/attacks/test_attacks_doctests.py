"""The Examples sections of the attacks package run as written."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import attacks

NAMES = sorted(info.name for info in pkgutil.iter_modules(attacks.__path__))
MODULES = ["attacks", *(f"attacks.{name}" for name in NAMES)]


@pytest.mark.parametrize("name", MODULES)
def test_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.failed == 0, f"{result.failed} failing examples in {name}"
