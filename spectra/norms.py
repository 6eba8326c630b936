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
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spectra._arguments import check_choice, check_count
from spectra._serialize import jsonable
from spectra._validation import as_square, check_positive
from spectra.errors import NotConvergedWarning

__all__ = ["PowerResult", "power_method", "project", "spectral_norm", "spectral_radius"]

logger = logging.getLogger(__name__)

_METHODS = ("exact", "power")
_PROJECTIONS = ("clip", "scale", "radius")
#: Iterations between two stagnation checks of the plain power iteration.
_WINDOW = 50
#: Largest block of the subspace iterations tried after the plain power iteration.
_MAX_BLOCK = 16
#: Relative radius within which Ritz values count as one cluster in the accuracy test.
_CLUSTER = 0.05


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
        Matrix-vector products used, over both stages.
    converged : bool
        Whether the relative residual :math:`\|Ax - \lambda x\| \le \mathrm{tol}\,|\lambda|` was
        reached; when false, `value` is not to be trusted.

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


def _start_block(n: int, p: int, dtype: np.dtype[Any], rng: np.random.Generator) -> NDArray[Any]:
    X = rng.standard_normal((n, p))
    if dtype.kind == "c":
        X = X + 1j * rng.standard_normal((n, p))
    Q, _ = np.linalg.qr(X)
    return Q


def _single(
    matvec: Callable[[NDArray[Any]], NDArray[Any]],
    x: NDArray[Any],
    tol: float,
    maxiter: int,
) -> tuple[Any, NDArray[Any], int, bool]:
    """Plain power iteration with the Rayleigh quotient and a residual test.

    Stops early, unconverged, when the residual did not halve over the last ``_WINDOW``
    iterations: the dominant eigenvalue is then tied or nearly tied in modulus.
    """
    theta: Any = 0.0
    checkpoint = np.inf
    for it in range(1, maxiter + 1):
        y = matvec(x)
        theta = np.vdot(x, y)
        residual = float(np.linalg.norm(y - theta * x))
        ynorm = float(np.linalg.norm(y))
        if ynorm == 0.0:  # x is an exact null vector: eigenvalue 0
            return 0.0, x, it, True
        if residual <= tol * abs(theta):
            return theta, x, it, True
        x = y / ynorm
        if it % _WINDOW == 0:
            if residual > 0.5 * checkpoint:
                return theta, x, it, False
            checkpoint = residual
    return theta, x, maxiter, False


def _block(
    matvec: Callable[[NDArray[Any]], NDArray[Any]],
    X: NDArray[Any],
    tol: float,
    maxiter: int,
) -> tuple[Any, NDArray[Any], int, bool]:
    """Subspace iteration on ``X.shape[1]`` vectors with Rayleigh--Ritz (complex and +- pairs)."""
    mu: Any = 0.0
    v = X[:, 0]
    for it in range(1, maxiter + 1):
        Y = matvec(X)
        H = X.conj().T @ Y
        R = Y - X @ H
        vals, vecs = np.linalg.eig(H)
        k = _dominant(vals)
        mu, y = vals[k], vecs[:, k] / np.linalg.norm(vecs[:, k])
        v = X @ y
        residual = float(np.linalg.norm(R @ y)) / max(abs(mu), np.finfo(float).tiny)
        if residual <= tol:  # relative residual of the Ritz pair (mu, v)
            # The residual bounds the backward error only. An eigenvalue of multiplicity m
            # (a defective one, or a tight cluster) moves by the m-th root of it: accept only
            # when that forward error is below sqrt(tol).
            m = int(np.count_nonzero(np.abs(vals - mu) <= _CLUSTER * abs(mu)))
            if residual ** (1.0 / m) <= np.sqrt(tol) * (1.0 + 1e-6):
                return mu, v, it, True
        X, _ = np.linalg.qr(Y)
    return mu, v, maxiter, False


