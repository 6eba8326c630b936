"""Figures of one recurrent matrix: pseudospectrum, Schur form with its chain, transient growth.

Thin wrappers that draw with :mod:`spectra.plot` on a fresh :class:`matplotlib.figure.Figure`
(see :mod:`rnnscope.figures`). Given a :class:`rnnscope.analysis.MatrixAnalysis` they draw the
Schur form, chain and transient growth it already holds; given a bare matrix they compute them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np

from rnnscope.analysis import TRANSIENT_STEPS, MatrixAnalysis, as_numpy
from rnnscope.figures import new_figure, plain_text, save_figure, unique_filenames
from rnnscope.matrix_context import MatrixContext

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "pseudospectrum_figure",
    "schur_figure",
    "transient_figure",
    "write_matrix_plots",
]


def pseudospectrum_figure(
    W: Any,
    *,
    eps: Sequence[float],
    grid: int = 100,
    overlay: Any = None,
    title: str = "",
) -> Figure:
    r"""Figure of the :math:`\varepsilon`-pseudospectra of `W` with its eigenvalues.

    Parameters
    ----------
    W : (N, N) array_like, torch.Tensor or MatrixAnalysis
        The matrix.
    eps : sequence of float
        Contour levels.
    grid : int, optional
        Grid points per axis.
    overlay : array_like of complex, optional
        Extra eigenvalues (e.g. of perturbed matrices :math:`W + E`) drawn as small points.
    title : str, optional
        Axes title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (unit circle drawn).

    Raises
    ------
    spectra.errors.SpectraError
        If `W` is not a finite square matrix or the grid is too large.

    Examples
    --------
    >>> fig = pseudospectrum_figure(np.diag([0.5, 0.9]), eps=[0.1], grid=20)
    >>> len(fig.axes) >= 1
    True
    """
    import spectra
    import spectra.plot

    A = W.matrix if isinstance(W, MatrixAnalysis) else as_numpy(W)
    ps = spectra.pseudospectrum(A, n=grid)
    # Draw eigenvalues in a canonical order, so the figure does not depend on the order in
    # which an eigensolver returns a conjugate pair.
    view = SimpleNamespace(
        re=ps.re, im=ps.im, sigma=ps.sigma, eigenvalues=np.sort_complex(ps.eigenvalues)
    )
    fig, ax = new_figure(5.0, 4.6)
    points = (
        None if overlay is None else np.sort_complex(np.asarray(overlay, dtype=complex).ravel())
    )
    spectra.plot.pseudospectrum(view, eps=list(eps), ax=ax, unit_circle=True, overlay=points)
    if title:
        ax.set_title(plain_text(title))
    return fig


def schur_figure(W: Any, *, title: str = "") -> Figure:
    """Heatmap of :math:`|T|` of the Schur form of `W`, with the detected chain highlighted.

    Parameters
    ----------
    W : (N, N) array_like, torch.Tensor or MatrixAnalysis
        The matrix, or its analysis (whose Schur form and chain are drawn).
    title : str, optional
        Axes title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.

    Raises
    ------
    spectra.errors.SpectraError
        If `W` is not a finite square matrix.

    Examples
    --------
    >>> fig = schur_figure(np.eye(3, k=1))
    >>> from rnnscope.analysis import analyze_matrix
    >>> fig = schur_figure(analyze_matrix("W", np.eye(3, k=1)))
    """
    import spectra.plot

    shared = W if isinstance(W, MatrixAnalysis) else MatrixContext(as_numpy(W))
    fig, ax = new_figure(5.0, 4.4)
    spectra.plot.schur(shared.schur, ax=ax, path=shared.chain.path)
    if title:
        ax.set_title(plain_text(title))
    return fig


def transient_figure(W: Any, *, steps: int = TRANSIENT_STEPS, title: str = "") -> Figure:
    r"""Plot :math:`\|W^k\|_2` against :math:`k`.

    Parameters
    ----------
    W : (N, N) array_like, torch.Tensor or MatrixAnalysis
        The matrix, or its analysis (whose transient growth is drawn).
    steps : int, optional
        Largest power (of a bare matrix; an analysis keeps its own).
    title : str, optional
        Axes title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.

    Raises
    ------
    spectra.errors.SpectraError
        If `W` is not a finite square matrix.

    Examples
    --------
    >>> fig = transient_figure(np.eye(3) * 0.5, steps=10)
    """
    import spectra
    import spectra.plot

    if isinstance(W, MatrixAnalysis):
        growth = W.transient
    else:
        with np.errstate(over="ignore", invalid="ignore"):
            growth = np.asarray(spectra.transient_growth(as_numpy(W), steps), dtype=float)
    fig, ax = new_figure(5.0, 3.6)
    spectra.plot.transient(growth, ax=ax)
    if title:
        ax.set_title(plain_text(title))
    return fig


def write_matrix_plots(
    matrices: Mapping[str, Any] | Sequence[MatrixAnalysis],
    folder: str | os.PathLike[str],
    *,
    eps: Sequence[float],
    grid: int = 100,
) -> list[Path]:
    """Write ``<name>-pseudospectrum.svg``, ``<name>-schur.svg`` and ``<name>-transient.svg``.

    Parameters
    ----------
    matrices : mapping of str to matrix, or sequence of MatrixAnalysis
        Named recurrent matrices or their analyses (names are reduced to safe file names,
        distinct for distinct names: see :func:`rnnscope.figures.unique_filenames`).
    folder : str or path-like
        Existing output folder.
    eps : sequence of float
        Pseudospectrum contour levels.
    grid : int, optional
        Pseudospectrum grid points per axis.

    Returns
    -------
    list of pathlib.Path
        The written files.

    Raises
    ------
    spectra.errors.SpectraError
        If a matrix is not finite and square.

    Examples
    --------
    >>> import tempfile
    >>> len(write_matrix_plots({"W": np.eye(2)}, tempfile.mkdtemp(), eps=[0.1], grid=20))
    3
    """
    figures: list[tuple[Path, Figure, str]] = []
    out = Path(folder)
    named = (
        list(matrices.items())
        if isinstance(matrices, Mapping)
        else [(analysis.name, analysis) for analysis in matrices]
    )
    stems = unique_filenames(name for name, _ in named)
    for name, W in named:
        stem = stems[name]
        figures.append(
            (
                out / f"{stem}-pseudospectrum.svg",
                pseudospectrum_figure(W, eps=eps, grid=grid, title=f"{name}: pseudospectra"),
                f"{stem}-pseudospectrum",
            )
        )
        figures.append(
            (out / f"{stem}-schur.svg", schur_figure(W, title=f"{name}: |T|"), f"{stem}-schur")
        )
        figures.append(
            (
                out / f"{stem}-transient.svg",
                transient_figure(W, title=f"{name}: transient growth"),
                f"{stem}-transient",
            )
        )
    return [save_figure(fig, path, salt=salt) for path, fig, salt in figures]
