r"""The operator :math:`B_z = (T - zI)^{-1}(T - zI)^{-H}` applied to one vector per point.

Two ways to apply it to the Lanczos block of all active points at once, for an upper-triangular
`T` (a complex Schur factor): blocked sweeps in which only the diagonal of :math:`T - zI` depends
on `z` (row updates vectorised over the points inside a diagonal block, one complex GEMM per
coupling panel), and per-point LAPACK triangular solves for small active sets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray
from scipy.linalg import blas, lapack

if TYPE_CHECKING:
    from spectra._inverse_lanczos import ResolventSolver

__all__ = ["Blocked", "Pointwise", "compress", "view"]

_zgemm = blas.zgemm
_zgemv = blas.zgemv
_ztrtrs = lapack.ztrtrs


def view(buf: NDArray[np.complex128], rows: int, cols: int) -> NDArray[np.complex128]:
    """C-contiguous (rows, cols) view of the start of a flat buffer."""
    return buf[: rows * cols].reshape(rows, cols)


def compress(
    src: NDArray[np.complex128], mask: NDArray[np.bool_], buf: NDArray[np.complex128]
) -> NDArray[np.complex128]:
    """Copy the columns of `src` selected by `mask` into the start of the flat buffer `buf`."""
    out = view(buf, src.shape[0], int(mask.sum()))
    np.compress(mask, src, axis=1, out=out)
    return out


class Blocked:
    """Apply :math:`B_z` to one vector per point with blocked, GEMM-coupled sweeps."""

    def __init__(self, solver: ResolventSolver, z: NDArray[np.complex128]) -> None:
        self.s = solver
        n, g = solver.n, z.size
        self.bufs = [np.empty(n * g, dtype=np.complex128) for _ in range(2)]
        self.dinv = view(self.bufs[0], n, g)
        np.subtract(solver.diag[:, None], z[None, :], out=self.dinv)
        np.reciprocal(self.dinv, out=self.dinv)

    def compact(self, mask: NDArray[np.bool_]) -> None:
        self.dinv = compress(self.dinv, mask, self.bufs[1])
        self.bufs.reverse()

    def apply(self, Q: NDArray[np.complex128], Y: NDArray[np.complex128]) -> NDArray[np.float64]:
        r"""Overwrite `Y` with :math:`B_z Q`; return :math:`\|(T - zI)^{-H} q\|^2` per column."""
        s = self.s
        T, Lh, dinv = s.T, s.Lh, self.dinv
        np.copyto(Y, Q)
        Yt = Y.T  # Fortran-ordered view: points are the rows seen by BLAS
        V = Y.view(np.float64)
        alpha2 = np.zeros(V.shape[1])
        # Forward sweep: (T - zI)^H Y = Q, lower triangular with conj(T) transposed.
        for (j0, j1), panel in zip(s.blocks, s.lower_panels, strict=True):
            dinv_h = dinv[j0:j1].conj()  # the block's pivots of (T - zI)^H, conjugated at once
            for i in range(j0, j1):
                if i > j0:
                    _zgemv(-1.0, Yt[:, j0:i], Lh[i, j0:i], 1.0, Yt[:, i], overwrite_y=1)
                Y[i] *= dinv_h[i - j0]
            alpha2 += np.einsum("ij,ij->j", V[j0:j1], V[j0:j1])
            if panel is not None:
                _zgemm(-1.0, Yt[:, j0:j1], panel, 1.0, Yt[:, j1:], overwrite_c=1)
        # Backward sweep: (T - zI) X = Y, upper triangular.
        for (j0, j1), panel in zip(reversed(s.blocks), reversed(s.upper_panels), strict=True):
            for i in range(j1 - 1, j0 - 1, -1):
                if i < j1 - 1:
                    _zgemv(-1.0, Yt[:, i + 1 : j1], T[i, i + 1 : j1], 1.0, Yt[:, i], overwrite_y=1)
                Y[i] *= dinv[i]
            if panel is not None:
                _zgemm(-1.0, Yt[:, j0:j1], panel, 1.0, Yt[:, :j0], overwrite_c=1)
        return alpha2.reshape(-1, 2).sum(axis=1)


class Pointwise:
    """Apply :math:`B_z` point by point with LAPACK triangular solves (small active sets)."""

    def __init__(self, solver: ResolventSolver, z: NDArray[np.complex128]) -> None:
        self.s = solver
        self.z = z
        self.work = solver.pointwise_work()
        self.idx = np.arange(solver.n)

    def compact(self, mask: NDArray[np.bool_]) -> None:
        self.z = self.z[mask]

    def apply(self, Q: NDArray[np.complex128], Y: NDArray[np.complex128]) -> NDArray[np.float64]:
        r"""Overwrite `Y` with :math:`B_z Q`; return :math:`\|(T - zI)^{-H} q\|^2` per column."""
        work, idx, diag = self.work, self.idx, self.s.diag
        alpha = np.empty(Q.shape[1])
        for g, zg in enumerate(self.z):
            work[idx, idx] = diag - zg
            y, _ = _ztrtrs(work, Q[:, g : g + 1], trans=2)
            alpha[g] = np.vdot(y, y).real
            x, _ = _ztrtrs(work, y, trans=0, overwrite_b=1)
            Y[:, g] = x[:, 0]
        return alpha
