"""``rnnscope pseudospectrum``: the figure of one recurrent matrix's epsilon-pseudospectra."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from rnnscope.cli import _app
from rnnscope.cli._app import EPS_DEFAULT, GRID_DEFAULT, Grid, MaxSize, app
from rnnscope.options import DEFAULT_MAX_SIZE, parse_floats


@app.command(
    "pseudospectrum", epilog="Example: rnnscope pseudospectrum runs/rnn --grid 120 --out ps.svg"
)
def _pseudospectrum_command(
    path: Annotated[Path, typer.Argument(help="Checkpoint folder or matrix file.")],
    out: Annotated[Path, typer.Option("--out", help="Figure file: .svg, .png or .pdf.")],
    matrix: Annotated[
        str | None, typer.Option("--matrix", help="Matrix name (default: the principal one).")
    ] = None,
    grid: Grid = GRID_DEFAULT,
    eps: Annotated[str, typer.Option("--eps", help="Contour levels.")] = EPS_DEFAULT,
    convention: Annotated[str | None, typer.Option("--convention", help="row or column.")] = None,
    max_size: MaxSize = DEFAULT_MAX_SIZE,
) -> None:
    """Plot the epsilon-pseudospectra of one recurrent matrix with its eigenvalues."""
    import models
    from rnnscope.figures import FIGURE_SUFFIXES
    from rnnscope.files import check_output_file

    eps_values = parse_floats(eps, name="--eps")
    convention = _app.parse_convention(convention)
    _app.require_input(path)
    dest = check_output_file(out, suffixes=FIGURE_SUFFIXES, what="--out")
    if matrix is None:
        from rnnscope.analysis import principal_name

        checkpoint = models.load(path, convention=convention, max_size=max_size)
        name = principal_name(checkpoint)
        W = checkpoint.recurrent_matrix()
    elif matrix in (recognised := _recognised_matrices(path, convention, max_size)):
        W, name = recognised[matrix], matrix
    else:
        checkpoint = models.load(path, convention=convention, matrix=[matrix], max_size=max_size)
        name = next(iter(checkpoint.matrices))
        W = checkpoint.matrices[name]
    from rnnscope.figures import save_figure
    from rnnscope.plots import pseudospectrum_figure

    fig = pseudospectrum_figure(W, eps=eps_values, grid=grid, title=name)
    save_figure(fig, dest, salt=f"rnnscope-{name}")
    _app.warn(f"wrote {dest}")


def _recognised_matrices(path: Path, convention: str | None, max_size: int) -> dict[str, Any]:
    """Return the recurrent matrices recognised in ``path`` (none if its tensors are not).

    ``--matrix`` then names a tensor key instead (files of arbitrary tensors).
    """
    import models
    from models.errors import CheckpointError
    from models.formats import FormatError

    try:
        return dict(models.load(path, convention=convention, max_size=max_size).matrices)
    except CheckpointError as err:
        if isinstance(err.__cause__, FormatError):
            return {}  # the load by key reports its own error if the key does not fit either
        raise
