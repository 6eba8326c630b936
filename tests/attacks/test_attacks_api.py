"""Package boundaries and public API of ``attacks``."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import pathlib
import subprocess
import sys

import attacks

PACKAGE = pathlib.Path(attacks.__file__).parent


def _imports(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_attacks_never_imports_models_or_rnnscope():
    for path in PACKAGE.glob("*.py"):
        assert not _imports(path) & {"models", "rnnscope"}, path.name


def test_foolbox_and_eagerpy_only_in_the_adapter():
    for path in PACKAGE.glob("*.py"):
        if path.name != "_foolbox.py":
            assert not _imports(path) & {"foolbox", "eagerpy"}, path.name
    assert {"foolbox", "eagerpy"} <= _imports(PACKAGE / "_foolbox.py")


def test_clean_import():
    """No DeprecationWarning escapes (foolbox's scipy one is filtered); no models import."""
    code = (
        "import sys, warnings; warnings.simplefilter('error', DeprecationWarning); "
        "import attacks, attacks._foolbox; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('models', 'rnnscope')]; "
        "sys.exit(len(bad))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_public_api_documented():
    for name in attacks.__all__:
        obj = getattr(attacks, name)
        if not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue
        doc = inspect.getdoc(obj) or ""
        assert doc, name
        if inspect.isfunction(obj):
            for section in ("Parameters", "Returns", "Raises", "Examples"):
                assert section in doc, f"{name} lacks {section}"
            hints = inspect.get_annotations(obj)
            assert "return" in hints, name
            params = inspect.signature(obj).parameters.values()
            assert [p.name for p in params if p.kind is p.KEYWORD_ONLY], name


def test_results_are_frozen_dataclasses_with_to_dict():
    for cls in (
        attacks.RobustnessCurve,
        attacks.MinimalPerturbation,
        attacks.NoiseCurve,
        attacks.WeightNoiseResult,
        attacks.CertifiedRadius,
        attacks.SanityReport,
        attacks.Check,
    ):
        assert dataclasses.is_dataclass(cls)
        assert cls.__dataclass_params__.frozen, cls.__name__
        assert callable(cls.to_dict)
