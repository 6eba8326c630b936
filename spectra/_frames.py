"""Orthonormal frames pushed through Jacobians: the QR step of :func:`spectra.lyapunov`.

Two kinds of frames share one interface (``push`` a step's Jacobians onto the pending
product, ``orthonormalise`` it and read ``log |R_ii|``), both by LAPACK's Householder QR:

- :class:`_FullFrames` (real, ``k = S``): each sequence's square frame kept as compact-WY
  Householder factors (``dgemqrt`` applies it, ``dgeqrt`` refactors), ``Q`` never formed.
- :class:`_ExplicitFrames` (``k < S``, or complex): explicit ``(B, S, k)`` frames and
  ``numpy.linalg.qr`` on the stack.

A step's Jacobians are either an array ``(B, S, S)`` or :class:`spectra.RowScaled`
(``diag(scale_b) M`` with one matrix ``M`` for the batch), whose product with a frame is one
matrix product for the whole batch followed by a row scaling; ``J`` is never formed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.linalg import blas, lapack

from spectra._blocks import GROWTH_LIMIT
from spectra._validation import as_numeric
from spectra.errors import NonSquareError

__all__ = ["RowScaled"]


@dataclass(frozen=True, init=False)
class RowScaled:
    r"""A batch of Jacobians :math:`J_b = \operatorname{diag}(s_b)\, M` kept in factored form.

    The Jacobian of a vanilla recurrent step :math:`h' = f(W h + U x + b)` is
    :math:`\operatorname{diag}(f'(a))\, W`: one matrix for the whole batch, scaled row by row.
    :func:`spectra.lyapunov` multiplies a frame by it as one matrix product for the batch and a
    row scaling, without forming the ``B`` matrices.

    Parameters
    ----------
    scale : (B, S) or (S,) array_like
        Row scales :math:`s_b` of every sequence.
    matrix : (S, S) array_like
        The shared matrix :math:`M`.

    Attributes
    ----------
    scale : (B, S) ndarray
        Row scales (float64, or complex128 when either input is complex).
    matrix : (S, S) ndarray
        The shared matrix.

    Raises
    ------
    NonNumericError
        If either input is not numeric.
    NonSquareError
        If ``matrix`` is not square or ``scale`` does not have ``S`` columns.

    Examples
    --------
    >>> import numpy as np
    >>> J = RowScaled(np.array([[1.0, 0.5]]), np.array([[0.0, 2.0], [1.0, 0.0]]))
    >>> J.dense().tolist()
    [[[0.0, 2.0], [0.5, 0.0]]]
    """

    scale: NDArray[Any]
    matrix: NDArray[Any]

    def __init__(self, scale: ArrayLike, matrix: ArrayLike) -> None:
        M = as_numeric(matrix, "matrix", what="a numeric square matrix")
        d = as_numeric(scale, "scale", what="a numeric array of row scales")
        if M.ndim != 2 or M.shape[0] != M.shape[1]:
            raise NonSquareError(f"expected a square matrix, got shape {M.shape}")
        if d.ndim == 1:
            d = d[None]
        if d.ndim != 2 or d.shape[1] != M.shape[0]:
            raise NonSquareError(
                f"expected row scales of shape (B, {M.shape[0]}) for a {M.shape} matrix, "
                f"got shape {d.shape}"
            )
        dtype = np.complex128 if "c" in (M.dtype.kind, d.dtype.kind) else np.float64
        object.__setattr__(self, "scale", d.astype(dtype, copy=False))
        object.__setattr__(self, "matrix", M.astype(dtype, copy=False))

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(B, S, S)``, the shape of the dense batch."""
        B, S = self.scale.shape
        return (B, S, S)

    @property
    def dtype(self) -> np.dtype[Any]:
        """Dtype of the dense batch."""
        return self.matrix.dtype

    def finite(self) -> bool:
        """Return whether every scale and matrix entry is finite.

        Returns
        -------
        bool
            ``False`` if any entry is NaN or infinite.
        """
        return bool(np.isfinite(self.scale).all() and np.isfinite(self.matrix).all())

    def dense(self) -> NDArray[Any]:
        r"""Return the ``B`` Jacobians as one array.

        Returns
        -------
        (B, S, S) ndarray
            :math:`\operatorname{diag}(s_b) M` for every ``b``.
        """
        return self.scale[:, :, None] * self.matrix[None]


