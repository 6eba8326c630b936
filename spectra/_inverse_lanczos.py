r"""Batched inverse Lanczos for :math:`\sigma_{\min}(zI - T)` at many points `z` at once.

`T` is the upper-triangular factor of a complex Schur form. For every point the smallest
singular value is :math:`\theta_{\max}^{-1/2}`, where :math:`\theta_{\max}` is the largest
eigenvalue of :math:`B_z = (T - zI)^{-1}(T - zI)^{-H}`, found by Lanczos (Lui 1997;
Trefethen 1999; EigTool's ``psacore``). Each Lanczos step applies :math:`B_z` to one vector
per point with two triangular solves. The solves of all points run together: only the
diagonal of :math:`T - zI` depends on `z`, so inside a diagonal block the substitution is done
row by row, vectorised over the points, and the coupling of a solved block to the remaining rows
is one complex GEMM with the points as the wide dimension. Converged points leave the active
set, and a small active set switches to per-point LAPACK solves.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.linalg import blas, eigh_tridiagonal, eigvalsh_tridiagonal, lapack

__all__ = ["ResolventSolver"]

logger = logging.getLogger(__name__)

_zgemm = blas.zgemm
_zgemv = blas.zgemv
_ztrtrs = lapack.ztrtrs

#: Matrices smaller than this use a dense SVD per point (as EigTool's ``psacore``).
DENSE_MAX_N = 55
#: Panel width of the blocked triangular solves.
BLOCK = 64
#: Largest number of Lanczos steps before a point falls back to a dense SVD.
MAXITER = 100
#: Number of consecutive steps that must pass the stopping test.
NCONFIRM = 2
#: Working memory of one chunk of points, in bytes.
CHUNK_BYTES = 384 * 2**20
#: Complex (N, points) arrays alive at once in one chunk (Lanczos vectors, pivots, scratch).
_ARRAYS_PER_CHUNK = 7
#: Below this relative size, sigma is reported as 0 (the resolvent overflows float64).
FLOOR = 1e-150
#: Active sets at most this large use eigvalsh_tridiagonal per point for the Ritz value.
_SMALL_RITZ = 24


@dataclass
class _Trace:
    """Per-point record of the Lanczos tridiagonal, kept only when vectors are requested."""

    alpha: NDArray[np.float64]
    beta: NDArray[np.float64]
    steps: NDArray[np.int64]
    history: list[tuple[NDArray[np.intp], NDArray[np.complex128]]] = field(default_factory=list)


class _Blocked:
    """Apply :math:`B_z` to one vector per point with blocked, GEMM-coupled sweeps."""

    def __init__(self, solver: ResolventSolver, z: NDArray[np.complex128]) -> None:
        self.s = solver
        dinv = 1.0 / (solver.diag[:, None] - z[None, :])
        self.dinv = dinv
        self.dinvc = np.conj(dinv)

    def compact(self, keep: NDArray[np.intp]) -> None:
        self.dinv = np.ascontiguousarray(self.dinv[:, keep])
        self.dinvc = np.ascontiguousarray(self.dinvc[:, keep])

    def apply(
        self, Q: NDArray[np.complex128]
    ) -> tuple[NDArray[np.complex128], NDArray[np.float64]]:
        s = self.s
        T, Lh, dinv, dinvc = s.T, s.Lh, self.dinv, self.dinvc
        Y = Q.copy()
        Yt = Y.T  # Fortran-ordered view: points are the rows seen by BLAS
        # Forward sweep: (T - zI)^H Y = Q, lower triangular with conj(T) transposed.
        for (j0, j1), panel in zip(s.blocks, s.lower_panels, strict=True):
            for i in range(j0, j1):
                if i > j0:
                    _zgemv(-1.0, Yt[:, j0:i], Lh[i, j0:i], 1.0, Yt[:, i], overwrite_y=1)
                Y[i] *= dinvc[i]
            if panel is not None:
                _zgemm(-1.0, Yt[:, j0:j1], panel, 1.0, Yt[:, j1:], overwrite_c=1)
        V = Y.view(np.float64)
        alpha = np.einsum("ij,ij->j", V, V).reshape(-1, 2).sum(axis=1)
        # Backward sweep: (T - zI) X = Y, upper triangular.
        for (j0, j1), panel in zip(reversed(s.blocks), reversed(s.upper_panels), strict=True):
            for i in range(j1 - 1, j0 - 1, -1):
                if i < j1 - 1:
                    _zgemv(-1.0, Yt[:, i + 1 : j1], T[i, i + 1 : j1], 1.0, Yt[:, i], overwrite_y=1)
                Y[i] *= dinv[i]
            if panel is not None:
                _zgemm(-1.0, Yt[:, j0:j1], panel, 1.0, Yt[:, :j0], overwrite_c=1)
        return Y, alpha


class _Pointwise:
    """Apply :math:`B_z` point by point with LAPACK triangular solves (small active sets)."""

    def __init__(self, solver: ResolventSolver, z: NDArray[np.complex128]) -> None:
        self.s = solver
        self.z = z
        self.work = np.asfortranarray(solver.T.copy())
        self.idx = np.arange(solver.n)

    def compact(self, keep: NDArray[np.intp]) -> None:
        self.z = self.z[keep]

    def apply(
        self, Q: NDArray[np.complex128]
    ) -> tuple[NDArray[np.complex128], NDArray[np.float64]]:
        work, idx, diag = self.work, self.idx, self.s.diag
        W = np.empty_like(Q)
        alpha = np.empty(Q.shape[1])
        for g, zg in enumerate(self.z):
            work[idx, idx] = diag - zg
            y, _ = _ztrtrs(work, Q[:, g : g + 1], trans=2)
            alpha[g] = np.vdot(y, y).real
            x, _ = _ztrtrs(work, y, trans=0, overwrite_b=1)
            W[:, g] = x[:, 0]
        return W, alpha


def _laguerre_max(
    al: NDArray[np.float64], b2: NDArray[np.float64], x0: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Largest eigenvalue of symmetric tridiagonals by Laguerre's method from above.

    Parameters
    ----------
    al : (k, G) ndarray
        Diagonals, one column per matrix.
    b2 : (k - 1, G) ndarray
        Squared off-diagonals.
    x0 : (G,) ndarray
        Upper bounds of the largest eigenvalues (checked with Sturm counts and replaced by the
        Gershgorin bound where they fail).

    Returns
    -------
    (G,) ndarray
        Largest eigenvalues. Started above every root of the characteristic polynomial,
        Laguerre's iterates decrease monotonically to the largest root.
    """
    k = al.shape[0]
    if k == 1:
        return al[0].copy()
    x = x0.copy()
    cols: NDArray[np.intp] | None = None
    for it in range(60):
        a_ = al if cols is None else al[:, cols]
        b_ = b2 if cols is None else b2[:, cols]
        xx = x if cols is None else x[cols]
        s = 1.0 / (xx - a_[0])
        u = s.copy()
        v = np.zeros_like(s)
        g1 = u.copy()
        h = u * u
        smin = s.copy() if it == 0 else None
        for j in range(1, k):
            c = b_[j - 1] * s
            s = 1.0 / (xx - a_[j] - c)
            if smin is not None:
                np.minimum(smin, s, out=smin)
            v = c * (v - 2.0 * u * u) * s
            u = (1.0 + c * u) * s
            g1 += u
            h += u * u - v
        disc = np.sqrt(np.maximum((k - 1) * (k * h - g1 * g1), 0.0))
        step = k / (g1 + disc)
        # At (or, by rounding, just below) the root g1 stops being a finite positive number.
        done = ~(np.abs(step) > 2e-16 * np.abs(xx)) | ~(g1 > 0.0) | ~np.isfinite(step)
        new_x = np.where(done, xx, xx - step)
        if smin is not None:
            bad = ~(smin > 0.0)  # x0 is not above every eigenvalue: restart from Gershgorin
            if bad.any():
                beta = np.sqrt(b_[:, bad])
                radius = np.zeros((k, beta.shape[1]))
                radius[:-1] += beta
                radius[1:] += beta
                new_x[bad] = (a_[:, bad] + radius).max(axis=0) * (1.0 + 1e-12) + 1e-300
                done[bad] = False
        if cols is None:
            x = new_x
            if done.all():
                return x
            cols = np.flatnonzero(~done)
        else:
            x[cols] = new_x
            cols = cols[~done]
            if cols.size == 0:
                return x
    return x


