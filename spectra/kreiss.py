r"""A certified lower bound on the discrete-time Kreiss constant, found by a cheap search.

.. math:: K(A) = \sup_{|z| > 1} f(z), \qquad f(z) = \frac{|z| - 1}{\sigma_{\min}(zI - A)},

and :math:`K(A) \le \sup_{k \ge 0} \|A^k\|_2 \le e\,N\,K(A)` (LeVeque & Trefethen 1984; Spijker
1991). Any point :math:`z` gives a lower bound :math:`f(z) \le K(A)`, so the search only needs to
be good, not exhaustive; what makes the reported number safe is the last step, where the best
points are evaluated again to convergence and the singular values are enlarged by their
rounding error. The search writes :math:`z = (1 + d)e^{i\theta}` and runs on one Schur factor:

1. a global grid in :math:`(\log d, \theta)`, plus the arguments of the largest eigenvalues
   (a peak of :math:`f` sits near an eigenvalue close to the unit circle);
2. local searches in :math:`(\log d, \theta)` around the best separated grid points;
3. the final evaluation of the best point of each local search (and of a far point, whose
   value tends to the limit 1 of :math:`f` at infinity).

Matrices of size up to 128 get a fine grid and fully converged singular values throughout.
Larger ones get a coarser grid whose points are ranked by a few Lanczos steps each (a Ritz
value only ever makes :math:`\sigma_{\min}` too large, hence :math:`f` too small, so a
truncated evaluation can hide a peak but never invent one) and compass searches of 3 x 3
points; the final step is the same.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spectra._resolvent import Prepared, prepare
from spectra._validation import as_square

__all__ = ["KreissBound", "kreiss_lower_bound"]

logger = logging.getLogger(__name__)

#: Eigenvalues farther than this outside the unit circle make the Kreiss constant infinite.
_OUTSIDE = 1e-8
#: Computed smallest singular values are enlarged by ``_SLACK * n * eps * ||A||_F``.
_SLACK = 4.0
#: Relative tolerance of the final singular values, and their relative safety margin.
_FINAL_TOL = 1e-10
_TRUST = 1e-8
#: Largest matrix size that gets the fine search.
_FINE_N = 128
#: Range of d = |z| - 1 of the global grid, and the clip range of the local searches.
_D_RANGE = (1e-8, 1e3)
_D_CLIP = (1e-10, 1e4)


@dataclass(frozen=True)
class _Plan:
    """How densely one search samples and how accurately it ranks its points."""

    name: str
    angles: int  # grid angles per half circle
    eig_angles: int  # arguments of this many largest eigenvalues added to the grid
    d_count: int  # log-spaced values of d in _D_RANGE
    grid_tol: float
    grid_steps: int | None  # Lanczos steps per grid point (None: to convergence)
    stencil: int  # points per axis of a local grid
    shrink: float  # width factor between local rounds
    rounds: int
    local_tol: float
    local_steps: int | None
    peaks: int  # separated grid peaks searched locally


_FINE = _Plan("fine", 32, 32, 45, 1e-3, None, 9, 4.0, 6, 1e-6, None, 3)
_COARSE = _Plan("coarse", 16, 16, 23, 1e-3, 6, 3, 2.0, 14, 1e-6, 16, 3)


class KreissBound(float):
    r"""Result of :func:`kreiss_lower_bound`: a float that also says where it was found.

    The float value is the bound itself, so ``float(result)``, arithmetic and comparisons work
    as for the bare float returned before.

    Attributes
    ----------
    point : complex
        The point :math:`z` whose certified ratio :math:`f(z)` is the bound; ``inf`` when the
        bound is 1, the limit at infinity (or when it is infinite, :math:`\rho(A) > 1`).
    search : str
        ``"fine"`` or ``"coarse"`` (see :mod:`spectra.kreiss`), or ``"none"`` for
        :math:`\rho(A) > 1`.
    evaluations : int
        Number of points at which :math:`\sigma_{\min}` was computed.

    Examples
    --------
    >>> K = kreiss_lower_bound(np.array([[0.5, 4.0], [0.0, 0.5]]))
    >>> float(K) > 1.0, abs(K.point) > 1.0, K.search
    (True, True, 'fine')
    """

    __slots__ = ("_evaluations", "_point", "_search")

    _evaluations: int
    _point: complex
    _search: str

    def __new__(  # noqa: D102 - documented in the class docstring
        cls, value: float, *, point: complex, search: str, evaluations: int
    ) -> KreissBound:
        obj = super().__new__(cls, value)
        object.__setattr__(obj, "_point", complex(point))
        object.__setattr__(obj, "_search", str(search))
        object.__setattr__(obj, "_evaluations", int(evaluations))
        return obj

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"KreissBound is immutable; cannot set {name!r}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (float(self), self._point, self._search, self._evaluations))

    @property
    def point(self) -> complex:
        """Point where the bound is attained (``inf`` for the limit at infinity)."""
        return self._point

    @property
    def search(self) -> str:
        """Which search found it: ``"fine"``, ``"coarse"`` or ``"none"``."""
        return self._search

    @property
    def evaluations(self) -> int:
        """Number of singular-value evaluations of the search."""
        return self._evaluations

    def to_dict(self) -> dict[str, Any]:
        """Return the result as a JSON-ready dict.

        Returns
        -------
        dict
            Keys ``value``, ``point`` (``[re, im]``, or ``None`` at infinity), ``search`` and
            ``evaluations``.

        Examples
        --------
        >>> kreiss_lower_bound(np.eye(2) / 2).to_dict()["point"] is None
        True
        """
        finite = np.isfinite(self._point.real) and np.isfinite(self._point.imag)
        return {
            "value": float(self),
            "point": [self._point.real, self._point.imag] if finite else None,
            "search": self._search,
            "evaluations": self._evaluations,
        }


def _rebuild(value: float, point: complex, search: str, evaluations: int) -> KreissBound:
    return KreissBound(value, point=point, search=search, evaluations=evaluations)


class _Ratio:
    """Evaluations of ``f`` on one scaled Schur factor, with a count of the points."""

    def __init__(self, prep: Prepared) -> None:
        self.prep = prep
        self.evaluations = 0

    def __call__(
        self,
        log_d: NDArray[np.float64],
        theta: NDArray[np.float64],
        *,
        slack: float,
        tol: float,
        steps: int | None,
    ) -> NDArray[np.float64]:
        """Return ``d / (sigma((1 + d) e^{i theta}) + slack)`` with ``d = exp(log_d)``.

        The values are inverse-Lanczos ones on the scaled Schur factor; a Ritz value never
        exceeds the eigenvalue it approximates, so they are never below the exact singular value
        of the factor, and the ratio is a lower bound once `slack` covers the factor's rounding
        error. With `steps`, unconverged points keep their Ritz estimate (for ranking only).
        """
        prep = self.prep
        d = np.exp(log_d)
        z = (1.0 + d) * np.exp(1j * theta)
        zf = z / prep.scale
        if prep.real:
            zf = zf.real + 1j * np.abs(zf.imag)
        uniq, inverse = np.unique(zf, return_inverse=True)
        self.evaluations += uniq.size
        values = prep.solver.sigma(uniq, tol=tol, maxiter=steps, estimate=steps is not None)
        with np.errstate(over="ignore"):
            s = values[inverse].reshape(z.shape) * prep.scale
            s = s * (1.0 + _TRUST) + slack
        with np.errstate(divide="ignore"):
            return np.where(s > 0, d / np.where(s > 0, s, 1.0), np.inf)


def _separated_peaks(values: NDArray[np.float64], count: int, radius: int) -> list[tuple[int, int]]:
    """Return up to `count` indices of the largest entries, pairwise `radius` cells apart."""
    work = np.where(np.isnan(values), -np.inf, values)
    peaks: list[tuple[int, int]] = []
    while len(peaks) < count and work.max() > -np.inf:
        i, j = np.unravel_index(int(np.argmax(work)), work.shape)
        peaks.append((int(i), int(j)))
        work[max(i - radius, 0) : i + radius + 1, max(j - radius, 0) : j + radius + 1] = -np.inf
    return peaks


def _grid(
    ratio: _Ratio, plan: _Plan, eigenvalues: NDArray[np.complex128], real: bool
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Evaluate the global grid; return its ``(log d, theta)`` meshes, ratios and steps."""
    moduli = np.abs(eigenvalues)
    top = eigenvalues[np.argsort(-moduli, kind="stable")[: plan.eig_angles]]
    eig_angles = np.angle(top[np.abs(top) > 0])
    if real:
        base = np.linspace(0.0, np.pi, plan.angles + 1)
        eig_angles = np.abs(eig_angles)
    else:
        base = np.linspace(-np.pi, np.pi, 2 * plan.angles, endpoint=False)
    thetas = np.unique(np.concatenate([base, eig_angles]))
    log_d = np.log(np.geomspace(*_D_RANGE, plan.d_count))
    L, TH = np.meshgrid(log_d, thetas, indexing="ij")
    values = ratio(
        L.ravel(), TH.ravel(), slack=0.0, tol=plan.grid_tol, steps=plan.grid_steps
    ).reshape(L.shape)
    step = np.array([log_d[1] - log_d[0], np.pi / plan.angles])
    return L, TH, values, step