def _times(J: NDArray[Any] | RowScaled, Q: NDArray[Any]) -> NDArray[Any]:
    """``J_b Q_b`` for every ``b``: ``(B, S, k)``."""
    if isinstance(J, RowScaled):
        B, S, k = Q.shape
        # one product for the whole batch, M [Q_1 ... Q_B], then every row scaled per sequence
        wide = (J.matrix @ Q.transpose(1, 0, 2).reshape(S, B * k)).reshape(S, B, k)
        wide *= J.scale.T[:, :, None]
        return wide.transpose(1, 0, 2)
    return J @ Q


def _zero_rows_last(zero: NDArray[np.bool_]) -> NDArray[np.intp] | None:
    """Row order that puts the rows flagged in ``zero`` ``(S,)`` last, or ``None`` if none is.

    Householder QR keeps an exactly zero row zero only if no reflector mixes it with the
    others: at the bottom it does (every reflector built from the rows above is zero there),
    so the diagonal of ``R`` that a rank-deficient product leaves is exactly zero, as in exact
    arithmetic; in place, rounding leaves about ``eps ||A||`` there, which would turn the
    exponent ``-inf`` of a singular step into a finite number near ``log eps``.
    """
    if not zero.any():
        return None
    return np.argsort(zero, kind="stable")


class _ExplicitFrames:
    """Explicit frames ``(B, S, k)`` re-orthonormalised by ``numpy.linalg.qr`` on the stack.

    LAPACK's Householder QR of each ``(S, k)`` matrix; for a :class:`RowScaled` batch ``J Q``
    is one matrix product of the shared matrix with the frames side by side, ``(S, B k)``.
    Between re-orthonormalisations the frames hold the product of the steps pushed since.
    """

    def __init__(self, Q: NDArray[Any]) -> None:
        self.Q = Q
        self.A = Q
        self.pending = 0
        self.condition: NDArray[np.float64] | None = None

    def push(self, J: NDArray[Any] | RowScaled) -> None:
        self.A = _times(J, self.A)
        self.pending += 1

    def orthonormalise(self, *, estimate: bool = False) -> NDArray[np.float64]:
        """Factor the pending products; return ``log |R_ii|`` ``(B, k)``.

        With ``estimate``, :attr:`condition` ``(B,)`` is set to the 1-norm condition number of
        each ``R`` (that of the product the frame went through since the last factorisation).
        """
        orders = [_zero_rows_last(z) for z in ~self.A.any(axis=2)]
        if any(o is not None for o in orders):  # exactly zero rows: factor them last
            S = self.A.shape[1]
            order = np.stack([np.arange(S) if o is None else o for o in orders])[:, :, None]
            Q, R = np.linalg.qr(np.take_along_axis(self.A, order, axis=1))
            self.Q = np.empty_like(Q)
            np.put_along_axis(self.Q, order, Q, axis=1)
        else:
            self.Q, R = np.linalg.qr(self.A)
        self.A, self.pending = self.Q, 0
        with np.errstate(divide="ignore"):
            logs = np.log(np.abs(np.diagonal(R, axis1=1, axis2=2)))
        if estimate:
            with np.errstate(all="ignore"):
                condition = np.linalg.cond(R, p=1)
            self.condition = np.where(np.isfinite(logs).all(axis=1), condition, np.inf)
        return logs

    def checkpoint(self) -> Any:
        return self.Q

    def restore(self, saved: Any) -> None:
        self.Q = self.A = saved
        self.pending = 0

    def refine(self) -> NDArray[np.float64]:
        """Nothing to remove: ``numpy.linalg.qr`` forms ``Q``; return zeros ``(B, k)``."""
        return np.zeros(self.Q.shape[::2])


_BLOCK = 32  # block size of LAPACK's compact-WY Householder QR (dgeqrt)
# frames at least this wide are factored by dgeqrt, whose recursive panels beat dgeqrf's
# unblocked code below its crossover (128 x 128: 0.16 ms against 0.22 ms, 1 thread); narrower
# ones by dgeqrf, which is faster there (128 x 10: 3 us against 6 us)
_RECURSIVE_FROM = 64


