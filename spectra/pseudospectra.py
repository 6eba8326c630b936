r"""Epsilon-pseudospectra of a dense matrix: :math:`\sigma_{\min}(zI - A)` on points and grids.

The :math:`\varepsilon`-pseudospectrum of :math:`A` is
:math:`\sigma_\varepsilon(A) = \{z : \sigma_{\min}(zI - A) \le \varepsilon\}`, the set of
points that are eigenvalues of some :math:`A + E` with :math:`\|E\|_2 \le \varepsilon`
(Trefethen & Embree 2005). All functions reduce :math:`A` once to a complex Schur form
:math:`A = Z T Z^*` and then run inverse Lanczos on :math:`(T - zI)^{-1}(T - zI)^{-*}` for all
points together (Lui 1997; Trefethen 1999); matrices smaller than 8 use a dense SVD per point.
For a real matrix :math:`\sigma_{\min}(\bar z I - A) = \sigma_{\min}(zI - A)`, so only points
with :math:`\mathrm{Im}\, z \ge 0` are computed.

Accuracy: with the default ``tol=1e-8`` the relative error is below :math:`10^{-8}` wherever
:math:`\sigma > 10^{-8}\|A\|`. Values below about :math:`10^{-150}\|A\|` (an exact or nearly
exact eigenvalue, where the resolvent overflows) are reported as 0. Below
:math:`\epsilon_{\text{mach}}\|A\|` any method, a dense SVD included, returns rounding noise.
"""

from __future__ import annotations

import logging
import numbers
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.linalg
from numpy.typing import ArrayLike, NDArray

from spectra._resolvent import Prepared as _Prepared
from spectra._resolvent import as_points as _as_points
from spectra._resolvent import check_seed as _check_seed
from spectra._resolvent import check_tol as _check_tol
from spectra._resolvent import prepare as _prepare
from spectra._resolvent import sigma as _sigma
from spectra._serialize import jsonable
from spectra.errors import GridTooLargeError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["Pseudospectrum", "pseudospectral_radius", "pseudospectrum", "sigma_min"]

logger = logging.getLogger(__name__)

#: Bytes per grid point of the arrays that scale with the grid (points, unique points,
#: inverse index, results).
_BYTES_PER_POINT = 96
#: Fraction of the available memory a grid may use.
_MEMORY_FRACTION = 0.5


@dataclass(frozen=True, eq=False)
class Pseudospectrum:
    r"""Smallest singular values :math:`\sigma_{\min}(zI - A)` on a rectangular grid.

    Attributes
    ----------
    re : (n_re,) ndarray of float
        Real parts of the grid points, increasing.
    im : (n_im,) ndarray of float
        Imaginary parts of the grid points, increasing.
    sigma : (n_im, n_re) ndarray of float
        ``sigma[j, i]`` is :math:`\sigma_{\min}(zI - A)` at ``z = re[i] + 1j * im[j]``.
    eigenvalues : (N,) ndarray of complex
        Eigenvalues of `A` (diagonal of its Schur factor), sorted by real then imaginary part.

    Examples
    --------
    >>> ps = pseudospectrum([[0.0, 1.0], [0.0, 0.0]], re=(-1, 1), im=(-1, 1), n=5)
    >>> ps.sigma.shape
    (5, 5)
    >>> float(ps.sigma[2, 2])  # z = 0 is an eigenvalue
    0.0
    """

    re: NDArray[np.float64]
    im: NDArray[np.float64]
    sigma: NDArray[np.float64]
    eigenvalues: NDArray[np.complex128]

    def plot(self, eps: float | Sequence[float] | None = None, ax: Axes | None = None) -> Axes:
        r"""Draw the :math:`\varepsilon`-pseudospectra boundaries and the eigenvalues.

        Parameters
        ----------
        eps : float or sequence of float, optional
            Levels; by default :func:`spectra.plot.pseudospectrum` picks powers of ten.
        ax : matplotlib.axes.Axes, optional
            Axes to draw on; a new figure is made when omitted.

        Returns
        -------
        matplotlib.axes.Axes
            The axes drawn on.

        Raises
        ------
        ValueError
            If an entry of `eps` is not a positive number.

        Examples
        --------
        >>> from matplotlib.figure import Figure
        >>> ps = pseudospectrum([[0.0, 1.0], [0.0, 0.0]], n=20)
        >>> ax = ps.plot(eps=[0.1, 0.3], ax=Figure().add_subplot())
        """
        from spectra import plot as _plot

        return _plot.pseudospectrum(self, eps=eps, ax=ax)

    def to_dict(self) -> dict[str, Any]:
        """Return the grid, the values and the eigenvalues as JSON-ready lists.

        Returns
        -------
        dict
            ``{"re": [...], "im": [...], "sigma": [[...], ...], "eigenvalues": [[re, im], ...]}``.

        Examples
        --------
        >>> d = pseudospectrum([[2.0]], re=(0, 4), im=(-1, 1), n=3).to_dict()
        >>> d["sigma"][1]
        [2.0, 0.0, 2.0]
        """
        return {
            "re": jsonable(self.re),
            "im": jsonable(self.im),
            "sigma": jsonable(self.sigma),
            "eigenvalues": jsonable(self.eigenvalues),
        }


