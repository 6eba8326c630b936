"""``rnnscope analyze``: spectral and non-normality measures of every recurrent matrix."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from rnnscope.cli import _app
from rnnscope.cli._app import EPS_DEFAULT, EPS_HELP, GRID_DEFAULT, Grid, MaxSize, app
from rnnscope.options import DEFAULT_MAX_SIZE, parse_floats


@app.command(
    "analyze",
    epilog="Example: rnnscope analyze runs/rnn --json --plots figures/ --eps 1e-3,1e-2,1e-1",
)
def _analyze_command(
    path: Annotated[Path, typer.Argument(help="Checkpoint folder or weights/matrix file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    plots: Annotated[
        Path | None, typer.Option("--plots", help="Folder for the figures of every matrix.")
    ] = None,
    eps: Annotated[str, typer.Option("--eps", help=EPS_HELP)] = EPS_DEFAULT,
    list_tensors: Annotated[
        bool, typer.Option("--list", help="List every tensor, its shape and whether it is square.")
    ] = False,
    matrix: Annotated[
        list[str] | None,
        typer.Option("--matrix", help="Analyze this square tensor key (repeatable)."),
    ] = None,
    convention: Annotated[
        str | None,
        typer.Option("--convention", help="row or column: how the file's matrices act on h."),
    ] = None,
    grid: Grid = GRID_DEFAULT,
    max_size: MaxSize = DEFAULT_MAX_SIZE,
) -> None:
    """Spectral and non-normality measures of every recurrent matrix in a checkpoint."""
    import models

    eps_values = parse_floats(eps, name="--eps")
    convention = _app.parse_convention(convention)
    _app.require_input(path)
    if list_tensors:
        from rnnscope.tables import print_tensor_list

        infos = models.list_tensors(path)
        if as_json:
            from rnnscope.jsonio import dumps

            rows = [{"key": i.key, "shape": list(i.shape), "square": bool(i.square)} for i in infos]
            sys.stdout.write(dumps({"source": str(path), "tensors": rows}))
        else:
            print_tensor_list(_app.stdout_console(), str(path), infos)
        return
    if plots is not None:
        from rnnscope.files import check_output_dir

        check_output_dir(plots, what="--plots")
    checkpoint = models.load(
        path, convention=convention, matrix=list(matrix) if matrix else None, max_size=max_size
    )
    from rnnscope.analysis import analyze_checkpoint

    for block, reason in sorted(checkpoint.skipped.items()):
        _app.warn(f"skipped {block}: {reason}")
    result = analyze_checkpoint(checkpoint, eps=eps_values, progress=_app.show_progress())
    if plots is not None:
        from rnnscope.files import prepare_output_dir
        from rnnscope.plots import write_matrix_plots

        plots_dir = prepare_output_dir(plots, what="--plots")
        written = write_matrix_plots(result.matrices, plots_dir, eps=eps_values, grid=grid)
        _app.warn(f"wrote {len(written)} figures to {plots_dir}")
    if as_json:
        from rnnscope.jsonio import dumps

        sys.stdout.write(dumps(result.to_dict()))
    else:
        from rnnscope.tables import print_analysis

        print_analysis(_app.stdout_console(), result)
