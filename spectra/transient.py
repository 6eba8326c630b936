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
from collections.abc import Iterator

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spectra._arguments import check_count
from spectra._validation import as_square
from spectra.kreiss import KreissBound, kreiss_lower_bound

__all__ = ["KreissBound", "kreiss_lower_bound", "transient_growth", "transient_peak"]

logger = logging.getLogger(__name__)


def _log_norms(arr: NDArray[np.generic], steps: int) -> Iterator[tuple[int, float]]:
    r"""Yield ``(k, log ||A^k||_2)`` for k = 1..steps, stopping early when a power is zero.

    `A` is scaled by a power of two near its largest entry (exact), and the powers are
    accumulated normalised with a running log scale, so one product never overflows even when
    :math:`\|A\|_2` is beyond the float64 range, and a nilpotent matrix ends the sequence.
    """
    top = float(np.abs(arr).max())
    unit = float(2.0 ** np.round(np.log2(top))) if top > 0 else 1.0
    scaled = arr / unit
    P = np.eye(arr.shape[0], dtype=scaled.dtype)  # A^k / exp(log_scale)
    log_scale = 0.0
    for k in range(1, steps + 1):
        P = P @ scaled
        size = float(np.linalg.norm(P, 2))
        if size == 0.0:
            return  # nilpotent: every later power is zero too
        log_scale += np.log(size) + np.log(unit)
        P /= size
        yield k, log_scale


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
    for k, value in _log_norms(arr, steps):
        log_growth[k] = value
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
    margin = 8.0 * arr.shape[0] * np.finfo(np.float64).eps
    best = 0.0
    for k, value in _log_norms(arr, steps):
        best = max(best, value)
        if value < -margin * k:
            logger.debug("transient peak known after %d of %d powers", k, steps)
            break
    with np.errstate(over="ignore"):
        return float(np.exp(best))
