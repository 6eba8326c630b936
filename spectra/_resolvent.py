"""A checked matrix reduced once to a scaled complex Schur factor, shared by the resolvent code.

:func:`prepare` is the one place where a matrix enters :mod:`spectra.pseudospectra`,
:mod:`spectra.radius` and the Kreiss search of :mod:`spectra.transient`; a
:class:`spectra.SchurForm` computed once by the caller can be passed in, so that no function
repeats the :math:`O(N^3)` reduction.
"""

from __future__ import annotations

import logging
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg
from numpy.typing import ArrayLike, NDArray

from spectra._inverse_lanczos import ResolventSolver
from spectra._validation import as_numeric, as_square, check_positive
from spectra.errors import NonFiniteError, NonSquareError

__all__ = [
    "Prepared",
    "as_points",
    "check_seed",
    "check_tol",
    "prepare",
    "shared_factor",
    "sigma",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prepared:
    """A checked matrix reduced to a scaled Schur factor, shared by all public functions."""

    solver: ResolventSolver
    scale: float
    real: bool
    eigenvalues: NDArray[np.complex128]
    matrix: NDArray[Any]


def _gees_lwork(gees: Any, select: Any, A: NDArray[Any]) -> int:
    """Optimal workspace of ``?gees`` without the basis (LAPACK's query).

    The wrapper's default of 3N makes the Hessenberg reduction fall back to unblocked code,
    about 10 % slower at N = 1024.
    """
    work = gees(select, A, compute_v=0, lwork=-1)[-2]
    return max(int(np.real(work[0])), 3 * A.shape[0], 1)


def _schur_factor(A: NDArray[Any]) -> NDArray[np.complex128]:
    """Upper-triangular factor of a complex Schur form of `A` (the basis is not formed).

    A real matrix goes through the real Schur form and :func:`scipy.linalg.rsf2csf` (which turns
    it into a complex Schur form); that is about twice as fast as the complex QR algorithm.
    """
    if A.dtype.kind == "c":
        zgees = scipy.linalg.lapack.zgees
        lwork = _gees_lwork(zgees, lambda w: None, A)
        T, _, _, _, _, info = zgees(lambda w: None, A, compute_v=0, lwork=lwork)
    else:
        dgees = scipy.linalg.lapack.dgees
        lwork = _gees_lwork(dgees, lambda wr, wi: None, A)
        T, _, _, _, _, _, info = dgees(lambda wr, wi: None, A, compute_v=0, lwork=lwork)
        if info == 0:
            T, _ = scipy.linalg.rsf2csf(T, np.eye(A.shape[0]), check_finite=False)
    if info != 0:  # pragma: no cover - LAPACK's QR algorithm failed to converge
        logger.debug("gees returned info=%d; using scipy.linalg.schur", info)
        T, _ = scipy.linalg.schur(A, output="complex", check_finite=False)
    return np.triu(T).astype(np.complex128, copy=False)


def shared_factor(schur: Any, shape: tuple[int, ...]) -> NDArray[np.complex128]:
    """Upper-triangular factor of a caller's :class:`spectra.SchurForm`, checked against `A`."""
    T = getattr(schur, "T", None)
    if T is None:
        raise TypeError(f"schur must be a spectra.SchurForm (from spectra.schur(A)), got {schur!r}")
    T = np.asarray(T)
    if T.shape != shape:
        raise NonSquareError(f"schur.T has shape {T.shape}, but A has shape {shape}")
    if not np.isfinite(T).all():
        raise NonFiniteError(f"schur.T has NaN or infinite entries (shape {T.shape})")
    return np.triu(T).astype(np.complex128, copy=False)


def prepare(A: ArrayLike, schur: Any = None) -> Prepared:
    """Check `A`, scale it by a power of two and reduce it to a complex Schur factor.

    `schur`, when given, is a :class:`spectra.SchurForm` of `A` whose factor is reused.
    """
    arr = as_square(A)
    if arr.dtype.kind == "c" and not np.any(arr.imag):
        arr = np.ascontiguousarray(arr.real)
    # Scale by a power of two near the largest entry (exact, and safe from overflow in the
    # Schur reduction); sigma_min scales linearly with (A, z).
    top = float(np.abs(arr).max())
    scale = float(2.0 ** np.round(np.log2(top))) if top > 0 else 1.0
    if schur is None:
        T = _schur_factor(arr / scale)
    else:
        T = shared_factor(schur, arr.shape) / scale
    eigenvalues = np.diag(T) * scale
    order = np.lexsort((eigenvalues.imag, eigenvalues.real))
    return Prepared(
        solver=ResolventSolver(T),
        scale=scale,
        real=arr.dtype.kind == "f",
        eigenvalues=eigenvalues[order],
        matrix=arr,
    )


def sigma(
    prep: Prepared, z: NDArray[np.complex128], *, tol: float, seed: int
) -> NDArray[np.float64]:
    """Values at an array of points; duplicates (and mirror images for real A) computed once."""
    zf = z.ravel() / prep.scale
    if prep.real:
        zf = zf.real + 1j * np.abs(zf.imag)
    uniq, inverse = np.unique(zf, return_inverse=True)
    values = prep.solver.sigma(uniq, tol=tol, seed=seed)
    return (values[inverse] * prep.scale).reshape(z.shape)


def check_tol(tol: float, *, upper: float = 1.0) -> float:
    """Return `tol` if it is a number in (0, `upper`), else raise ValueError naming it."""
    value = check_positive(tol, "tol")
    if value >= upper:
        raise ValueError(f"tol must be a number in (0, {upper:g}), got {tol!r}")
    return value


def check_seed(seed: int) -> int:
    """Return `seed` as an int, or raise TypeError for anything but an integer."""
    if isinstance(seed, bool | np.bool_) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an integer, got {seed!r}")
    return int(seed)


def as_points(z: ArrayLike) -> NDArray[np.complex128]:
    """Return `z` as a finite complex array, or raise a domain error."""
    arr = as_numeric(z, "z", what="numeric points").astype(np.complex128)
    if not np.isfinite(arr).all():
        bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
        raise NonFiniteError(f"z has {bad} NaN or infinite entries (shape {arr.shape})")
    return arr
