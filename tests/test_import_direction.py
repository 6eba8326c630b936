"""Dependency direction between the packages, checked on the source and at import time."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("spectra", "models", "attacks", "rnnscope")
FORBIDDEN = {
    "spectra": {"torch", "models", "attacks", "rnnscope", "foolbox"},
    "models": {"attacks", "rnnscope", "foolbox"},
    "attacks": {"models", "rnnscope"},
    "rnnscope": set(),
}


def _sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _imports(path: Path) -> list[tuple[int, str, bool]]:
    """Return ``(line, top-level module, at module level)`` for every absolute import."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str, bool]] = []

    def visit(node: ast.AST, module_level: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                found.extend(
                    (child.lineno, a.name.split(".")[0], module_level) for a in child.names
                )
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                found.append((child.lineno, child.module.split(".")[0], module_level))
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                visit(child, False)
            elif isinstance(child, ast.If) and _is_type_checking(child.test):
                visit(child, False)  # annotations only, never executed
            else:
                visit(child, module_level)

    visit(tree, True)
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


@pytest.mark.parametrize("package", PACKAGES)
def test_import_direction(package: str) -> None:
    files = _sources(package)
    assert files, f"no sources found for {package}"
    bad = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in files
        for line, module, _ in _imports(path)
        if module in FORBIDDEN[package]
    ]
    assert not bad, "\n".join(bad)


def test_spectra_imports_matplotlib_only_lazily() -> None:
    bad = [
        f"{path.relative_to(ROOT)}:{line} imports matplotlib at module level"
        for path in _sources("spectra")
        for line, module, module_level in _imports(path)
        if module == "matplotlib" and module_level
    ]
    assert not bad, "\n".join(bad)


def test_spectra_imports_without_torch_or_matplotlib() -> None:
    code = (
        "import sys\n"
        "import spectra, spectra.plot, spectra.matrices\n"
        "assert 'torch' not in sys.modules, 'torch'\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib'\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=env, timeout=120)