def _local(
    ratio: _Ratio, plan: _Plan, centre: NDArray[np.float64], value: float, step: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Best point of shrinking local grids around `centre` in ``(log d, theta)``."""
    offsets = np.linspace(-1.0, 1.0, plan.stencil)
    lo, hi = np.log(_D_CLIP[0]), np.log(_D_CLIP[1])
    width = step.copy()
    for _ in range(plan.rounds):
        dl, dt = np.meshgrid(centre[0] + width[0] * offsets, centre[1] + width[1] * offsets)
        dl = np.clip(dl.ravel(), lo, hi)
        dt = dt.ravel()
        local = ratio(dl, dt, slack=0.0, tol=plan.local_tol, steps=plan.local_steps)
        k = int(np.argmax(local))
        if local[k] >= value:
            centre, value = np.array([dl[k], dt[k]]), float(local[k])
        width /= plan.shrink
    return centre


def kreiss_lower_bound(A: ArrayLike, *, schur: Any = None) -> KreissBound:
    r"""Return a lower bound on the Kreiss constant :math:`K(A)`, hence on :math:`\sup_k \|A^k\|_2`.

    Maximises :math:`f(z) = (|z| - 1)/\sigma_{\min}(zI - A)` over :math:`|z| > 1`, written as
    :math:`z = (1 + d)e^{i\theta}`, by the search of :mod:`spectra.kreiss`. For :math:`N \le
    128` (``search="fine"``): a grid of 64 angles (33 on the upper half circle for a real
    matrix, whose :math:`f` is symmetric under conjugation) plus the arguments of the 32 largest
    eigenvalues, times 45 log-spaced :math:`d \in [10^{-8}, 10^3]`, at tolerance
    :math:`10^{-3}`; then six rounds of local :math:`9 \times 9` grids in
    :math:`(\log d, \theta)`, shrinking four-fold, around the three best separated grid points.
    For :math:`N > 128` (``search="coarse"``): 32 angles (17 for a real matrix) plus the
    arguments of the 16 largest eigenvalues, times 23 values of :math:`d`, each point ranked by
    at most 6 Lanczos steps; then 14 rounds of :math:`3 \times 3` compass grids, shrinking
    two-fold, with at most 16 steps per point. Every round evaluates its points together by
    batched inverse Lanczos on one Schur factor (computed once, or taken from `schur`). The
    final points are evaluated again to tolerance :math:`10^{-10}` (with a dense SVD where
    Lanczos does not converge). A Lanczos Ritz value never exceeds the eigenvalue it
    approximates, so these :math:`\sigma_{\min}` are never below the exact ones of the factor;
    enlarged by a relative :math:`10^{-8}` and by the factor's rounding error
    :math:`4 N \epsilon \|A\|_F`, they give a certified lower bound on :math:`K(A)` (as is the
    limit :math:`f \to 1` for :math:`|z| \to \infty`). It is therefore at least 1 and, by the
    Kreiss matrix theorem, at most :math:`\sup_{k \ge 0} \|A^k\|_2`; how close it comes to
    :math:`K(A)` depends on the search (a narrow peak between grid points can be missed).

    Parameters
    ----------
    A : (N, N) array_like
        Real or complex square matrix; integers are cast to float64.
    schur : SchurForm, optional
        :func:`spectra.schur` of `A`, reused instead of a new Schur decomposition.

    Returns
    -------
    KreissBound
        A float subclass equal to the bound, :math:`\ge 1`, with the attributes `point` (where
        it is attained), `search` and `evaluations`. ``inf`` when an eigenvalue lies outside the
        unit circle by more than :math:`10^{-8}` (then :math:`\|A^k\| \to \infty`). It is
        exactly 1 for a normal matrix with :math:`\rho(A) \le 1`. An eigenvalue on the circle
        that is defective gives a finite but very large value, since :math:`d \ge 10^{-8}`.

    Raises
    ------
    NonNumericError, NonSquareError, EmptyMatrixError, NonFiniteError
        If `A` is not a finite, non-empty, numeric square matrix.

    See Also
    --------
    transient_growth : The norms :math:`\|A^k\|_2` themselves.

    Examples
    --------
    >>> kreiss_lower_bound(np.diag([0.5, -0.9]))  # normal and stable
    1.0
    >>> A = np.array([[0.5, 4.0], [0.0, 0.5]])
    >>> from spectra import transient_growth
    >>> bool(1.0 < kreiss_lower_bound(A) <= transient_growth(A, 50).max())
    True
    >>> kreiss_lower_bound(np.diag([1.5, 0.0]))
    inf
    """
    arr = as_square(A)
    prep = prepare(arr, schur)  # one Schur factor for every round of the search
    eigenvalues = prep.eigenvalues
    rho = float(np.abs(eigenvalues).max())
    if rho > 1.0 + _OUTSIDE:
        return KreissBound(float("inf"), point=complex("inf"), search="none", evaluations=0)
    plan = _FINE if arr.shape[0] <= _FINE_N else _COARSE
    ratio = _Ratio(prep)
    L, TH, values, step = _grid(ratio, plan, eigenvalues, arr.dtype.kind != "c")
    candidates = [np.array([np.log(_D_RANGE[1]), 0.0])]
    for i, j in _separated_peaks(values, plan.peaks, 2):
        if not values[i, j] > 1.0:
            continue  # nothing above the value at infinity found near this grid point
        centre = np.array([L[i, j], TH[i, j]])
        candidates.append(_local(ratio, plan, centre, float(values[i, j]), step))
    # certify the candidates with converged singular values, enlarged by their rounding error
    points = np.array(candidates)
    with np.errstate(over="ignore"):
        frobenius = prep.scale * float(np.linalg.norm(prep.solver.T))
    slack = _SLACK * arr.shape[0] * np.finfo(np.float64).eps * frobenius
    certified = ratio(points[:, 0], points[:, 1], slack=slack, tol=_FINAL_TOL, steps=None)
    k = int(np.argmax(certified))
    best = float(certified[k])
    logger.debug(
        "Kreiss lower bound %.6g (spectral radius %.6g), %s search, %d evaluations",
        best,
        rho,
        plan.name,
        ratio.evaluations,
    )
    if not best > 1.0:
        best, z = 1.0, complex("inf")
    else:
        z = complex((1.0 + np.exp(points[k, 0])) * np.exp(1j * points[k, 1]))
    return KreissBound(best, point=z, search=plan.name, evaluations=ratio.evaluations)