class _FullFrames:
    """Full orthogonal frames of a batch kept as compact-WY Householder factors (real, ``k = S``).

    A step after a re-orthonormalisation applies the factors of ``Q_b`` from the right to
    ``J_b`` (LAPACK ``dgemqrt``: ``J_b Q_b``, for :class:`RowScaled` to the shared matrix, then
    row-scaled); further steps before the next one are matrix products. The pending products
    are held transposed, ``X_b = A_b^T`` (C order, so ``X_b^T`` is ``A_b`` in Fortran order for
    LAPACK, and a :class:`RowScaled` step is one product ``X W^T`` for the whole batch).
    ``dgeqrt`` refactors; ``Q`` itself is never formed.
    """

    def __init__(self, Q: NDArray[np.float64]) -> None:
        self.factors: list[tuple[NDArray[np.float64], NDArray[np.float64]]] | None = None
        self.orders: list[NDArray[np.intp] | None] = []  # row order of each factored product
        self._start = Q
        self.X: NDArray[np.float64] | None = None
        self.pending = 0
        self.block = max(1, min(_BLOCK, Q.shape[1]))
        self.condition: NDArray[np.float64] | None = None

    def push(self, J: NDArray[Any] | RowScaled) -> None:
        scaled = isinstance(J, RowScaled)
        if self.factors is None:  # the first step multiplies the explicit starting frame
            self.X = np.ascontiguousarray(_times(J, self._start).transpose(0, 2, 1))
        elif self.pending == 0:
            B, S, _ = J.shape
            X = np.empty((B, S, S))
            M = np.asfortranarray(J.matrix) if scaled else None
            for b, (V, T) in enumerate(self.factors):
                C = M if scaled else np.asfortranarray(J[b], dtype=np.float64)
                order = self.orders[b]
                if order is not None:  # Q_b = P^T Q'_b: J_b Q_b = J_b[:, order] Q'_b
                    C = np.asfortranarray(C[:, order])
                AQ, info = lapack.dgemqrt(V, T, C, side="R", trans="N")
                if info != 0:  # pragma: no cover - LAPACK argument error
                    raise RuntimeError(f"LAPACK dgemqrt failed with info={info}")
                X[b] = AQ.T
            if scaled:
                X *= J.scale[:, None, :]
            self.X = X
        else:
            assert self.X is not None
            B, S, _ = self.X.shape
            if scaled:
                X = (self.X.reshape(B * S, S) @ J.matrix.T).reshape(B, S, S)
                X *= J.scale[:, None, :]
            else:
                X = np.matmul(self.X, np.asarray(J, dtype=np.float64).transpose(0, 2, 1))
            self.X = X
        self.pending += 1

    def orthonormalise(self, *, estimate: bool = False) -> NDArray[np.float64]:
        """Factor the pending products; return ``log |R_ii|`` ``(B, S)`` (no estimate here)."""
        assert self.X is not None and not estimate
        factors = []
        orders = [_zero_rows_last(z) for z in ~self.X.any(axis=1)]
        for X_b, order in zip(self.X, orders, strict=True):
            A = X_b.T if order is None else np.asfortranarray(X_b.T[order])
            V, T, info = lapack.dgeqrt(self.block, A, overwrite_a=1)
            if info != 0:  # pragma: no cover - LAPACK argument error
                raise RuntimeError(f"LAPACK dgeqrt failed with info={info}")
            factors.append((V, T))
        self.factors, self.orders, self.X, self.pending = factors, orders, None, 0
        with np.errstate(divide="ignore"):
            return np.log(np.abs(np.stack([np.diagonal(V) for V, _ in factors])))

    def checkpoint(self) -> Any:
        return self.factors, self.orders

    def restore(self, saved: Any) -> None:
        (self.factors, self.orders), self.X, self.pending = saved, None, 0

    def refine(self) -> NDArray[np.float64]:
        """Nothing to remove: the Householder factors are exactly orthogonal; zeros ``(B, S)``."""
        return np.zeros(self._start.shape[::2])


