r"""Power and subspace iteration with a forward-error certificate and a work budget.

A Ritz pair :math:`(\mu, v)` with a small residual :math:`r = Av - \mu v` is an exact
eigenpair of :math:`A - r v^*`: the residual bounds the *backward* error only. The *forward*
error :math:`|\mu - \lambda|` is, to first order, :math:`\kappa(\lambda)\,\|r\|` with the
eigenvalue condition number :math:`\kappa(\lambda) = 1/|y^*x|` (unit left and right
eigenvectors). Near a defective or ill-conditioned eigenvalue the difference is large: for
:math:`0.5 I + J + J^2` (12 x 12) the power iteration reaches a relative residual below
:math:`10^{-10}` at :math:`\mu = 0.6035 + 0.0232i`, a tenth away from the only eigenvalue 0.5.

The certificate here estimates :math:`\kappa` at :math:`\mu` by inverse iteration on
:math:`(A - \mu I)^*` with one LU factorisation, starting from :math:`v`. When :math:`\mu` is
close to a simple eigenvalue this gives its left eigenvector, and
:math:`\hat\kappa\,\|r\|` is the first-order forward error. When :math:`\mu` is only a
pseudo-eigenvalue (inside the :math:`\|r\|`-pseudospectrum but far from the spectrum),
:math:`y` and :math:`v` are the singular vectors of the smallest singular value of
:math:`A - \mu I`, :math:`1/|y^*v|` is the inverse slope of :math:`\sigma_{\min}(zI - A)` at
:math:`\mu`, and :math:`\hat\kappa\,\|r\|` is the Newton step towards the spectrum. Near a Jordan
block of size :math:`m` that step is :math:`|\mu - \lambda|/m`, so the estimate is right
within a factor :math:`m`. A value counts as converged only when this estimate is at most
``tol`` times :math:`|\mu|`; an estimate that would need a residual below the rounding level
:math:`16\,\epsilon\,\|A\|_F` ends the iteration as not converged.

Work is capped: all matrix-vector products (and the QR steps of the subspace iterations)
together cost at most ``BUDGET * N**3`` real flops (at least ``MIN_FLOPS``), which is a small
fraction of one dense Schur decomposition (about :math:`25N^3`). The certificate adds at most
``MAX_CERTIFICATES`` LU factorisations of :math:`N^3`-order each.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import scipy.linalg
from numpy.typing import NDArray
from threadpoolctl import ThreadpoolController

logger = logging.getLogger(__name__)

#: Iterations between two stagnation checks (the residual must halve over a window).
WINDOW = 50
#: Largest block of the subspace iterations tried after the plain power iteration.
MAX_BLOCK = 16
#: All products and QR steps of one call cost at most ``BUDGET * N**3`` real flops ...
BUDGET = 1.0
#: ... but at least this many (small matrices, where a dense decomposition is negligible).
MIN_FLOPS = float(2**26)
#: Largest number of LU-based certificates (each about one dense factorisation) per call.
MAX_CERTIFICATES = 2
#: Residuals below ``ROUNDING * eps * ||A||_F`` cannot be reached in floating point.
ROUNDING = 16.0

_EPS = float(np.finfo(np.float64).eps)


@dataclass
class Outcome:
    """What one run of :func:`iterate` found (before unscaling)."""

    value: Any
    vector: NDArray[Any]
    iterations: int
    converged: bool
    reason: str
    error_estimate: float


class Operator:
    r"""The map :math:`x \mapsto Mx` of the iteration, its cost and its certificate.

    Parameters
    ----------
    matvec : callable
        Applies :math:`M` to an ``(N,)`` vector or an ``(N, p)`` block.
    n : int
        Size of :math:`M`.
    complex_arithmetic : bool
        Whether the products are complex (four times the real flops).
    flops_per_vector : float
        Real flops of one product with one vector.
    frobenius : float
        :math:`\|M\|_F` (an upper bound is enough), for the rounding level of the residual.
    matrix : (N, N) ndarray or None
        :math:`M` itself, for the LU certificate; ``None`` when :math:`M` is Hermitian
        (the forward error of a Rayleigh quotient of a Hermitian matrix is at most the
        residual, so no certificate is needed).
    """

    def __init__(
        self,
        matvec: Callable[[NDArray[Any]], NDArray[Any]],
        n: int,
        *,
        complex_arithmetic: bool,
        flops_per_vector: float,
        frobenius: float,
        matrix: NDArray[Any] | None,
    ) -> None:
        self.matvec = matvec
        self.n = n
        self.complex_arithmetic = complex_arithmetic
        self.flops_per_vector = flops_per_vector
        self.floor = ROUNDING * _EPS * frobenius
        self.matrix = matrix
        self.budget = max(BUDGET * float(n) ** 3, MIN_FLOPS)
        self.spent = 0.0
        self.certificates = 0

    def charge(self, p: int) -> bool:
        """Charge one iteration on a block of `p` vectors; false when the budget is spent."""
        qr = 6.0 * self.n * p * p * (4.0 if self.complex_arithmetic else 1.0) if p > 1 else 0.0
        cost = p * self.flops_per_vector + qr
        if self.spent + cost > self.budget:
            return False
        self.spent += cost
        return True

    def condition(self, mu: Any, v: NDArray[Any]) -> float:
        r"""Estimate :math:`1/|y^*v|` at :math:`\mu` (``inf`` when no certificate is left)."""
        if self.matrix is None:
            return 1.0
        if self.certificates >= MAX_CERTIFICATES:
            return float("inf")
        self.certificates += 1
        M = self.matrix
        shifted = M - mu * np.eye(self.n, dtype=np.result_type(M.dtype, np.asarray(mu).dtype))
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
            lu, piv = scipy.linalg.lu_factor(shifted, check_finite=False)
            diag = np.diagonal(lu).copy()
            tiny = np.abs(diag) < self.floor
            if tiny.any():  # mu is an eigenvalue to working precision: perturb the pivot
                lu[np.diag_indices(self.n)] = np.where(tiny, self.floor, diag)
            y = np.asarray(v, dtype=lu.dtype)
            for _ in range(2):
                y = scipy.linalg.lu_solve((lu, piv), y, trans=2, check_finite=False)
                size = float(np.linalg.norm(y))
                if not np.isfinite(size) or size == 0.0:
                    return float("inf")
                y = y / size
        overlap = abs(complex(np.vdot(y, v)))
        return 1.0 / overlap if overlap > 0.0 else float("inf")


@lru_cache(maxsize=1)
def _controller() -> ThreadpoolController:
    return ThreadpoolController()


def single_threaded_blas() -> AbstractContextManager[object]:
    """Context in which BLAS runs on one thread.

    The iteration is a long sequence of small products; on a multi-threaded BLAS each pays a
    synchronisation, which on a busy machine costs more CPU time than the product itself.
    """
    return _controller().limit(limits=1, user_api="blas")


def _start_block(n: int, p: int, complex_start: bool, rng: np.random.Generator) -> NDArray[Any]:
    X = rng.standard_normal((n, p))
    if complex_start:
        X = X + 1j * rng.standard_normal((n, p))
    Q, _ = np.linalg.qr(X)
    return Q


def dominant(vals: NDArray[np.complex128]) -> int:
    """Index of the Ritz value of largest modulus; a tie goes to larger real, then imag part."""
    mod = np.abs(vals)
    ties = np.flatnonzero(mod >= mod.max() * (1.0 - 1e-9))
    return int(ties[np.lexsort((-vals[ties].imag, -vals[ties].real))[0]])


class _Acceptance:
    """The forward-error test of one Ritz pair, with a memory of the condition estimate."""

    def __init__(self, op: Operator, tol: float) -> None:
        self.op = op
        self.tol = tol
        self.kappa = 1.0 if op.matrix is None else float("nan")
        self.hopeless = False

    def target(self, mu: Any) -> float:
        """Residual below which the pair should be certified (backward test first)."""
        scale = self.tol * abs(mu)
        return scale if np.isnan(self.kappa) else scale / self.kappa

    def check(self, mu: Any, v: NDArray[Any], residual: float) -> tuple[bool, float]:
        """Return ``(accepted, error estimate)``; sets `hopeless` when tol cannot be met."""
        if residual > self.target(mu):
            return False, self.kappa * residual
        self.kappa = self.op.condition(mu, v)
        estimate = self.kappa * residual
        if estimate <= self.tol * abs(mu):
            return True, estimate
        if not np.isfinite(self.kappa) or self.kappa * self.op.floor > self.tol * abs(mu):
            self.hopeless = True
        return False, estimate


def _single(
    op: Operator, x: NDArray[Any], accept: _Acceptance, maxiter: int
) -> tuple[Outcome, bool]:
    """Plain power iteration with the Rayleigh quotient; returns the outcome and `stagnated`."""
    theta: Any = 0.0
    checkpoint = np.inf
    estimate = float("inf")
    for it in range(1, maxiter + 1):
        if not op.charge(1):
            return Outcome(theta, x, it - 1, False, "work budget spent", estimate), False
        y = op.matvec(x)
        theta = np.vdot(x, y)
        residual = float(np.linalg.norm(y - theta * x))
        ynorm = float(np.linalg.norm(y))
        if ynorm == 0.0:  # x is an exact null vector: eigenvalue 0
            return Outcome(0.0, x, it, True, "exact null vector", 0.0), False
        ok, estimate = accept.check(theta, x, residual)
        if ok:
            return Outcome(theta, x, it, True, "converged", estimate), False
        if accept.hopeless:
            return Outcome(theta, x, it, False, "ill-conditioned", estimate), False
        x = y / ynorm
        if it % WINDOW == 0:
            if residual > 0.5 * checkpoint:
                return Outcome(theta, x, it, False, "stagnated", estimate), True
            checkpoint = residual
    return Outcome(theta, x, maxiter, False, "maxiter reached", estimate), True


def _block(
    op: Operator, X: NDArray[Any], accept: _Acceptance, maxiter: int
) -> tuple[Outcome, NDArray[Any], bool]:
    """Subspace iteration with Rayleigh--Ritz (complex pairs, +-lambda, near ties).

    Returns the outcome, the last orthonormal basis (to seed a larger block) and `stagnated`.
    """
    p = X.shape[1]
    mu: Any = 0.0
    v = X[:, 0]
    checkpoint = np.inf
    estimate = float("inf")
    for it in range(1, maxiter + 1):
        if not op.charge(p):
            return Outcome(mu, v, it - 1, False, "work budget spent", estimate), X, False
        Y = op.matvec(X)
        H = X.conj().T @ Y
        vals, vecs = np.linalg.eig(H)
        k = dominant(vals)
        mu, s = vals[k], vecs[:, k] / np.linalg.norm(vecs[:, k])
        v = X @ s
        residual = float(np.linalg.norm(Y @ s - mu * v))
        ok, estimate = accept.check(mu, v, residual)
        if ok:
            return Outcome(mu, v, it, True, "converged", estimate), X, False
        if accept.hopeless:
            return Outcome(mu, v, it, False, "ill-conditioned", estimate), X, False
        X, _ = np.linalg.qr(Y)
        if it % WINDOW == 0:
            if residual > 0.5 * checkpoint:
                return Outcome(mu, v, it, False, "stagnated", estimate), X, True
            checkpoint = residual
    return Outcome(mu, v, maxiter, False, "maxiter reached", estimate), X, True


def iterate(op: Operator, *, tol: float, maxiter: int, seed: int | None) -> Outcome:
    """Run the plain power iteration, then subspace iterations on 2, 4, 8, 16 vectors.

    Each larger block starts from the last basis of the smaller one plus fresh random vectors,
    so no progress is lost; all stages share one work budget.
    """
    with single_threaded_blas():
        return _iterate(op, tol=tol, maxiter=maxiter, seed=seed)


def _iterate(op: Operator, *, tol: float, maxiter: int, seed: int | None) -> Outcome:
    rng = np.random.default_rng(seed)
    accept = _Acceptance(op, tol)
    x0 = _start_block(op.n, 1, op.complex_arithmetic, rng)[:, 0]
    outcome, go_on = _single(op, x0, accept, maxiter)
    total = outcome.iterations
    basis = outcome.vector[:, None] / max(float(np.linalg.norm(outcome.vector)), 1e-300)
    p = 2
    while go_on and p <= min(op.n, MAX_BLOCK):
        logger.debug("power iteration did not converge; trying a %d-D subspace iteration", p)
        fresh = _start_block(op.n, p, op.complex_arithmetic, rng)
        start, _ = np.linalg.qr(np.concatenate([basis, fresh[:, : p - basis.shape[1]]], axis=1))
        block_outcome, basis, go_on = _block(op, start, accept, maxiter)
        total += block_outcome.iterations
        if block_outcome.converged or block_outcome.iterations > 0:
            outcome = block_outcome
        if block_outcome.converged:
            break
        p *= 2
    if not outcome.converged and go_on and p > min(op.n, MAX_BLOCK):
        outcome.reason = "no block size converged"
    outcome.iterations = total
    logger.debug(
        "power iteration: %s after %d iterations (%.3g of %.3g flops, %d certificates)",
        outcome.reason,
        total,
        op.spent,
        op.budget,
        op.certificates,
    )
    return outcome
