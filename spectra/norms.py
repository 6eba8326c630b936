r"""Spectral radius and spectral norm, by power iteration or exactly, and norm projections.

The spectral radius :math:`\rho(A) = \max_i |\lambda_i|` and the spectral norm
:math:`\|A\|_2 = \sigma_{\max}(A)` coincide for normal matrices only; for non-normal ones
:math:`\rho(A) \le 1` still allows transient growth of :math:`\|A^k\|`. Sengupta & Friston
(2018) normalise recurrent matrices "onto the unit disk" with the power method and the Rayleigh
quotient; :func:`power_method` does that and refuses to return a wrong value silently when the
dominant eigenvalue is not unique (a complex pair of a real matrix, or :math:`\pm\lambda`).
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spectra import _power as _power_impl
from spectra._arguments import check_choice, check_count
from spectra._serialize import jsonable
from spectra._validation import as_square, check_positive
from spectra.errors import NotConvergedWarning
from spectra.schur import _exponent, _frobenius, _power_of_two_scale

__all__ = ["PowerResult", "power_method", "project", "spectral_norm", "spectral_radius"]

logger = logging.getLogger(__name__)

_METHODS = ("exact", "power")
_PROJECTIONS = ("clip", "scale", "radius")


@dataclass(frozen=True, eq=False)
class PowerResult:
    r"""Result of :func:`power_method`.

    Attributes
    ----------
    value : float or complex
        Estimate of the dominant eigenvalue (complex for a complex pair or a complex matrix).
    vector : (N,) ndarray
        Unit-norm estimate of its eigenvector (complex when `value` is).
    iterations : int
        Iterations used over all stages (an iteration of a block of :math:`p` vectors counts
        once).
    converged : bool
        Whether the estimated forward error :math:`\hat\kappa\,\|Ax - \lambda x\|` (eigenvalue
        condition estimate times residual) reached :math:`\mathrm{tol}\,|\lambda|`; when false,
        `value` is not to be trusted.

    Examples
    --------
    >>> power_method(np.diag([3.0, 1.0])).to_dict()["value"]
    3.0
    """

    value: float | complex
    vector: NDArray[Any]
    iterations: int
    converged: bool

    def to_dict(self) -> dict[str, Any]:
        """Return the result as a JSON-ready dict (complex numbers as ``[re, im]`` pairs).

        Returns
        -------
        dict
            Keys ``value``, ``vector``, ``iterations`` and ``converged``.

        Examples
        --------
        >>> power_method(np.diag([2.0, 1.0])).to_dict()["converged"]
        True
        """
        return {
            "value": jsonable(self.value),
            "vector": jsonable(self.vector),
            "iterations": int(self.iterations),
            "converged": bool(self.converged),
        }


def _as_value(value: Any, real_input: bool) -> float | complex:
    value = complex(value)
    if real_input and abs(value.imag) <= 1e-12 * abs(value):
        return float(value.real)
    return value


def power_method(
    A: ArrayLike, *, tol: float = 1e-10, maxiter: int = 1000, seed: int | None = 0
) -> PowerResult:
    r"""Estimate the dominant eigenvalue of `A` by power iteration with the Rayleigh quotient.

    Stage one is the plain power method: :math:`x \leftarrow Ax/\|Ax\|`, with the Rayleigh
    quotient :math:`\theta = x^*Ax`. It converges when one eigenvalue strictly dominates in
    modulus. If it does not converge in `maxiter` steps, or its residual stagnates (does not
    halve in 50 steps), stage two runs subspace (block power) iterations on
    :math:`p = 2, 4, 8, 16` vectors with a :math:`p \times p` Rayleigh--Ritz step, each block
    seeded with the last basis of the previous one; block :math:`p` converges when the
    :math:`p` largest eigenvalues in modulus dominate the rest, at the rate
    :math:`|\lambda_{p+1}/\lambda_1|`: a complex-conjugate pair of a real matrix, a
    :math:`\pm\lambda` tie, or several eigenvalues of nearly equal modulus, as in trained
    recurrent matrices. It returns the Ritz value of largest modulus (for a tie: largest real
    part, then imaginary part).

    A Ritz pair :math:`(\theta, x)` counts as converged only when its estimated *forward* error
    is small: :math:`\hat\kappa\,\|Ax - \theta x\| \le \mathrm{tol}\,|\theta|`, where
    :math:`\hat\kappa = 1/|y^*x|` is the eigenvalue condition number estimated from the left
    vector :math:`y` of two steps of inverse iteration on :math:`(A - \theta I)^*` (one LU
    factorisation, at most two per call). The residual alone bounds only the backward error;
    near a defective or ill-conditioned eigenvalue the value can be far off while the residual
    is tiny, and then :math:`\hat\kappa` is large and the result is not converged. When the
    tolerance would need a residual below the rounding level :math:`16\epsilon\|A\|_F`
    (:math:`\hat\kappa\,\epsilon \gtrsim \mathrm{tol}`), the iteration stops as not
    converged instead of spending its budget.

    The work is capped: the products and QR steps of all stages together cost at most
    :math:`N^3` real flops (at least :math:`2^{26}`), a small fraction of one dense Schur
    decomposition (about :math:`25N^3`); a run that spends it is not converged. `A` is scaled
    by a power of two first, so entries near the overflow or underflow limits are safe.

    Parameters
    ----------
    A : (N, N) array_like
        Real or complex square matrix; integers are cast to float64.
    tol : float, optional
        Relative tolerance on the estimated forward error of the eigenvalue, positive.
    maxiter : int, optional
        Maximum number of iterations of each stage, at least 1.
    seed : int or None, optional
        Seed of :func:`numpy.random.default_rng` for the random start vectors.

    Returns
    -------
    PowerResult
        `value`, `vector`, `iterations` (all stages) and `converged`.

    Raises
    ------
    NonNumericError, NonSquareError, EmptyMatrixError, NonFiniteError
        If `A` is not a finite, non-empty, numeric square matrix.
    ValueError
        If `tol` is not positive or `maxiter` is smaller than 1.

    Warns
    -----
    NotConvergedWarning
        If no stage converged, e.g. when three or more eigenvalues share the largest modulus
        (any orthogonal matrix), the dominant eigenvalue is defective or too ill-conditioned for
        `tol`, or the work budget was spent. The returned `value` is then only the last
        estimate.

    See Also
    --------
    spectral_radius : With ``method="exact"``, :math:`\max |\lambda_i|` from all eigenvalues.

    Examples
    --------
    >>> round(power_method([[2.0, 1.0], [0.0, 0.5]]).value, 8)
    2.0
    >>> result = power_method([[0.0, -2.0], [2.0, 0.0]])  # eigenvalues +-2i
    >>> round(abs(result.value), 10), result.converged
    (2.0, True)
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     power_method(0.5 * np.eye(12) + np.eye(12, k=1) + np.eye(12, k=2)).converged
    False
    """
    arr = as_square(A)
    tol = check_positive(tol, "tol")
    maxiter = check_count(maxiter, "maxiter", minimum=1)
    return _power(arr, tol, maxiter, seed)


def _power(
    arr: NDArray[Any],
    tol: float,
    maxiter: int,
    seed: int | None,
    *,
    normal_equations: bool = False,
    stacklevel: int = 3,
) -> PowerResult:
    """Run the iteration on `arr` (or on its normal equations ``arr^* arr``), scaled first.

    The matrix is scaled by the power of two that brings its largest entry into [0.5, 1) and
    the value is scaled back. With `normal_equations` the returned value is the square root of
    the dominant eigenvalue of ``arr^* arr`` (an estimate of the largest singular value).
    """
    n = arr.shape[0]
    real_input = arr.dtype.kind != "c"
    e = _exponent(arr)
    M = _power_of_two_scale(arr, -e) if e else arr
    frobenius = _frobenius(M)
    per_vector = 2.0 * n * n * (1.0 if real_input else 4.0)
    if normal_equations:
        adj = M.conj().T
        op = _power_impl.Operator(
            lambda x: adj @ (M @ x),
            n,
            complex_arithmetic=not real_input,
            flops_per_vector=2.0 * per_vector,
            frobenius=frobenius * frobenius,
            matrix=None,
        )
    else:
        hermitian = bool(np.array_equal(M, M.conj().T))
        op = _power_impl.Operator(
            lambda x: M @ x,
            n,
            complex_arithmetic=not real_input,
            flops_per_vector=per_vector,
            frobenius=frobenius,
            matrix=None if hermitian else M,
        )
    outcome = _power_impl.iterate(op, tol=tol, maxiter=maxiter, seed=seed)
    if not outcome.converged:
        warnings.warn(
            f"power iteration did not converge ({outcome.reason}) after {outcome.iterations} "
            f"iterations (tol={tol:g}, {_error_text(outcome.error_estimate, outcome.value)}); "
            "the dominant eigenvalue "
            "may not be unique in modulus, or may be defective or ill-conditioned",
            NotConvergedWarning,
            stacklevel=stacklevel,
        )
    value = _as_value(outcome.value, real_input)
    if normal_equations:  # the square root before unscaling: sigma**2 may not be representable
        value = float(np.sqrt(max(float(np.real(value)), 0.0)))
    value = _unscale(value, e) if e else value
    vector = outcome.vector
    if isinstance(value, float) and real_input:
        vector = vector.real if np.iscomplexobj(vector) else vector
    vector = np.array(vector, copy=True)
    vector.setflags(write=False)
    return PowerResult(
        value=value, vector=vector, iterations=outcome.iterations, converged=outcome.converged
    )


def _relative(error: float, value: Any) -> float:
    size = abs(complex(value))
    return error / size if size > 0 else float("inf")


def _error_text(error: float, value: Any) -> str:
    """Describe the forward-error estimate of a stopped iteration (it may be unavailable)."""
    relative = _relative(error, value)
    if math.isnan(relative):
        return "no bound on the error: the eigenvalue's condition could not be estimated"
    if math.isinf(relative):
        return "no finite bound on the error"
    return f"estimated relative error {relative:.2g}"


def _unscale(value: float | complex, e: int) -> float | complex:
    """``value * 2**e`` without forming ``2**e`` (which may overflow)."""
    if isinstance(value, float):
        return float(np.ldexp(value, e))
    return complex(float(np.ldexp(value.real, e)), float(np.ldexp(value.imag, e)))


def spectral_radius(A: ArrayLike, method: Literal["exact", "power"] = "exact") -> float:
    r"""Return the spectral radius :math:`\rho(A) = \max_i |\lambda_i|`.

    Parameters
    ----------
    A : (N, N) array_like
        Real or complex square matrix; integers are cast to float64.
    method : {"exact", "power"}, optional
        ``"exact"``: from all eigenvalues (LAPACK). ``"power"``: the modulus of
        :func:`power_method`'s value (warns when it does not converge).

    Returns
    -------
    float
        The spectral radius.

    Raises
    ------
    NonNumericError, NonSquareError, EmptyMatrixError, NonFiniteError
        If `A` is not a finite, non-empty, numeric square matrix.
    ValueError
        If `method` is unknown.

    Warns
    -----
    NotConvergedWarning
        With ``method="power"``, when the power iteration did not converge.

    Examples
    --------
    >>> round(spectral_radius([[0.0, 1.0], [-0.25, 0.0]]), 12)
    0.5
    >>> round(spectral_radius([[0.0, 1.0], [-0.25, 0.0]], method="power"), 10)
    0.5
    """
    arr = as_square(A)
    check_choice(method, "method", _METHODS)
    if method == "exact":
        return float(np.max(np.abs(np.linalg.eigvals(arr))))
    result = _power(arr, 1e-10, 1000, 0)
    return float(abs(result.value))


def spectral_norm(A: ArrayLike, method: Literal["exact", "power"] = "exact") -> float:
    r"""Return the spectral norm :math:`\|A\|_2 = \sigma_{\max}(A)`.

    Parameters
    ----------
    A : (N, N) array_like
        Real or complex square matrix; integers are cast to float64.
    method : {"exact", "power"}, optional
        ``"exact"``: the largest singular value (LAPACK). ``"power"``: power iteration on
        :math:`A^*A` (applied as two products, never formed) with the Rayleigh quotient, then
        the square root; :math:`A^*A` is Hermitian positive semi-definite, so its dominant
        eigenvalue is real and unique in value.

    Returns
    -------
    float
        The spectral norm.

    Raises
    ------
    NonNumericError, NonSquareError, EmptyMatrixError, NonFiniteError
        If `A` is not a finite, non-empty, numeric square matrix.
    ValueError
        If `method` is unknown.

    Warns
    -----
    NotConvergedWarning
        With ``method="power"``, when the iteration did not reach its tolerance (the two
        largest singular values nearly equal); the value is then a lower bound.

    Examples
    --------
    >>> spectral_norm([[0.0, 2.0], [0.0, 0.0]])
    2.0
    >>> round(spectral_norm([[1.0, 1.0], [0.0, 1.0]], method="power"), 10)  # golden ratio
    1.6180339887
    """
    arr = as_square(A)
    check_choice(method, "method", _METHODS)
    if method == "exact":
        return float(np.linalg.norm(arr, 2))
    result = _power(arr, 1e-10, 1000, 0, normal_equations=True)
    return float(result.value)


def project(
    A: ArrayLike,
    bound: float = 1.0,
    kind: Literal["clip", "scale", "radius"] = "clip",
) -> NDArray[np.floating] | NDArray[np.complexfloating]:
    r"""Project `A` onto a norm or spectral-radius ball of radius `bound`.

    Parameters
    ----------
    A : (N, N) array_like
        Real or complex square matrix; integers are cast to float64.
    bound : float, optional
        Radius of the ball, positive.
    kind : {"clip", "scale", "radius"}, optional
        ``"clip"``: cap the singular values at `bound`,
        :math:`U \min(\Sigma, b) V^*`, which is the nearest matrix with
        :math:`\|\cdot\|_2 \le b` in both the spectral and the Frobenius norm.
        ``"scale"``: :math:`A \min(1, b/\sigma_{\max})`.
        ``"radius"``: :math:`A \min(1, b/\rho(A))`, Sengupta & Friston's normalisation onto the
        unit disk (a nilpotent matrix is returned unchanged); its norm can stay above `bound`.

    Returns
    -------
    (N, N) ndarray
        A new matrix, float64 for real input and complex128 for complex input. Each kind is
        idempotent up to rounding.

    Raises
    ------
    NonNumericError, NonSquareError, EmptyMatrixError, NonFiniteError
        If `A` is not a finite, non-empty, numeric square matrix.
    ValueError
        If `bound` is not positive or `kind` is unknown.

    Examples
    --------
    >>> project(np.diag([3.0, 0.5]))
    array([[1. , 0. ],
           [0. , 0.5]])
    >>> project(np.diag([3.0, 0.5]), kind="scale")
    array([[1.        , 0.        ],
           [0.        , 0.16666667]])
    """
    arr = as_square(A)
    bound = check_positive(bound, "bound")
    check_choice(kind, "kind", _PROJECTIONS)
    if kind == "clip":
        U, s, Vh = np.linalg.svd(arr)
        if s[0] <= bound:
            return arr.copy()
        return (U * np.minimum(s, bound)) @ Vh
    if kind == "scale":
        size = float(np.linalg.norm(arr, 2))
    else:
        size = float(np.max(np.abs(np.linalg.eigvals(arr))))
    if size <= bound:
        return arr.copy()
    return arr * (bound / size)