class _SolvedFrames:
    r"""Explicit real frames for runs of steps: ``R`` by Householder QR, then ``F = A R^{-1}``.

    The pending products are held transposed, ``X_b = A_b^T`` ``(k, S)`` in C order (so
    ``X_b^T`` is ``A_b`` in Fortran order, and a :class:`RowScaled` step is one product
    ``X W^T`` for the whole batch). At a re-orthonormalisation LAPACK's ``dgeqrf`` gives ``R``
    and a triangular solve (``dtrsm``, in place) gives :math:`F = A R^{-1}`, half the cost of
    forming ``Q`` (frames of 64 columns or more are factored by ``dgeqrt``, narrower ones by
    ``dgeqrf``). ``F`` is orthonormal only to about :math:`\varepsilon \kappa(R)`, but its
    departure is triangular to first order (:math:`F = Q T`, ``T`` upper triangular): the next
    factorisation of :math:`A' F` has the factor :math:`R' T`, so the diagonals of ``T``
    cancel between consecutive factors and only that of the last frame is left over, which
    :meth:`refine` removes. A sequence whose :math:`\kappa(R)` exceeds the run limit
    (:data:`spectra._blocks.GROWTH_LIMIT`; a singular step, say) has its ``Q``
    formed from the reflectors (``dorgqr``) instead.
    """

    def __init__(self, Q: NDArray[np.float64]) -> None:
        self.X = np.ascontiguousarray(Q.transpose(0, 2, 1))
        self.pending = 0
        self.condition: NDArray[np.float64] | None = None
        self.formed = 0  # sequences whose Q had to be formed from the reflectors

    def push(self, J: NDArray[Any] | RowScaled) -> None:
        B, k, S = self.X.shape
        # a run that overflows (or underflows) is found singular at its QR and redone step by
        # step, so numpy's warning would only repeat what is handled
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            if isinstance(J, RowScaled):
                X = (self.X.reshape(B * k, S) @ J.matrix.T).reshape(B, k, S)
                X *= J.scale[:, None, :]
            else:
                X = np.matmul(self.X, np.asarray(J, dtype=np.float64).transpose(0, 2, 1))
        self.X = X
        self.pending += 1

    def orthonormalise(self, *, estimate: bool = True) -> NDArray[np.float64]:
        """Factor the pending products; return ``log |R_ii|`` ``(B, k)``.

        :attr:`condition` ``(B,)`` is set to LAPACK's estimate (``dtrcon``) of the 1-norm
        condition number of each ``R``, that of the product since the last factorisation.
        """
        B, k, S = self.X.shape
        recursive = k >= _RECURSIVE_FROM
        logs = np.empty((B, k))
        condition = np.empty(B)
        orders = [_zero_rows_last(z) for z in ~self.X.any(axis=1)]
        for b in range(B):
            A = self.X[b].T  # (S, k), Fortran order, a view of the frame
            order = orders[b]
            if order is not None:  # exactly zero rows, factored last: R is exactly singular
                A = np.asfortranarray(A[order])
            if recursive:
                qr, tau, info = lapack.dgeqrt(min(_BLOCK, k), A)
            else:
                qr, tau, _, info = lapack.dgeqrf(A)
            if info != 0:  # pragma: no cover - LAPACK argument error
                raise RuntimeError(f"LAPACK QR failed with info={info}")
            with np.errstate(divide="ignore"):
                logs[b] = np.log(np.abs(np.diagonal(qr)))
            rcond, _ = lapack.dtrcon(qr[:k], norm="1", uplo="U", diag="N")
            condition[b] = 1.0 / rcond if rcond > 0 and np.isfinite(logs[b]).all() else np.inf
            if condition[b] <= GROWTH_LIMIT:
                Q = blas.dtrsm(1.0, qr[:k], A, side=1, lower=0, overwrite_b=1)
            elif recursive:
                Q, info = lapack.dgemqrt(qr, tau, np.eye(S, k, order="F"), side="L", trans="N")
                self.formed += 1
            else:
                Q, _, info = lapack.dorgqr(qr, tau)
                self.formed += 1
            if order is not None:  # A = P^T Q' R: the frame is Q' with the rows put back
                self.X[b][:, order] = Q.T
            elif not np.shares_memory(Q, self.X):
                self.X[b] = Q.T
        self.condition = condition
        self.pending = 0
        return logs

    def refine(self) -> NDArray[np.float64]:
        r"""Make the frames orthonormal; return the ``log |T_ii|`` ``(B, k)`` this removes.

        ``F = Q T`` by Householder QR, ``Q`` formed from the reflectors. Added to the last
        factorisation's logarithms, they give those of the QR factor of the whole product;
        applied where the averaging starts (``discard``), they keep the skew of the frame out
        of the average.
        """
        B, k, _ = self.X.shape
        logs = np.empty((B, k))
        for b in range(B):
            qr, tau, _, info = lapack.dgeqrf(self.X[b].T)
            if info != 0:  # pragma: no cover - LAPACK argument error
                raise RuntimeError(f"LAPACK dgeqrf failed with info={info}")
            with np.errstate(divide="ignore"):
                logs[b] = np.log(np.abs(np.diagonal(qr)))
            Q, _, info = lapack.dorgqr(qr, tau)
            self.X[b] = Q.T
        return logs

    def checkpoint(self) -> Any:
        return self.X

    def restore(self, saved: Any) -> None:
        self.X, self.pending = saved, 0


def frames(Q: NDArray[Any], *, runs: bool = False) -> _FullFrames | _ExplicitFrames | _SolvedFrames:
    """Frames from ``Q`` ``(B, S, k)``.

    Householder factors (real, ``k = S``), explicit ``numpy.linalg.qr`` frames (complex, or
    ``k < S``), or, for runs of several steps between factorisations (``runs``, real),
    :class:`_SolvedFrames`.
    """
    if Q.dtype.kind != "c" and runs:
        return _SolvedFrames(Q)
    if Q.dtype.kind != "c" and Q.shape[2] == Q.shape[1]:
        return _FullFrames(Q)
    return _ExplicitFrames(Q)
