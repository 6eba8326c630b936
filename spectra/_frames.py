"""Orthonormal frames pushed through Jacobians: the QR step of :func:`spectra.lyapunov`.

Two kinds of frames share one interface (``push`` a step's Jacobians, read the diagonal of
``R``), both re-orthonormalised by LAPACK's Householder QR at every step:

- :class:`_FullFrames` (real, ``k = S``): each sequence's square frame kept as Householder
  factors (``dormqr`` applies it, ``dgeqrf`` refactors), ``Q`` never formed.
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
from scipy.linalg import lapack

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


class _ExplicitFrames:
    """Explicit frames ``(B, S, k)`` re-orthonormalised by ``numpy.linalg.qr`` on the stack.

    LAPACK's Householder QR of each ``(S, k)`` matrix; for a :class:`RowScaled` batch ``J Q``
    is one matrix product of the shared matrix with the frames side by side, ``(S, B k)``.
    """

    def __init__(self, Q: NDArray[Any]) -> None:
        self.Q = Q
        self.R_diagonal = np.empty(Q.shape[::2])

    def diagonal(self) -> NDArray[Any]:
        return self.R_diagonal

    def push(self, J: NDArray[Any] | RowScaled) -> None:
        self.Q, R = np.linalg.qr(_times(J, self.Q))
        self.R_diagonal = np.diagonal(R, axis1=1, axis2=2)


class _FullFrames:
    """Full orthogonal frames of a batch kept as Householder factors (real, ``k = S``).

    ``J_t Q_{t-1}`` is formed by applying the reflectors of ``Q_{t-1}`` to ``J_t`` (LAPACK
    ``dormqr``) and refactored by ``dgeqrf``; ``Q`` itself is never formed, which saves the
    ``dorgqr`` and the matrix product of the explicit path. For :class:`RowScaled` Jacobians the
    reflectors are applied to the shared matrix and the result scaled, so ``J`` is not formed.
    """

    def __init__(self, Q: NDArray[np.float64]) -> None:
        self.factors: list[tuple[NDArray[np.float64], NDArray[np.float64]]] = []
        self.lwork = 1
        self._start = Q

    def diagonal(self) -> NDArray[np.float64]:
        return np.stack([np.diagonal(qr) for qr, _ in self.factors])

    def push(self, J: NDArray[Any] | RowScaled) -> None:
        if not self.factors:  # the first step multiplies the explicit starting frame
            P = _times(J, self._start)
            self.factors = [lapack.dgeqrf(P[b])[:2] for b in range(P.shape[0])]
            qr0, tau0 = self.factors[0]
            query = lapack.dormqr("L", "T", qr0, tau0, np.asfortranarray(P[0]), lwork=-1)
            self.lwork = max(1, int(query[1][0].real))
            return
        scaled = isinstance(J, RowScaled)
        if scaled:
            # (diag(s) M Q)^T = (Q^T M^T) diag(s): M^T as a Fortran-ordered view of M
            Mt = J.matrix.T
        for b, (qr, tau) in enumerate(self.factors):
            # (J Q)^T = Q^T J^T, with J^T handed to LAPACK as a Fortran-ordered view of J
            Jt = Mt if scaled else np.asarray(J[b], dtype=np.float64).T
            C, _, info = lapack.dormqr("L", "T", qr, tau, Jt, lwork=self.lwork)
            if info != 0:  # pragma: no cover - LAPACK argument error
                raise RuntimeError(f"LAPACK dormqr failed with info={info}")
            if scaled:
                C *= J.scale[b][None, :]
            self.factors[b] = lapack.dgeqrf(C.T)[:2]


def frames(Q: NDArray[Any]) -> _FullFrames | _ExplicitFrames:
    """Frames from ``Q`` ``(B, S, k)``: Householder factors (real, ``k = S``) or explicit."""
    if Q.dtype.kind != "c" and Q.shape[2] == Q.shape[1]:
        return _FullFrames(Q)
    return _ExplicitFrames(Q)
