r"""Matplotlib figures of pseudospectra, Schur forms and transient growth.

matplotlib is imported inside the functions, so ``import spectra`` does not need it. Every
function draws on the given Axes (or on a new figure from :mod:`matplotlib.pyplot` when `ax` is
None), returns the Axes, never calls ``show()`` and never changes the backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["pseudospectrum", "schur", "transient"]

#: At most this many automatic contour levels.
_MAX_LEVELS = 8


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots()
    return ax


def _auto_levels(sigma: np.ndarray) -> np.ndarray:
    """Integer powers of ten inside the range of the positive finite values of `sigma`."""
    positive = sigma[np.isfinite(sigma) & (sigma > 0)]
    if positive.size == 0:
        return np.array([])
    lo = int(np.ceil(np.log10(positive.min())))
    hi = int(np.floor(np.log10(positive.max())))
    if hi < lo:
        return np.array([float(np.log10(np.median(positive)))])
    levels = np.arange(lo, hi + 1, dtype=float)
    return levels[-_MAX_LEVELS:]


def pseudospectrum(
    ps: Any,
    eps: float | Sequence[float] | None = None,
    ax: Axes | None = None,
    unit_circle: bool = True,
    *,
    overlay: ArrayLike | None = None,
) -> Axes:
    r"""Draw the :math:`\varepsilon`-pseudospectra boundaries with the eigenvalues.

    Contours of :math:`\log_{10}\sigma_{\min}(zI - A)` at :math:`\log_{10}\varepsilon`, in the
    style of EigTool, each labelled with its :math:`\varepsilon`.

    Parameters
    ----------
    ps : Pseudospectrum
        Any object with attributes ``re`` (nx,), ``im`` (ny,), ``sigma`` (ny, nx) and
        ``eigenvalues`` (N,) complex, such as :func:`spectra.pseudospectrum`'s result.
    eps : float or sequence of float, optional
        Levels :math:`\varepsilon > 0`. Default: the powers of ten inside the range of
        ``ps.sigma`` (at most 8, the largest ones).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; default a new figure from :mod:`matplotlib.pyplot`.
    unit_circle : bool, optional
        Draw the unit circle (dashed), the stability boundary of :math:`h_t = A h_{t-1}`.
    overlay : (M,) array_like of complex, optional
        Extra points drawn small, e.g. the eigenvalues of perturbed matrices :math:`A + E`.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.

    Raises
    ------
    ValueError
        If an entry of `eps` is not positive or `ps.sigma` does not have shape
        ``(len(ps.im), len(ps.re))``.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from matplotlib.figure import Figure
    >>> re = im = np.linspace(-2, 2, 41)
    >>> z = re[None, :] + 1j * im[:, None]
    >>> ps = SimpleNamespace(re=re, im=im, sigma=np.abs(z), eigenvalues=np.array([0j]))
    >>> ax = pseudospectrum(ps, eps=[0.1, 1.0], ax=Figure().add_subplot())
    >>> len(ax.collections) > 0
    True
    """
    re = np.asarray(ps.re, dtype=float)
    im = np.asarray(ps.im, dtype=float)
    sigma = np.asarray(ps.sigma, dtype=float)
    if sigma.shape != (im.size, re.size):
        raise ValueError(
            f"sigma must have shape (len(im), len(re)) = {(im.size, re.size)}, got {sigma.shape}"
        )
    if eps is None:
        levels = _auto_levels(sigma)
    else:
        values = np.atleast_1d(np.asarray(eps, dtype=float))
        if not (np.isfinite(values).all() and (values > 0).all()):
            raise ValueError(f"eps must be positive finite numbers, got {eps!r}")
        levels = np.unique(np.log10(values))
    ax = _axes(ax)
    with np.errstate(divide="ignore"):
        log_sigma = np.log10(np.where(sigma > 0, sigma, np.finfo(float).tiny))
    if levels.size:
        contours = ax.contour(re, im, log_sigma, levels=levels, cmap="viridis")
        ax.clabel(contours, fmt=lambda x: f"{10.0**x:.2g}", fontsize=7)
    if unit_circle:
        t = np.linspace(0.0, 2.0 * np.pi, 361)
        ax.plot(np.cos(t), np.sin(t), linestyle="--", color="0.5", linewidth=0.8)
    if overlay is not None:
        extra = np.ravel(np.asarray(overlay, dtype=complex))
        ax.plot(extra.real, extra.imag, ".", color="tab:red", markersize=2, alpha=0.6)
    eigenvalues = np.ravel(np.asarray(ps.eigenvalues, dtype=complex))
    ax.plot(eigenvalues.real, eigenvalues.imag, "k.", markersize=5)
    ax.set_xlim(re.min(), re.max())
    ax.set_ylim(im.min(), im.max())
    ax.set_aspect("equal")
    ax.set_xlabel("Re z")
    ax.set_ylabel("Im z")
    ax.set_title(r"$\varepsilon$-pseudospectra")
    return ax


def schur(sf: Any, ax: Axes | None = None, *, path: Any = None) -> Axes:
    """Draw :math:`|T|` of a Schur form as a heat map, optionally marking a chain.

    Parameters
    ----------
    sf : SchurForm
        Any object with an attribute ``T`` (N, N), such as :func:`spectra.schur`'s result.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; default a new figure from :mod:`matplotlib.pyplot`.
    path : sequence of int or ChainReport, optional
        Increasing Schur indices of a chain (or a :class:`spectra.ChainReport`, whose ``path``
        is used); the couplings ``T[path[k], path[k + 1]]`` are marked and joined.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.

    Raises
    ------
    ValueError
        If ``sf.T`` is not square or `path` has an index outside ``range(N)``.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> import spectra
    >>> sf = spectra.schur(spectra.matrices.chain(4))
    >>> ax = schur(sf, ax=Figure().add_subplot(), path=spectra.chains(sf.T))
    >>> len(ax.images)
    1
    """
    T = np.asarray(sf.T)
    if T.ndim != 2 or T.shape[0] != T.shape[1]:
        raise ValueError(f"expected a square Schur factor T, got shape {T.shape}")
    n = T.shape[0]
    ax = _axes(ax)
    magnitude = np.abs(T).astype(float)
    magnitude[np.tril_indices(n, -1)] = np.nan
    image = ax.imshow(magnitude, cmap="magma_r", interpolation="nearest")
    ax.figure.colorbar(image, ax=ax, label="|T_ij|")
    if path is not None:
        indices = np.asarray(getattr(path, "path", path), dtype=int).ravel()
        if indices.size and (indices.min() < 0 or indices.max() >= n):
            raise ValueError(f"path indices must lie in range({n}), got {indices.tolist()}")
        if indices.size == 1:
            ax.plot(indices, indices, "o", color="tab:cyan", markerfacecolor="none")
        elif indices.size > 1:
            rows, cols = indices[:-1], indices[1:]
            ax.plot(cols, rows, "o-", color="tab:cyan", markerfacecolor="none", linewidth=1)
    ax.set_xlabel("Schur mode j (source)")
    ax.set_ylabel("Schur mode i (target)")
    ax.set_title("|T| of the Schur form")
    return ax


def transient(growth: ArrayLike, ax: Axes | None = None) -> Axes:
    r"""Plot transient growth :math:`\|A^k\|_2` against :math:`k`.

    A logarithmic axis is used when the positive values span more than two decades.

    Parameters
    ----------
    growth : (K + 1,) array_like
        Norms for :math:`k = 0, \dots, K`, e.g. :func:`spectra.transient_growth`'s result.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; default a new figure from :mod:`matplotlib.pyplot`.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.

    Raises
    ------
    ValueError
        If `growth` is not a non-empty 1-D array.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = transient([1.0, 4.1, 4.0, 3.0], ax=Figure().add_subplot())
    >>> len(ax.lines)
    2
    """
    values = np.asarray(growth, dtype=float)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"growth must be a non-empty 1-D array, got shape {values.shape}")
    ax = _axes(ax)
    k = np.arange(values.size)
    ax.plot(k, values, "o-", markersize=3, linewidth=1)
    ax.axhline(1.0, linestyle="--", color="0.5", linewidth=0.8)
    positive = values[np.isfinite(values) & (values > 0)]
    if positive.size and positive.max() / positive.min() > 100.0:
        ax.set_yscale("log")
    ax.set_xlabel("k")
    ax.set_ylabel(r"$\|A^k\|_2$")
    ax.set_title("transient growth")
    return ax