def _ritz_max(
    al: NDArray[np.float64], be: NDArray[np.float64], x0: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Largest eigenvalue of each Lanczos tridiagonal; `al` is (k, G), `be` is (k - 1, G)."""
    k, G = al.shape
    if k == 1:
        return al[0].copy()
    if G <= _SMALL_RITZ:
        out = np.empty(G)
        for g in range(G):
            out[g] = eigvalsh_tridiagonal(
                al[:, g], be[:, g], select="i", select_range=(k - 1, k - 1)
            )[0]
        return out
    return _laguerre_max(al, be * be, x0)


class ResolventSolver:
    r"""Smallest singular values of :math:`zI - T` for an upper-triangular `T`.

    Parameters
    ----------
    T : (N, N) ndarray of complex128
        Upper-triangular matrix (a complex Schur factor), scaled so that its largest entry is
        of order one.
    block : int, optional
        Panel width of the blocked triangular solves.
    """

    def __init__(self, T: NDArray[np.complex128], *, block: int = BLOCK) -> None:
        self.T = np.ascontiguousarray(T)
        self.n = n = T.shape[0]
        self.diag = np.ascontiguousarray(np.diag(self.T))
        self.block = block
        self._prepared = False

    def _prepare_blocks(self) -> None:
        if self._prepared:
            return
        T, n, nb = self.T, self.n, self.block
        self.Lh = np.ascontiguousarray(T.conj().T)
        self.blocks = [(j0, min(j0 + nb, n)) for j0 in range(0, n, nb)]
        self.upper_panels = [
            np.ascontiguousarray(T[:j0, j0:j1]).T if j0 > 0 else None for j0, j1 in self.blocks
        ]
        self.lower_panels = [
            np.ascontiguousarray(T[j0:j1, j1:].conj()) if j1 < n else None
            for j0, j1 in self.blocks
        ]
        self.lower_panels = [
            None if p is None else np.asfortranarray(p) for p in self.lower_panels
        ]
        self._prepared = True

    # ------------------------------------------------------------------ public entry points
    def sigma(
        self, z: NDArray[np.complex128], *, tol: float, seed: int = 0, maxiter: int = MAXITER
    ) -> NDArray[np.float64]:
        """Return :math:`\\sigma_{\\min}(zI - T)` for a 1-D array of points `z`."""
        return self._run(z, tol=tol, seed=seed, maxiter=maxiter, vectors=False)[0]

    def sigma_and_slope(
        self, z: NDArray[np.complex128], *, tol: float, seed: int = 0, maxiter: int = MAXITER
    ) -> tuple[NDArray[np.float64], NDArray[np.complex128]]:
        r"""Return :math:`\sigma_{\min}(zI - T)` and :math:`w = u^H v` for 1-D points `z`.

        `u` and `v` are the left and right singular vectors of :math:`zI - T` for the
        smallest singular value; the derivative of :math:`\sigma` along a direction
        :math:`\delta` is :math:`\mathrm{Re}(\delta w)`.
        """
        sig, w = self._run(z, tol=tol, seed=seed, maxiter=maxiter, vectors=True)
        assert w is not None
        return sig, w

    # ------------------------------------------------------------------ drivers
    def _run(
        self, z: NDArray[np.complex128], *, tol: float, seed: int, maxiter: int, vectors: bool
    ) -> tuple[NDArray[np.float64], NDArray[np.complex128] | None]:
        z = np.ascontiguousarray(z, dtype=np.complex128).ravel()
        G = z.size
        sig = np.zeros(G)
        w = np.zeros(G, dtype=np.complex128) if vectors else None
        if G == 0:
            return sig, w
        n = self.n
        if n < DENSE_MAX_N:
            for lo, hi in _chunks(G, max(1, CHUNK_BYTES // (16 * n * n * 3))):
                s, ww = _dense(self.T, z[lo:hi], vectors)
                sig[lo:hi] = s
                if w is not None:
                    w[lo:hi] = ww
            return sig, w
        per_point = 16 * n * (_ARRAYS_PER_CHUNK + (40 if vectors else 0))
        chunk = max(16, CHUNK_BYTES // per_point)
        q0 = _start_vector(n, seed)
        for lo, hi in _chunks(G, chunk):
            zc = z[lo:hi]
            gap = np.abs(self.diag[:, None] - zc[None, :]).min(axis=0)
            live = np.flatnonzero(gap > FLOOR)  # elsewhere sigma <= gap: reported as 0
            if live.size == 0:
                continue
            s, ww = self._lanczos(zc[live], q0, tol=tol, maxiter=maxiter, vectors=vectors)
            sig[lo + live] = s
            if w is not None and ww is not None:
                w[lo + live] = ww
        return sig, w

    def _lanczos(
        self,
        z: NDArray[np.complex128],
        q0: NDArray[np.complex128],
        *,
        tol: float,
        maxiter: int,
        vectors: bool,
    ) -> tuple[NDArray[np.float64], NDArray[np.complex128] | None]:
        n, G = self.n, z.size
        small = max(8, n // 4)
        if G > small:
            self._prepare_blocks()
            op: _Blocked | _Pointwise = _Blocked(self, z)
        else:
            op = _Pointwise(self, z)
        theta_out = np.full(G, np.nan)
        act = np.arange(G)
        Q = np.repeat(q0[:, None], G, axis=1)
        Qp = np.empty_like(Q)
        al = np.empty((maxiter, G))
        be = np.empty((maxiter, G))
        theta = np.zeros(G)
        beta_prev = np.zeros(G)
        count = np.zeros(G, dtype=np.int64)
        trace = (
            _Trace(np.zeros((maxiter, G)), np.zeros((maxiter, G)), np.zeros(G, dtype=np.int64))
            if vectors
            else None
        )
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            for k in range(maxiter):
                if trace is not None:
                    trace.history.append((act, Q))
                W, alpha = op.apply(Q)
                W -= Q * alpha
                if k:
                    W -= Qp * beta_prev
                # One pass of local reorthogonalisation against the current vector.
                c = np.einsum("ij,ij->j", Q.conj(), W)
                W -= Q * c
                alpha = alpha + c.real
                V = W.view(np.float64)
                beta = np.sqrt(np.einsum("ij,ij->j", V, V).reshape(-1, 2).sum(axis=1))
                al[k] = alpha
                be[k] = beta
                if trace is not None:
                    trace.alpha[k, act] = alpha
                    trace.beta[k, act] = beta
                x0 = (np.maximum(theta, alpha) + beta_prev) * (1.0 + 1e-13)
                th = _ritz_max(al[: k + 1], be[:k], x0)
                rel = np.abs(th - theta) / th
                count = np.where(rel <= tol, count + 1, 0)
                theta = th
                finite = np.isfinite(th) & np.isfinite(beta) & (th > 0)
                done = (count >= NCONFIRM) | ~finite | ~(beta > 4e-16 * th)
                if not finite.all():
                    theta = np.where(finite, theta, np.inf)  # overflow: sigma below the floor
                if done.any():
                    idx = np.flatnonzero(done)
                    theta_out[act[idx]] = theta[idx]
                    if trace is not None:
                        trace.steps[act[idx]] = k + 1
                    keep = np.flatnonzero(~done)
                    if keep.size == 0:
                        act = act[keep]
                        break
                    act = act[keep]
                    Q = np.ascontiguousarray(Q[:, keep])
                    W = np.ascontiguousarray(W[:, keep])
                    al = np.ascontiguousarray(al[:, keep])
                    be = np.ascontiguousarray(be[:, keep])
                    theta = theta[keep]
                    beta = beta[keep]
                    count = count[keep]
                    if isinstance(op, _Blocked) and keep.size <= small:
                        op = _Pointwise(self, z[act])
                    else:
                        op.compact(keep)
                Qp = Q
                W /= beta
                Q = W
                beta_prev = beta
        sigma = np.where(np.isfinite(theta_out), 1.0 / np.sqrt(theta_out), 0.0)
        w_out = self._slopes(z, sigma, trace) if trace is not None else None
        if act.size:
            logger.debug("%d of %d points did not converge: dense SVD", act.size, G)
            s, ww = _dense(self.T, z[act], vectors)
            sigma[act] = s
            if w_out is not None:
                w_out[act] = ww
        return sigma, w_out

    def _slopes(
        self, z: NDArray[np.complex128], sigma: NDArray[np.float64], trace: _Trace
    ) -> NDArray[np.complex128]:
        """Ritz vectors from the stored Lanczos bases, then :math:`w = u^H v`."""
        G = z.size
        S = np.zeros((len(trace.history), G))
        for g in range(G):
            k = int(trace.steps[g])
            if k == 0:
                continue
            if k == 1:
                S[0, g] = 1.0
                continue
            _, vec = eigh_tridiagonal(
                trace.alpha[:k, g], trace.beta[: k - 1, g], select="i", select_range=(k - 1, k - 1)
            )
            S[:k, g] = vec[:, 0]
        V = np.zeros((self.n, G), dtype=np.complex128)
        for j, (act, Qj) in enumerate(trace.history):
            V[:, act] += Qj * S[j, act]
        V /= np.linalg.norm(V, axis=0)
        MV = z * V - self.T @ V  # (zI - T) v = sigma u
        with np.errstate(invalid="ignore", divide="ignore"):
            w = np.einsum("ij,ij->j", MV.conj(), V) / sigma
        return np.where(np.isfinite(w), w, 0.0)


def _start_vector(n: int, seed: int) -> NDArray[np.complex128]:
    rng = np.random.default_rng(seed)
    q = rng.standard_normal(n) + 1j * rng.standard_normal(n)
    return q / np.linalg.norm(q)


def _chunks(total: int, size: int) -> list[tuple[int, int]]:
    return [(lo, min(lo + size, total)) for lo in range(0, total, size)]


def _dense(
    T: NDArray[np.complex128], z: NDArray[np.complex128], vectors: bool
) -> tuple[NDArray[np.float64], NDArray[np.complex128] | None]:
    """Dense SVD of :math:`zI - T` for each point (stacked LAPACK calls)."""
    n = T.shape[0]
    M = np.empty((z.size, n, n), dtype=np.complex128)
    M[:] = -T
    idx = np.arange(n)
    M[:, idx, idx] += z[:, None]
    if not vectors:
        return np.linalg.svd(M, compute_uv=False)[:, -1], None
    U, s, Vh = np.linalg.svd(M)
    u = U[:, :, -1]
    v = Vh[:, -1, :].conj()
    return s[:, -1], np.einsum("gi,gi->g", u.conj(), v)
