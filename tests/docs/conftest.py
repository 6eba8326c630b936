"""The executed notebooks and the built documentation, made once per test session.

The notebooks are executed once; the documentation is built from a copy of ``docs/`` that holds
those executed notebooks, so the pages checked here render the very outputs the notebook tests
checked.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).parents[2]
DOCS = ROOT / "docs"


def _runner() -> ModuleType:
    """The notebook runner ``docs/execute_notebooks.py`` as a module."""
    path = DOCS / "execute_notebooks.py"
    spec = importlib.util.spec_from_file_location("execute_notebooks", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def notebook_runner() -> ModuleType:
    """The module that executes the notebooks."""
    pytest.importorskip("jupytext")
    pytest.importorskip("nbclient")
    return _runner()


@pytest.fixture(scope="session")
def docs_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of ``docs/`` without build output; the executed notebooks go into it."""
    target = tmp_path_factory.mktemp("docs") / "src"
    shutil.copytree(DOCS, target, ignore=shutil.ignore_patterns("_build", "notebooks"))
    return target


@pytest.fixture(scope="session")
def executed_notebooks(notebook_runner: ModuleType, docs_source: Path) -> dict[str, Path]:
    """Every notebook executed once, keyed by name; written into the docs copy."""
    out = docs_source / "notebooks"
    executed = {}
    for source in notebook_runner.notebook_sources():
        target, _ = notebook_runner.execute(source, out)
        executed[source.stem] = target
    return executed


@pytest.fixture(scope="session")
def built_docs(executed_notebooks: dict[str, Path], docs_source: Path) -> Path:
    """The HTML documentation, built with warnings as errors; its folder."""
    pytest.importorskip("sphinx")
    pytest.importorskip("numpydoc")
    pytest.importorskip("pydata_sphinx_theme")
    html = docs_source.parent / "html"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-E",
            "-q",
            str(docs_source),
            str(html),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return html