def sigma_min(
    A: ArrayLike, z: ArrayLike, *, tol: float = 1e-8, seed: int = 0
) -> NDArray[np.float64]:
    r"""Return :math:`\sigma_{\min}(zI - A)` at the points `z`.

    Parameters
    ----------
    A : (N, N) array_like
        Real or complex square matrix; integers are cast to float64.
    z : complex or array_like of complex, any shape
        Points of the complex plane.
    tol : float, optional
        Stopping tolerance of inverse Lanczos: relative change of the Ritz value, required on
        two consecutive steps (with a relative residual below :math:`0.1\sqrt{tol}`). The
        default gives a relative error below :math:`10^{-8}` wherever
        :math:`\sigma > 10^{-8}\|A\|`, apart from rounding errors of order
        :math:`\epsilon_{\text{mach}}\|A\|`.
    seed : int, optional
        Seed of the Lanczos start vector (shared by all points).

    Returns
    -------
    ndarray of float, shape of `z`
        Smallest singular values; a 0-d result (a numpy float) for a scalar `z`. Values below
        about :math:`10^{-150}\|A\|`, e.g. at an exact eigenvalue, are reported as 0.

    Raises
    ------
    NonNumericError, NonSquareError, EmptyMatrixError, NonFiniteError
        If `A` is not a finite, non-empty, numeric square matrix, or `z` is not numeric and
        finite.
    ValueError
        If `tol` is not in (0, 1).

    Examples
    --------
    >>> float(sigma_min([[1.0, 0.0], [0.0, 3.0]], 2.5))
    0.5
    >>> sigma_min([[0.0, 1.0], [0.0, 0.0]], [0.0, 1.0]).round(6)
    array([0.      , 0.618034])
    """
    tol = _check_tol(tol)
    seed = _check_seed(seed)
    points = _as_points(z)
    prep = _prepare(A)
    out = _sigma(prep, points, tol=tol, seed=seed)
    return out[()] if out.ndim == 0 else out


def _grid_sizes(n: int | Sequence[int]) -> tuple[int, int]:
    if isinstance(n, numbers.Integral) and not isinstance(n, bool | np.bool_):
        sizes = (int(n), int(n))
    elif isinstance(n, Sequence) and not isinstance(n, str) and len(n) == 2:
        if not all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool | np.bool_) for v in n
        ):
            raise TypeError(f"n must be an int or a pair of ints (n_re, n_im), got {n!r}")
        sizes = (int(n[0]), int(n[1]))
    else:
        raise TypeError(f"n must be an int or a pair of ints (n_re, n_im), got {n!r}")
    if min(sizes) < 2:
        raise ValueError(f"n must be at least 2 points per axis, got {n!r}")
    return sizes


def _interval(value: Sequence[float] | None, name: str) -> tuple[float, float] | None:
    if value is None:
        return None
    try:
        lo, hi = (float(v) for v in value)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise TypeError(
            f"{name} must be a pair (min, max) of real numbers, got {value!r}"
        ) from None
    if not (np.isfinite(lo) and np.isfinite(hi)) or lo >= hi:
        raise ValueError(f"{name} must be finite with min < max, got {value!r}")
    return lo, hi


