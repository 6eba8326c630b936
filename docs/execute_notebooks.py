"""Execute the notebooks (jupytext percent scripts) and write ``.ipynb`` copies with outputs.

The percent scripts in ``notebooks/`` are the source; this writes their executed copies, which the
documentation renders as they are (myst-nb does not execute them again). Each notebook runs in a
fresh kernel with a temporary working directory, so it writes nothing into the repository.

Usage: ``python docs/execute_notebooks.py [--out docs/notebooks] [NAME ...]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import jupytext
import nbformat
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "notebooks"
DEFAULT_OUT = ROOT / "docs" / "notebooks"


def notebook_sources() -> list[Path]:
    """Return the percent scripts in reading order (their names start with a number)."""
    return sorted(SOURCES.glob("[0-9][0-9]_*.py"))


def execute(source: Path, out: Path, *, timeout: int = 600) -> tuple[Path, float]:
    """Execute one percent script and write its executed notebook into ``out``.

    Parameters
    ----------
    source : Path
        The jupytext percent script.
    out : Path
        Folder of the executed ``.ipynb`` (created if missing).
    timeout : int
        Seconds one cell may take.

    Returns
    -------
    (Path, float)
        The written notebook and the seconds its execution took.
    """
    notebook = jupytext.read(source)
    notebook.metadata["kernelspec"] = {
        "display_name": "Python 3",
        "language": "python",
        "name": "python3",
    }
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="rnnscope-nb-") as workdir:
        manager = KernelManager(kernel_name="python3", transport="ipc")
        manager.ip = os.path.join(workdir, "kernel")
        client = NotebookClient(
            notebook,
            km=manager,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": workdir}},
        )
        # Figures are kept as inline images even when MPLBACKEND (e.g. Agg) is set around us.
        env = {**os.environ, "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
        try:
            client.execute(env=env)
        finally:
            if manager.has_kernel:
                manager.shutdown_kernel()
    seconds = time.perf_counter() - start
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{source.stem}.ipynb"
    partial = target.with_name(f".{target.name}.tmp")
    nbformat.write(notebook, partial)
    os.replace(partial, target)
    return target, seconds


def main(argv: list[str] | None = None) -> int:
    """Execute the notebooks named on the command line (default: all)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebook names (default: all)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    sources = notebook_sources()
    if args.names:
        sources = [path for path in sources if path.stem in args.names]
    os.environ.setdefault("MPLBACKEND", "Agg")
    for source in sources:
        target, seconds = execute(source, args.out)
        print(
            f"{target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}: "
            f"{seconds:.1f} s",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