def _dominant(vals: NDArray[np.complex128]) -> int:
    """Index of the Ritz value of largest modulus; a tie goes to larger real, then imag part."""
    mod = np.abs(vals)
    ties = np.flatnonzero(mod >= mod.max() * (1.0 - 1e-9))
    return int(ties[np.lexsort((-vals[ties].imag, -vals[ties].real))[0]])


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
    quotient :math:`\theta = x^*Ax` and the stopping test
    :math:`\|Ax - \theta x\| \le \mathrm{tol}\,|\theta|`. It converges when one eigenvalue
    strictly dominates in modulus. If it does not converge in `maxiter` steps, or its residual
    stagnates (does not halve in 50 steps), stage two runs subspace (block power) iterations
    on :math:`p = 2, 4, 8, 16` vectors with a :math:`p \times p` Rayleigh--Ritz step; block
    :math:`p` converges when the :math:`p` largest eigenvalues in modulus dominate the rest, at
    the rate :math:`|\lambda_{p+1}/\lambda_1|`: a complex-conjugate pair of a real matrix, a
    :math:`\pm\lambda` tie, or several eigenvalues of nearly equal modulus, as in trained
    recurrent matrices. A block result counts as converged only when its forward error, the
    relative residual to the power :math:`1/m` for a cluster of :math:`m` Ritz values within 5 %,
    is below :math:`\sqrt{\mathrm{tol}}`: near a defective eigenvalue a small residual does not
    make an accurate value. It returns the Ritz value of largest modulus (for a tie: largest
    real part, then imaginary part).

    Parameters
    ----------
    A : (N, N) array_like
        Real or complex square matrix; integers are cast to float64.
    tol : float, optional
        Relative residual tolerance, positive.
    maxiter : int, optional
        Maximum number of iterations of each stage, at least 1.
    seed : int or None, optional
        Seed of :func:`numpy.random.default_rng` for the random start vectors.

    Returns
    -------
    PowerResult
        `value`, `vector`, `iterations` (both stages) and `converged`.

    Raises
    ------
    NonNumericError, NonSquareError, EmptyMatrixError, NonFiniteError
        If `A` is not a finite, non-empty, numeric square matrix.
    ValueError
        If `tol` is not positive or `maxiter` is smaller than 1.

    Warns
    -----
    NotConvergedWarning
        If neither stage converged, e.g. when three or more eigenvalues share the largest
        modulus (any orthogonal matrix) or the dominant eigenvalue is defective. The returned
        `value` is then only the last estimate.

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
    """
    arr = as_square(A)
    tol = check_positive(tol, "tol")
    maxiter = check_count(maxiter, "maxiter", minimum=1)
    return _power(lambda x: arr @ x, arr.shape[0], arr.dtype, tol, maxiter, seed)


def _power(
    matvec: Callable[[NDArray[Any]], NDArray[Any]],
    n: int,
    dtype: np.dtype[Any],
    tol: float,
    maxiter: int,
    seed: int | None,
    *,
    stacklevel: int = 3,
) -> PowerResult:
    real_input = dtype.kind != "c"
    rng = np.random.default_rng(seed)
    x0 = _start_block(n, 1, dtype, rng)[:, 0]
    value, vector, its, converged = _single(matvec, x0, tol, maxiter)
    p = 2
    while not converged and p <= min(n, _MAX_BLOCK):
        logger.debug("power iteration did not converge; trying a %d-D subspace iteration", p)
        value_p, vector_p, its_p, converged = _block(
            matvec, _start_block(n, p, dtype, rng), tol, maxiter
        )
        its += its_p
        if converged:
            value, vector = value_p, vector_p
        p *= 2
    if not converged:
        warnings.warn(
            f"power iteration did not converge in {its} iterations (tol={tol:g}); the dominant "
            "eigenvalue may not be unique in modulus or may be defective",
            NotConvergedWarning,
            stacklevel=stacklevel,
        )
    value = _as_value(value, real_input)
    if isinstance(value, float) and real_input:
        vector = vector.real if np.iscomplexobj(vector) else vector
    vector = np.array(vector, copy=True)
    vector.setflags(write=False)
    return PowerResult(value=value, vector=vector, iterations=its, converged=converged)


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
    result = _power(lambda x: arr @ x, arr.shape[0], arr.dtype, 1e-10, 1000, 0)
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
    adj = arr.conj().T
    result = _power(lambda x: adj @ (arr @ x), arr.shape[0], arr.dtype, 1e-10, 1000, 0)
    return float(np.sqrt(max(float(np.real(result.value)), 0.0)))


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
