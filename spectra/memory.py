r"""Fisher memory curve of a linear recurrent network (Ganguli, Huh & Sompolinsky 2008).

For :math:`h_t = W h_{t-1} + v s_t + \text{noise}` with unit white noise, the Fisher
information that :math:`h_t` carries about the input :math:`s_{t-k}` is

.. math:: J(k) = v^* (W^k)^* C^{-1} W^k v, \qquad C = \sum_{k=0}^{K-1} W^k (W^k)^*,

where :math:`C` is the noise covariance. For a normal :math:`W` the total
:math:`J_{\mathrm{tot}} = \sum_k J(k)` equals :math:`\|v\|^2` (1 for a unit input vector),
whatever its eigenvalues; non-normal networks such as feed-forward chains can exceed it, up to
:math:`N`.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import scipy.linalg
from numpy.typing import ArrayLike, NDArray

from spectra._arguments import as_vector, check_count
from spectra._validation import as_square
from spectra.errors import IllConditionedWarning

__all__ = ["fisher_memory"]

logger = logging.getLogger(__name__)


def _power_gram_sum(W: NDArray[np.generic], steps: int) -> NDArray[np.generic]:
    r"""Return :math:`\sum_{k<\text{steps}} W^k (W^k)^*` by binary doubling (O(log steps) GEMMs)."""
    n = W.shape[0]
    eye = np.eye(n, dtype=W.dtype)
    S = np.zeros_like(W)  # S_a for the prefix a of the binary digits of steps
    P = eye.copy()  # W^a
    for bit in bin(steps)[2:]:
        S = S + P @ S @ P.conj().T  # a -> 2a
        P = P @ P
        if bit == "1":  # a -> a + 1
            S = eye + W @ S @ W.conj().T
            P = W @ P
    return S


def fisher_memory(W: ArrayLike, v: ArrayLike, steps: int) -> NDArray[np.float64]:
    r"""Return the Fisher memory curve :math:`J(k)`, :math:`k = 0, \dots,` ``steps - 1``.

    :math:`J(k) = v^* (W^k)^* C^{-1} W^k v` with the noise covariance
    :math:`C = \sum_{k=0}^{\text{steps}-1} W^k (W^k)^*`, truncated at the same number of steps
    as the curve (exact for a nilpotent :math:`W` once ``steps >= N``, and the limit of
    Ganguli et al.'s infinite sum for a stable :math:`W` as `steps` grows). Because
    :math:`C \succeq I`, it is always invertible: a Cholesky factor is used, with an eigenvalue
    fallback clamped at 1 if rounding makes :math:`C` indefinite.

    Parameters
    ----------
    W : (N, N) array_like
        Recurrent matrix, column convention (:math:`h_t = W h_{t-1} + v s_t`).
    v : (N,) array_like
        Input vector; `J` scales with :math:`\|v\|^2` (Ganguli et al. use :math:`\|v\| = 1`).
    steps : int
        Number of lags, at least 1.

    Returns
    -------
    (steps,) ndarray of float64
        :math:`J(0), \dots, J(\text{steps}-1)`, non-negative. Its sum is :math:`\|v\|^2` for
        every normal `W`; for the chain of :func:`spectra.matrices.chain` with
        :math:`\alpha = 1` and :math:`v = e_1`, :math:`J(k) = 1/(k+1)` for :math:`k < N`.

    Raises
    ------
    NonNumericError, NonSquareError, EmptyMatrixError, NonFiniteError
        If `W` is not a finite, non-empty, numeric square matrix or `v` is not numeric/finite.
    ValueError
        If `v` does not have shape (N,).
    TypeError, ValueError
        If `steps` is not an integer >= 1.
    OverflowError
        If :math:`C` overflows float64 (an unstable `W` with many steps).

    Warns
    -----
    IllConditionedWarning
        When :math:`C` is so ill-conditioned (above :math:`10^{12}`) that small `J(k)` lose
        accuracy.

    Examples
    --------
    >>> from spectra.matrices import chain
    >>> J = fisher_memory(chain(4), [1.0, 0.0, 0.0, 0.0], steps=4)
    >>> J.round(6)
    array([1.      , 0.5     , 0.333333, 0.25    ])
    >>> round(float(fisher_memory(0.9 * np.eye(3), [1.0, 0.0, 0.0], steps=50).sum()), 12)
    1.0
    """
    arr = as_square(W, "W")
    n = arr.shape[0]
    vec = as_vector(v, n, "v")
    steps = check_count(steps, "steps", minimum=1)
    dtype = np.result_type(arr, vec)
    arr = arr.astype(dtype, copy=False)
    with np.errstate(over="ignore", invalid="ignore"):
        C = _power_gram_sum(arr, steps)
        X = np.empty((n, steps), dtype=dtype)
        X[:, 0] = vec
        for k in range(1, steps):
            X[:, k] = arr @ X[:, k - 1]
    if not (np.isfinite(C).all() and np.isfinite(X).all()):
        raise OverflowError(
            f"the noise covariance of W^k for k < {steps} overflows float64; use fewer steps"
        )
    C = (C + C.conj().T) / 2
    try:
        L = scipy.linalg.cholesky(C, lower=True, check_finite=False)
        Y = scipy.linalg.solve_triangular(L, X, lower=True, check_finite=False)
        J = np.sum(np.abs(Y) ** 2, axis=0)
        diag = np.abs(np.diag(L)) ** 2
        condition = float(diag.max() / diag.min())  # cheap estimate, a lower bound
    except np.linalg.LinAlgError:
        lam, U = np.linalg.eigh(C)
        lam = np.maximum(lam, 1.0)  # C >= I in exact arithmetic
        Y = (U.conj().T @ X) / np.sqrt(lam)[:, None]
        J = np.sum(np.abs(Y) ** 2, axis=0)
        condition = float(lam.max() / lam.min())
    if condition > 1e12:
        warnings.warn(
            f"noise covariance of W has condition number about {condition:.3g}; "
            "small J(k) may be inaccurate",
            IllConditionedWarning,
            stacklevel=2,
        )
    return np.asarray(J, dtype=np.float64)