def _available_memory() -> int:
    """Available physical memory in bytes (MemAvailable on Linux), or 8 GiB if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 8 * 2**30


def _axis(lo: float, hi: float, n: int) -> NDArray[np.float64]:
    """`n` equispaced values from `lo` to `hi`; exactly antisymmetric when ``lo == -hi``."""
    t = (2.0 * np.arange(n) - (n - 1)) / (n - 1)  # exactly antisymmetric in [-1, 1]
    mid, half = 0.5 * (lo + hi), 0.5 * (hi - lo)
    out = mid + half * t
    out[0], out[-1] = lo, hi
    return out


def _default_box(prep: _Prepared) -> tuple[tuple[float, float], tuple[float, float]]:
    r"""Bounding box of the numerical range plus 10 %: it holds every small-eps pseudospectrum.

    The numerical range :math:`W(A)` holds the spectrum, and
    :math:`\sigma_\varepsilon(A) \subseteq W(A) + \Delta_\varepsilon` (Trefethen & Embree,
    Thm. 17.1). Its real parts span the eigenvalues of :math:`(A + A^*)/2` and its imaginary
    parts those of :math:`(A - A^*)/2i`.
    """
    A = prep.matrix / prep.scale
    re = scipy.linalg.eigvalsh((A + A.conj().T) / 2, check_finite=False) * prep.scale
    im = scipy.linalg.eigvalsh((A - A.conj().T) / 2j, check_finite=False) * prep.scale
    lo_re, hi_re, lo_im, hi_im = float(re[0]), float(re[-1]), float(im[0]), float(im[-1])
    size = max(hi_re - lo_re, hi_im - lo_im)
    margin = 0.1 * size if size > 0 else 1.0
    if prep.real:
        top = max(abs(lo_im), abs(hi_im)) + margin
        return (lo_re - margin, hi_re + margin), (-top, top)
    return (lo_re - margin, hi_re + margin), (lo_im - margin, hi_im + margin)


def pseudospectrum(
    A: ArrayLike,
    re: Sequence[float] | None = None,
    im: Sequence[float] | None = None,
    n: int | Sequence[int] = 100,
    *,
    tol: float = 1e-8,
    seed: int = 0,
) -> Pseudospectrum:
    r"""Compute :math:`\sigma_{\min}(zI - A)` on a rectangular grid of the complex plane.

    The contour of level :math:`\varepsilon` bounds the :math:`\varepsilon`-pseudospectrum.

    Parameters
    ----------
    A : (N, N) array_like
        Real or complex square matrix; integers are cast to float64.
    re, im : (min, max) pair of float, optional
        Range of the real and imaginary parts. By default, the bounding box of the numerical
        range :math:`\{x^*Ax : \|x\| = 1\}` plus 10 % on each side: it holds the spectrum and
        every :math:`\varepsilon`-pseudospectrum for :math:`\varepsilon` up to that margin.
        For a real matrix the default imaginary range is symmetric, so every grid row has its
        mirror image and only half of the grid is computed.
    n : int or (n_re, n_im) pair of int, optional
        Number of grid points per axis (at least 2).
    tol : float, optional
        Stopping tolerance of inverse Lanczos (see :func:`sigma_min`).
    seed : int, optional
        Seed of the Lanczos start vector.

    Returns
    -------
    Pseudospectrum
        Grid axes, values of shape ``(n_im, n_re)`` and eigenvalues.

    Raises
    ------
    NonNumericError, NonSquareError, EmptyMatrixError, NonFiniteError
        If `A` is not a finite, non-empty, numeric square matrix.
    TypeError
        If `n` is not an int or a pair of ints, or `re`/`im` is not a pair of numbers.
    ValueError
        If `n` has fewer than 2 points per axis, a range is empty or not finite, or `tol` is
        not in (0, 1).
    GridTooLargeError
        If the grid would not fit in memory (checked before anything is allocated).

    Notes
    -----
    Cost: one Schur decomposition, :math:`O(N^3)`, then about :math:`8kN^2` flops per grid
    point with typically :math:`k \approx 10` Lanczos steps, against :math:`O(N^3)` per point
    for a dense SVD (measured 100-300 times faster per point at N = 256-1024). The points are
    processed in chunks, so the working memory stays :math:`O(N^2)` plus the grid itself.

    Examples
    --------
    >>> ps = pseudospectrum([[1.0, 10.0], [0.0, 2.0]], re=(0, 3), im=(-1, 1), n=(31, 21))
    >>> ps.sigma.shape
    (21, 31)
    >>> bool(ps.sigma.min() < 0.1)
    True
    """
    tol = _check_tol(tol)
    seed = _check_seed(seed)
    n_re, n_im = _grid_sizes(n)
    re_range = _interval(re, "re")
    im_range = _interval(im, "im")
    points = n_re * n_im
    need = points * _BYTES_PER_POINT
    available = _available_memory()
    if need > _MEMORY_FRACTION * available:
        raise GridTooLargeError(
            f"a grid of {n_re} x {n_im} = {points} points needs about {need / 2**30:.3g} GiB, "
            f"more than half of the {available / 2**30:.3g} GiB available; use a smaller n"
        )
    prep = _prepare(A)
    if re_range is None or im_range is None:
        box_re, box_im = _default_box(prep)
        re_range = re_range or box_re
        im_range = im_range or box_im
    re_axis = _axis(*re_range, n_re)
    im_axis = _axis(*im_range, n_im)
    grid = re_axis[None, :] + 1j * im_axis[:, None]
    sigma = _sigma(prep, grid, tol=tol, seed=seed)
    for arr in (re_axis, im_axis, sigma):
        arr.setflags(write=False)
    eigenvalues = prep.eigenvalues.copy()
    eigenvalues.setflags(write=False)
    return Pseudospectrum(re=re_axis, im=im_axis, sigma=sigma, eigenvalues=eigenvalues)


from spectra.radius import pseudospectral_radius  # noqa: E402  (re-exported)
