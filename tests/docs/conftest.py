"""The executed notebooks and the built documentation, made once per test run.

The notebooks are executed once; the documentation is built from a copy of ``docs/`` that holds
those executed notebooks, so the pages checked here render the very outputs the notebook tests
checked. Under ``pytest -n N`` the worker processes share one copy: the first worker that needs
it makes it under a file lock, the others wait for it and read it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
from filelock import FileLock

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


def _made_once(
    tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[Path], None]
) -> Path:
    """Return the folder `name` shared by this run's test processes, made once by `make`."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's folder, above every worker's own
    folder, done = root / name, root / f"{name}.done"
    with FileLock(str(root / f"{name}.lock")):
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            make(folder)
            done.touch()
    return folder


@pytest.fixture(scope="session")
def notebook_runner() -> ModuleType:
    """The module that executes the notebooks."""
    pytest.importorskip("jupytext")
    pytest.importorskip("nbclient")
    return _runner()


@pytest.fixture(scope="session")
def docs_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of ``docs/`` without build output; the executed notebooks go into it."""

    def copy(folder: Path) -> None:
        shutil.copytree(DOCS, folder / "src", ignore=shutil.ignore_patterns("_build", "notebooks"))

    return _made_once(tmp_path_factory, "docs", copy) / "src"


@pytest.fixture(scope="session")
def executed_notebooks(
    notebook_runner: ModuleType, docs_source: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """Every notebook executed once, keyed by name; written into the docs copy."""
    out = docs_source / "notebooks"

    def execute(folder: Path) -> None:
        executed = {}
        for source in notebook_runner.notebook_sources():
            target, _ = notebook_runner.execute(source, out)
            executed[source.stem] = str(target)
        folder.mkdir(parents=True)
        (folder / "executed.json").write_text(json.dumps(executed), encoding="utf-8")

    index = _made_once(tmp_path_factory, "notebooks", execute) / "executed.json"
    return {name: Path(path) for name, path in json.loads(index.read_text()).items()}


@pytest.fixture(scope="session")
def built_docs(
    executed_notebooks: dict[str, Path],
    docs_source: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """The HTML documentation, built with warnings as errors; its folder."""
    pytest.importorskip("sphinx")
    pytest.importorskip("numpydoc")
    pytest.importorskip("pydata_sphinx_theme")
    return _made_once(tmp_path_factory, "html", lambda html: _sphinx(docs_source, html))


def _sphinx(source: Path, html: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-E",
            "-q",
            str(source),
            str(html),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
