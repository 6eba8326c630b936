r"""Transient growth :math:`\|A^k\|_2` of a discrete-time linear system and the Kreiss bound.

For :math:`h_k = A h_{k-1}` the worst-case amplification after :math:`k` steps is
:math:`\|A^k\|_2`. A normal matrix with :math:`\rho(A) \le 1` never amplifies, but a non-normal
one can grow by orders of magnitude before it decays. The Kreiss constant

.. math:: K(A) = \sup_{|z| > 1} (|z| - 1)\,\|(zI - A)^{-1}\|_2
               = \sup_{|z| > 1} \frac{|z| - 1}{\sigma_{\min}(zI - A)}

bounds the peak from below and above: :math:`K(A) \le \sup_{k \ge 0} \|A^k\|_2 \le e\,N\,K(A)`
(LeVeque & Trefethen 1984; Spijker 1991).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spectra._arguments import check_count
from spectra._resolvent import Prepared, prepare
from spectra._validation import as_square

__all__ = ["kreiss_lower_bound", "transient_growth", "transient_peak"]

logger = logging.getLogger(__name__)

#: Eigenvalues farther than this outside the unit circle make the Kreiss constant infinite.
_OUTSIDE = 1e-8
#: Computed smallest singular values are enlarged by ``_SLACK * n * eps * ||A||_F``.
_SLACK = 4.0
#: Relative tolerance of the batched singular values used while searching.
_SEARCH_TOL = 1e-6
#: Relative tolerance of the first, global grid (it only ranks the candidates).
_GRID_TOL = 1e-3
#: Relative tolerance of the final singular values, and their relative safety margin.
_FINAL_TOL = 1e-10
_TRUST = 1e-8


def transient_growth(A: ArrayLike, steps: int) -> NDArray[np.float64]:
    r"""Return :math:`\|A^k\|_2` for :math:`k = 0, 1, \dots,` `steps`.

    The powers are accumulated with a running scale factor, so values beyond the float64 range
    come out as ``inf`` instead of raising, and a nilpotent matrix gives exact zeros.

    Parameters
    ----------
    A : (N, N) array_like
        Real or complex square matrix; integers are cast to float64.
    steps : int
        Largest power, at least 0.

    Returns
    -------
    (steps + 1,) ndarray of float64
        The norms; the first entry is :math:`\|I\|_2 = 1`.

    Raises
    ------
    NonNumericError, NonSquareError, EmptyMatrixError, NonFiniteError
        If `A` is not a finite, non-empty, numeric square matrix.
    TypeError, ValueError
        If `steps` is not an integer >= 0.

    Examples
    --------
    >>> transient_growth([[0.5, 4.0], [0.0, 0.5]], 3).round(4)
    array([1.    , 4.0616, 4.0156, 3.0052])
    """
    arr = as_square(A)
    steps = check_count(steps, "steps", minimum=0)
    log_growth = np.full(steps + 1, -np.inf)
    log_growth[0] = 0.0
    # Scale by a power of two near the largest entry (exact), so that one product of the
    # normalised power with A cannot overflow even when ||A||_2 is beyond the float64 range.
    top = float(np.abs(arr).max())
    unit = float(2.0 ** np.round(np.log2(top))) if top > 0 else 1.0
    arr = arr / unit
    P = np.eye(arr.shape[0], dtype=arr.dtype)  # A^k / exp(log_scale)
    log_scale = 0.0
    for k in range(1, steps + 1):
        P = P @ arr
        size = float(np.linalg.norm(P, 2))
        if size == 0.0:
            break  # nilpotent: every later power is zero too
        log_scale += np.log(size) + np.log(unit)
        log_growth[k] = log_scale
        P /= size
    with np.errstate(over="ignore"):
        return np.exp(log_growth)


def transient_peak(A: ArrayLike, steps: int) -> float:
    r"""Return :math:`\max_{0 \le k \le \text{steps}} \|A^k\|_2`, stopping as soon as it is known.

    The powers are formed as in :func:`transient_growth`, but the loop ends at the first
    :math:`m` with :math:`\|A^m\|_2 < 1` (beyond a rounding margin): then
    :math:`\|A^{m+j}\|_2 \le \|A^m\|_2 \|A^j\|_2 < \|A^j\|_2` for every :math:`j`, so no
    later power exceeds the largest one already seen. For a stable matrix this costs a few
    products instead of `steps`.

    Parameters
    ----------
    A : (N, N) array_like
        Real or complex square matrix; integers are cast to float64.
    steps : int
        Largest power, at least 0.

    Returns
    -------
    float
        The peak, at least 1 (:math:`\|A^0\|_2 = 1`); ``inf`` when it overflows float64.

    Raises
    ------
    NonNumericError, NonSquareError, EmptyMatrixError, NonFiniteError
        If `A` is not a finite, non-empty, numeric square matrix.
    TypeError, ValueError
        If `steps` is not an integer >= 0.

    Examples
    --------
    >>> A = [[0.5, 4.0], [0.0, 0.5]]
    >>> bool(transient_peak(A, 100) == transient_growth(A, 100).max())
    True
    """
    arr = as_square(A)
    steps = check_count(steps, "steps", minimum=0)
    top = float(np.abs(arr).max())
    unit = float(2.0 ** np.round(np.log2(top))) if top > 0 else 1.0
    arr = arr / unit
    margin = 8.0 * arr.shape[0] * np.finfo(np.float64).eps
    P = np.eye(arr.shape[0], dtype=arr.dtype)
    log_scale = 0.0
    best = 0.0
    for k in range(1, steps + 1):
        P = P @ arr
        size = float(np.linalg.norm(P, 2))
        if size == 0.0:
            break
        log_scale += np.log(size) + np.log(unit)
        best = max(best, log_scale)
        P /= size
        if log_scale < -margin * k:
            logger.debug("transient peak known after %d of %d powers", k, steps)
            break
    with np.errstate(over="ignore"):
        return float(np.exp(best))


def _kreiss_ratio(
    prep: Prepared,
    log_d: NDArray[np.float64],
    theta: NDArray[np.float64],
    slack: float,
    tol: float,
) -> NDArray[np.float64]:
    """Return ``d / (sigma((1 + d) e^{i theta}) + slack)`` with ``d = exp(log_d)``.

    The values are inverse-Lanczos ones on the scaled Schur factor; a Ritz value never exceeds
    the eigenvalue it approximates, so they are never below the exact singular value of the
    factor, and the ratio is a lower bound once `slack` covers the factor's rounding error.
    """
    d = np.exp(log_d)
    z = (1.0 + d) * np.exp(1j * theta)
    zf = z / prep.scale
    if prep.real:
        zf = zf.real + 1j * np.abs(zf.imag)
    uniq, inverse = np.unique(zf, return_inverse=True)
    s = prep.solver.sigma(uniq, tol=tol)[inverse].reshape(z.shape) * prep.scale
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


def kreiss_lower_bound(A: ArrayLike, *, schur: Any = None) -> float:
    r"""Return a lower bound on the Kreiss constant :math:`K(A)`, hence on :math:`\sup_k \|A^k\|_2`.

    Maximises :math:`f(z) = (|z| - 1)/\sigma_{\min}(zI - A)` over :math:`|z| > 1`, written as
    :math:`z = (1 + d)e^{i\theta}`: first on a grid of 64 angles (half of them for a real
    matrix, whose :math:`f` is symmetric under conjugation) plus the arguments of the 32 largest
    eigenvalues, times 45 log-spaced :math:`d \in [10^{-8}, 10^3]`; then six rounds of
    local :math:`9 \times 9` grids in :math:`(\log d, \theta)`, shrinking four-fold, around the
    three best separated grid points. Every round evaluates its points together by batched
    inverse Lanczos on one Schur factor (computed once, or taken from `schur`); the final points
    are evaluated again at tolerance :math:`10^{-10}`. A Lanczos Ritz value never exceeds the
    eigenvalue it approximates, so these :math:`\sigma_{\min}` are never below the exact
    ones of the factor; enlarged by a relative :math:`10^{-8}` and by the factor's rounding
    error :math:`4 N \epsilon \|A\|_F`, they give a certified lower bound on
    :math:`K(A)` (as is the limit :math:`f \to 1` for :math:`|z| \to \infty`). It is therefore
    at least 1 and, by the Kreiss matrix theorem, at most :math:`\sup_{k \ge 0} \|A^k\|_2`.

    Parameters
    ----------
    A : (N, N) array_like
        Real or complex square matrix; integers are cast to float64.
    schur : SchurForm, optional
        :func:`spectra.schur` of `A`, reused instead of a new Schur decomposition.

    Returns
    -------
    float
        The bound, :math:`\ge 1`. ``inf`` when an eigenvalue lies outside the unit circle by more
        than :math:`10^{-8}` (then :math:`\|A^k\| \to \infty`). It is exactly 1 for a normal
        matrix with :math:`\rho(A) \le 1`. An eigenvalue on the circle that is defective gives a
        finite but very large value, since :math:`d \ge 10^{-8}`.

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
    >>> bool(1.0 < kreiss_lower_bound(A) <= transient_growth(A, 50).max())
    True
    >>> kreiss_lower_bound(np.diag([1.5, 0.0]))
    inf
    """
    arr = as_square(A)
    prep = prepare(arr, schur)  # one Schur factor for every round of the search
    eigenvalues = prep.eigenvalues
    moduli = np.abs(eigenvalues)
    rho = float(moduli.max())
    if rho > 1.0 + _OUTSIDE:
        return float("inf")
    real = arr.dtype.kind != "c"
    top = eigenvalues[np.argsort(-moduli)[:32]]
    eig_angles = np.angle(top[np.abs(top) > 0])
    if real:
        base = np.linspace(0.0, np.pi, 33)
        eig_angles = np.abs(eig_angles)
    else:
        base = np.linspace(-np.pi, np.pi, 64, endpoint=False)
    thetas = np.unique(np.concatenate([base, eig_angles]))
    log_d = np.log(np.geomspace(1e-8, 1e3, 45))
    L, TH = np.meshgrid(log_d, thetas, indexing="ij")
    values = _kreiss_ratio(prep, L.ravel(), TH.ravel(), 0.0, _GRID_TOL).reshape(L.shape)
    # local refinement around the three best separated grid points
    step = np.array([log_d[1] - log_d[0], np.pi / 32])
    offsets = np.linspace(-1.0, 1.0, 9)
    lo, hi = np.log(1e-10), np.log(1e4)
    candidates = [np.array([np.log(1e3), 0.0])]
    for i, j in _separated_peaks(values, 3, 2):
        if not values[i, j] > 1.0:
            continue  # nothing above the value at infinity found near this grid point
        centre, width, centre_value = np.array([L[i, j], TH[i, j]]), step.copy(), values[i, j]
        for _ in range(6):
            dl, dt = np.meshgrid(centre[0] + width[0] * offsets, centre[1] + width[1] * offsets)
            dl = np.clip(dl.ravel(), lo, hi)
            dt = dt.ravel()
            local = _kreiss_ratio(prep, dl, dt, 0.0, _SEARCH_TOL)
            k = int(np.argmax(local))
            if local[k] >= centre_value:
                centre, centre_value = np.array([dl[k], dt[k]]), float(local[k])
            width /= 4.0
        candidates.append(centre)
    # certify the candidates with dense singular values, enlarged by their rounding error
    points = np.array(candidates)
    slack = _SLACK * arr.shape[0] * np.finfo(np.float64).eps * float(np.linalg.norm(arr))
    certified = _kreiss_ratio(prep, points[:, 0], points[:, 1], slack, _FINAL_TOL)
    best = float(certified.max())
    logger.debug("Kreiss lower bound %.6g (spectral radius %.6g)", best, rho)
    return max(1.0, best)
