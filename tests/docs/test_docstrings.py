"""Every public docstring of the four packages passes numpydoc's validation.

Public means every name in a package's ``__all__`` and, for classes, every public method and
property they define. The checks are numpydoc's own (``numpydoc.validate``); the ones left out
are listed with the reason.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from numpydoc.validate import validate

PACKAGES = ("spectra", "models", "attacks", "rnnscope")
API = Path(__file__).parents[2] / "docs" / "api.rst"

#: Checks not enforced: extended summaries, See Also and Examples sections are encouraged, not
#: required on every name (errors and small records have none worth writing); ``GL01``/``SS06``
#: are layout preferences that the project's ruff docstring rules already settle; ``SS05`` reads
#: any first word ending in "s" as a third-person verb ("Logits of a batch"), while ruff's
#: ``D401`` checks the mood of summaries with a list of verbs.
IGNORED = {"ES01", "SA01", "EX01", "GL01", "SS05", "SS06", "RT02", "PR09", "RT05", "YD01"}


def _own(obj: object) -> bool:
    """Whether an object is defined in one of the project's packages."""
    module = getattr(obj, "__module__", "") or ""
    return module.split(".")[0] in PACKAGES


def _documented_modules() -> list[str]:
    """Modules the API reference renders (its ``automodule`` directives)."""
    text = API.read_text(encoding="utf-8")
    return re.findall(r"^\.\. automodule:: (\S+)", text, flags=re.MULTILINE)


def _public_modules() -> Iterator[ModuleType]:
    """The packages, the modules the API reference renders, and the public modules they list."""
    names = [*PACKAGES, *_documented_modules()]
    pending = [importlib.import_module(name) for name in names]
    seen: set[str] = set()
    while pending:
        module = pending.pop(0)
        if module.__name__ in seen:
            continue
        seen.add(module.__name__)
        yield module
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name, None)
            if inspect.ismodule(obj) and obj.__name__.split(".")[0] in PACKAGES:
                pending.append(obj)


def _public_names() -> Iterator[str]:
    """Dotted import paths of every public callable and class, methods included."""
    seen = set()
    for module in _public_modules():
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if inspect.ismodule(obj) or not (inspect.isclass(obj) or callable(obj)):
                continue
            if not _own(obj):
                continue
            path = f"{obj.__module__}.{obj.__qualname__}"
            if path in seen:
                continue
            seen.add(path)
            yield path
            if inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    method = inspect.isfunction(member) and member.__name__ == attr
                    if attr.startswith("_") or not (method or isinstance(member, property)):
                        continue
                    yield f"{path}.{attr}"


NAMES = sorted(set(_public_names()))


def test_the_public_api_is_found() -> None:
    assert len(NAMES) > 150
    assert "models.dynamics.fixed_points.fixed_points" in NAMES
    assert "spectra.pseudospectra.pseudospectrum" in NAMES


def _validate(path: str) -> dict:
    """Run numpydoc's validation; a property it cannot locate is checked for its summary."""
    try:
        return validate(path)
    except StopIteration:
        # numpydoc finds no source line for some properties of frozen dataclasses.
        module_name, _, qualname = path.rpartition(".")
        owner_module, _, owner = module_name.rpartition(".")
        member = vars(getattr(importlib.import_module(owner_module), owner))[qualname]
        doc = inspect.getdoc(member) or ""
        errors = [] if doc.strip() else [("GL08", "The object does not have a docstring")]
        return {"type": "property", "docstring": doc, "errors": errors}


@pytest.mark.parametrize("path", NAMES)
def test_docstring_is_valid_numpydoc(path: str) -> None:
    result = _validate(path)
    errors = [(code, message) for code, message in result["errors"] if code not in IGNORED]
    if result["type"] == "type" and "Attributes" in (result.get("docstring") or ""):
        # A record documents its fields as attributes, not as constructor parameters.
        errors = [(code, message) for code, message in errors if not code.startswith("PR")]
    assert not errors, "\n".join(f"{code}: {message}" for code, message in errors)
