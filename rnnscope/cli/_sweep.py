"""``rnnscope sweep``: train, analyze and attack every point of a grid of settings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rnnscope.cli import _app
from rnnscope.cli._app import app


@app.command(
    "sweep", epilog="Example: rnnscope sweep examples/orhan_pitkow_digits.toml --out sweeps/op"
)
def _sweep_command(
    spec: Annotated[Path, typer.Argument(help="TOML file: task, grid of settings and budgets.")],
    out: Annotated[Path, typer.Option("--out", help="Sweep folder (runs/, results.csv/json).")],
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Dask scheduler address (default: local).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="Workers of the local cluster.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List the runs and their estimated cost.")
    ] = False,
) -> int:
    """Train, analyze and attack every point of a grid of settings, on Dask when installed."""
    from rnnscope.sweep.command import sweep_command

    _app.require_input(spec)
    return sweep_command(
        spec,
        out,
        scheduler=scheduler,
        workers=workers,
        dry_run=dry_run,
        console=_app.stdout_console(),
        progress=_app.show_progress(),
        warn=_app.warn,
    )
