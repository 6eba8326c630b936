r"""Batched inverse Lanczos for :math:`\sigma_{\min}(zI - T)` at many points `z` at once.

`T` is the upper-triangular factor of a complex Schur form. For every point the smallest
singular value is :math:`\theta_{\max}^{-1/2}`, where :math:`\theta_{\max}` is the largest
eigenvalue of :math:`B_z = (T - zI)^{-1}(T - zI)^{-H}`, found by Lanczos (Lui 1997;
Trefethen 1999; EigTool's ``psacore``). Each Lanczos step applies :math:`B_z` to one vector
per point with two triangular solves. The solves of all points run together: only the
diagonal of :math:`T - zI` depends on `z`, so inside a diagonal block the substitution is done
row by row, vectorised over the points, and the coupling of a solved block to the remaining rows
is one complex GEMM with the points as the wide dimension (:mod:`spectra._operator`; the Ritz
values come from :mod:`spectra._ritz`). Converged points leave the active
set, and a small active set switches to per-point LAPACK solves.

Stopping rule: the relative change of the largest Ritz value is at most `tol` on two
consecutive steps (as in EigTool, with a second confirmation against plateaus), and during that
run the relative residual of the Ritz pair drops below ``0.1 * sqrt(tol)``; the residual catches
the plateau of two nearly equal top eigenvalues that Lanczos has not yet told apart (at points
nearly equidistant from two eigenvalues of a normal matrix, for instance). Points not converged
after `MAXITER` steps get a dense SVD. Points are processed in chunks of bounded memory.
"""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import cast

import numpy as np
from numpy.typing import NDArray
from scipy.linalg import eigh_tridiagonal
from scipy.spatial import cKDTree
from threadpoolctl import ThreadpoolController

from spectra._operator import Blocked, Pointwise, compress, view
from spectra._ritz import last_weight, ritz_max

__all__ = ["ResolventSolver"]

logger = logging.getLogger(__name__)

#: Matrices smaller than this use a dense SVD per point. EigTool switches at 55 for its
#: per-point Lanczos; batched over a grid, Lanczos is already 2-10x faster than stacked dense
#: SVDs for N from 8 to 54 (measured on 5000 points), with the same accuracy.
DENSE_MAX_N = 8
#: Panel width of the blocked triangular solves.
BLOCK = 32
#: Largest number of Lanczos steps before a point falls back to a dense SVD.
MAXITER = 100
#: Number of consecutive steps that must pass the stopping test.
NCONFIRM = 2
#: Working memory of one chunk of points, in bytes.
CHUNK_BYTES = 384 * 2**20
#: Complex (N, points) arrays alive at once in one chunk (Lanczos vectors, pivots, scratch).
_ARRAYS_PER_CHUNK = 7
#: The relative residual of the Ritz pair must be below this times sqrt(tol).
RESIDUAL_FACTOR = 0.1
#: A Lanczos coefficient beta below this times the Ritz value means an invariant subspace.
BREAKDOWN = 1e-12
#: Converged columns are dropped once they are this fraction of the active set.
COMPACT_FRACTION = 0.2
#: Below this relative size, sigma is reported as 0 (the resolvent overflows float64).
FLOOR = 1e-150
#: Active sets at most this large use per-point LAPACK solves instead of the blocked sweeps
#: (measured break-even: 40 to 64 points for N from 64 to 1024).
POINTWISE_MAX = 48
#: Points whose second-nearest eigenvalue is within this relative distance of the nearest
#: one (and that lie within the diameter of the spectrum) must also pass the strict residual
#: test (relative residual below `tol`).
TIE = 1e-3


@lru_cache(maxsize=1)
def _controller() -> ThreadpoolController:
    return ThreadpoolController()


def _single_threaded_blas() -> AbstractContextManager[object]:
    """Context in which BLAS runs on one thread.

    The sweeps make hundreds of small BLAS calls per Lanczos step; on a multi-threaded BLAS
    each of them pays a synchronisation, which on a busy machine costs more than the work.
    """
    return _controller().limit(limits=1, user_api="blas")


@dataclass
class _Trace:
    """Per-point record of the Lanczos tridiagonal, kept only when vectors are requested."""

    alpha: NDArray[np.float64]
    beta: NDArray[np.float64]
    steps: NDArray[np.int64]
    history: list[tuple[NDArray[np.intp], NDArray[np.complex128]]] = field(default_factory=list)


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
        self.n = T.shape[0]
        self.diag = np.ascontiguousarray(np.diag(self.T))
        self.block = block
        self._prepared = False
        self._kdtree: cKDTree | None = None
        self._spread: float | None = None
        self._work: NDArray[np.complex128] | None = None

    def pointwise_work(self) -> NDArray[np.complex128]:
        """Fortran-ordered copy of `T` for the per-point LAPACK solves, made once per solver.

        Its diagonal is scratch: every solve first overwrites it with :math:`T_{ii} - z`.
        """
        if self._work is None:
            self._work = np.array(self.T, order="F", copy=True)  # never a view of T
        return self._work

    def _tree(self) -> cKDTree:
        """k-d tree of the eigenvalues, for the distance from each point to the spectrum."""
        if self._kdtree is None:
            self._kdtree = cKDTree(np.column_stack([self.diag.real, self.diag.imag]))
        return self._kdtree

    def _diameter(self) -> float:
        """Twice the largest distance of an eigenvalue from their mean (a spectrum diameter)."""
        if self._spread is None:
            self._spread = 2.0 * float(np.abs(self.diag - self.diag.mean()).max())
        return self._spread

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
            np.ascontiguousarray(T[j0:j1, j1:].conj()) if j1 < n else None for j0, j1 in self.blocks
        ]
        self.lower_panels = [None if p is None else np.asfortranarray(p) for p in self.lower_panels]
        self._prepared = True

    # ------------------------------------------------------------------ public entry points
    def sigma(
        self,
        z: NDArray[np.complex128],
        *,
        tol: float,
        seed: int = 0,
        maxiter: int | None = None,
        estimate: bool = False,
    ) -> NDArray[np.float64]:
        r"""Return :math:`\sigma_{\min}(zI - T)` for a 1-D array of points `z`.

        With `estimate`, a point not converged after `maxiter` steps gets the value of its
        current Ritz value instead of a dense SVD: an estimate from above (a Ritz value never
        exceeds the top eigenvalue of :math:`B_z`), good for ranking points, not for bounds
        from below.
        """
        return self._run(z, tol=tol, seed=seed, maxiter=maxiter, vectors=False, estimate=estimate)[
            0
        ]

    def sigma_and_slope(
        self, z: NDArray[np.complex128], *, tol: float, seed: int = 0, maxiter: int | None = None
    ) -> tuple[NDArray[np.float64], NDArray[np.complex128]]:
        r"""Return :math:`\sigma_{\min}(zI - T)` and :math:`w = u^H v` for 1-D points `z`.

        `u` and `v` are the left and right singular vectors of :math:`zI - T` for the
        smallest singular value; the derivative of :math:`\sigma` along a direction
        :math:`\delta` is :math:`\mathrm{Re}(\delta w)`.
        """
        sig, w, _ = self._run(z, tol=tol, seed=seed, maxiter=maxiter, vectors=True, estimate=False)
        return sig, cast("NDArray[np.complex128]", w)

    def sigma_slope_vectors(
        self,
        z: NDArray[np.complex128],
        *,
        tol: float,
        seed: int = 0,
        start: NDArray[np.complex128] | None = None,
    ) -> tuple[NDArray[np.float64], NDArray[np.complex128], NDArray[np.complex128]]:
        r"""Return :math:`\sigma_{\min}(zI - T)`, :math:`w = u^H v` and `v` for 1-D points `z`.

        `v` (one unit column per point) is the Ritz vector of the right singular vector for
        the smallest singular value. `start`, one column per point, replaces the seeded start
        vector of Lanczos: a singular vector of a nearby point converges in fewer steps. The
        stopping rule is the same for any start vector, and a Ritz value never exceeds the
        eigenvalue it approximates, so a value is never below the true one.
        """
        sig, w, V = self._run(
            z, tol=tol, seed=seed, maxiter=None, vectors=True, estimate=False, start=start
        )
        return sig, cast("NDArray[np.complex128]", w), cast("NDArray[np.complex128]", V)

    # ------------------------------------------------------------------ drivers
    def _run(
        self,
        z: NDArray[np.complex128],
        *,
        tol: float,
        seed: int,
        maxiter: int | None,
        vectors: bool,
        estimate: bool,
        start: NDArray[np.complex128] | None = None,
    ) -> tuple[NDArray[np.float64], NDArray[np.complex128] | None, NDArray[np.complex128] | None]:
        maxiter = MAXITER if maxiter is None else maxiter
        with _single_threaded_blas():
            return self._run_points(
                z,
                tol=tol,
                seed=seed,
                maxiter=maxiter,
                vectors=vectors,
                estimate=estimate,
                start=start,
            )

    def _run_points(
        self,
        z: NDArray[np.complex128],
        *,
        tol: float,
        seed: int,
        maxiter: int,
        vectors: bool,
        estimate: bool,
        start: NDArray[np.complex128] | None = None,
    ) -> tuple[NDArray[np.float64], NDArray[np.complex128] | None, NDArray[np.complex128] | None]:
        z = np.ascontiguousarray(z, dtype=np.complex128).ravel()
        G = z.size
        n = self.n
        sig = np.zeros(G)
        w = np.zeros(G, dtype=np.complex128) if vectors else None
        q0 = _start_vector(n, seed)
        # a point whose value is set from the spectrum alone keeps its start vector
        V = (q0[:, None] if start is None else start) * np.ones(G) if vectors else None
        if G == 0:
            return sig, w, V
        if n < DENSE_MAX_N:
            for lo, hi in _chunks(G, max(1, CHUNK_BYTES // (16 * n * n * 3))):
                s, ww, vv = _dense(self.T, z[lo:hi], vectors)
                sig[lo:hi] = s
                if w is not None and V is not None:
                    w[lo:hi] = ww
                    V[:, lo:hi] = vv
            return sig, w, V
        per_point = 16 * n * (_ARRAYS_PER_CHUNK + (40 if vectors else 0))
        chunk = max(16, CHUNK_BYTES // per_point)
        for lo, hi in _chunks(G, chunk):
            zc = z[lo:hi]
            near = self._tree().query(np.column_stack([zc.real, zc.imag]), k=min(2, n))[0]
            gap = near[:, 0]
            live = np.flatnonzero(gap > FLOOR)  # elsewhere sigma <= gap: reported as 0
            if live.size == 0:
                continue
            # Two nearly equidistant eigenvalues: the two smallest singular values may nearly
            # tie, and the top Ritz value can sit on their plateau; these points must also
            # pass the strict residual test.
            strict = (near[live, 1] <= near[live, 0] * (1.0 + TIE)) & (
                near[live, 0] <= self._diameter()
            )
            s, ww, vv = self._lanczos(
                zc[live],
                q0 if start is None else start[:, lo + live],
                tol=tol,
                maxiter=maxiter,
                vectors=vectors,
                strict=strict,
                estimate=estimate,
            )
            # Final check: sigma_min(zI - T) <= min_i |z - T_ii| holds exactly, while a Ritz
            # value below the top eigenvalue only ever makes sigma too large.
            sig[lo + live] = np.minimum(s, gap[live])
            if w is not None and ww is not None and V is not None and vv is not None:
                w[lo + live] = ww
                V[:, lo + live] = vv
        return sig, w, V

    def _lanczos(
        self,
        z: NDArray[np.complex128],
        q0: NDArray[np.complex128],
        *,
        tol: float,
        maxiter: int,
        vectors: bool,
        strict: NDArray[np.bool_],
        estimate: bool = False,
    ) -> tuple[NDArray[np.float64], NDArray[np.complex128] | None, NDArray[np.complex128] | None]:
        """Lanczos for all points at once; `q0` is one start vector, or one column per point."""
        n, G = self.n, z.size
        small = POINTWISE_MAX
        if G > small:
            self._prepare_blocks()
            op: Blocked | Pointwise = Blocked(self, z)
        else:
            op = Pointwise(self, z)
        theta_out = np.full(G, np.nan)
        steps_out = np.zeros(G, dtype=np.int64)
        act = np.arange(G)
        # Three flat buffers hold the current, previous and next Lanczos vectors. Vectors are
        # stored unnormalised: the true vector is the stored column times its scale.
        bufs = [np.empty(n * G, dtype=np.complex128) for _ in range(3)]
        Q = view(bufs[0], n, G)
        if q0.ndim == 1:
            Q[:] = q0[:, None]
        else:
            Q[:] = q0
            Q /= np.linalg.norm(Q, axis=0)
        Qp = view(bufs[1], n, G)
        sQ = np.ones(G)
        sQp = np.zeros(G)
        al = np.empty((maxiter, G))
        be = np.empty((maxiter, G))
        theta = np.zeros(G)
        beta_prev = np.zeros(G)
        count = np.zeros(G, dtype=np.int64)
        small_res = np.zeros(G, dtype=bool)
        dead = np.zeros(G, dtype=bool)
        trace = (
            _Trace(np.zeros((maxiter, G)), np.zeros((maxiter, G)), steps_out) if vectors else None
        )
        res_tol = np.where(strict, tol, RESIDUAL_FACTOR * np.sqrt(tol))
        rows = max(1, (1 << 19) // (16 * G))
        tmp = np.empty((rows, G), dtype=np.complex128)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            for k in range(maxiter):
                g = act.size
                if trace is not None:
                    trace.history.append((act, Q * sQ))
                W = view(bufs[2], n, g)
                alpha = op.apply(Q, W) * (sQ * sQ)
                # W <- sQ * W - alpha * q - beta_prev * qp, with q = sQ Q and qp = sQp Qp,
                # in row blocks that stay in cache; accumulate the column norms on the way.
                ca = alpha * sQ
                cb = beta_prev * sQp
                nrm = np.zeros(2 * g)
                Wf = W.view(np.float64)
                tb = tmp[:, :g]
                for r0 in range(0, n, rows):
                    r1 = min(r0 + rows, n)
                    t = tb[: r1 - r0]
                    Wb = W[r0:r1]
                    Wb *= sQ
                    np.multiply(Q[r0:r1], ca, out=t)
                    Wb -= t
                    if k:
                        np.multiply(Qp[r0:r1], cb, out=t)
                        Wb -= t
                    nrm += np.einsum("ij,ij->j", Wf[r0:r1], Wf[r0:r1])
                beta = np.sqrt(nrm.reshape(-1, 2).sum(axis=1))
                al[k, :g] = alpha
                be[k, :g] = beta
                if trace is not None:
                    trace.alpha[k, act] = alpha
                    trace.beta[k, act] = beta
                live = ~dead[:g]
                x0 = (np.maximum(theta, alpha) + beta_prev) * (1.0 + 1e-13)
                if live.all():
                    th = ritz_max(al[: k + 1, :g], be[:k, :g], x0)
                else:
                    th = np.full(g, np.nan)
                    th[live] = ritz_max(al[: k + 1, :g][:, live], be[:k, :g][:, live], x0[live])
                rel = np.abs(th - theta) / th
                passed = rel <= tol
                # Relative residual of the Ritz pair: a small change of the Ritz value on a
                # plateau (two nearly equal top eigenvalues, not yet told apart) has a large one.
                # It counts only on steps that pass the test above (a run of them is reset by
                # any other step), so it is computed for those columns alone.
                res = np.full(g, np.inf)
                if passed.all():
                    res = beta * np.sqrt(last_weight(al[: k + 1, :g], be[:k, :g], th))
                elif passed.any():
                    pc = np.flatnonzero(passed)
                    weight = last_weight(al[: k + 1, pc], be[:k, pc], th[pc])
                    res[pc] = beta[pc] * np.sqrt(weight)
                small_res = np.where(passed & (count > 0), small_res, False) | (res <= res_tol * th)
                count = np.where(passed, count + 1, 0)
                theta = th
                finite = np.isfinite(th) & np.isfinite(beta) & (th > 0)
                done = live & (
                    ((count >= NCONFIRM) & small_res) | ~finite | ~(beta > BREAKDOWN * th)
                )
                if done.any():
                    idx = np.flatnonzero(done)
                    theta_out[act[idx]] = np.where(finite[idx], theta[idx], np.inf)
                    steps_out[act[idx]] = k + 1
                    dead[idx] = True
                # Rotate buffers: next <- W, previous <- current.
                bufs = [bufs[2], bufs[0], bufs[1]]
                Qp, Q = Q, W
                sQp, sQ = sQ, 1.0 / beta
                beta_prev = beta
                ndead = int(dead[:g].sum())
                if ndead == g:
                    act = act[:0]
                    break
                if ndead and (ndead >= COMPACT_FRACTION * g or g - ndead <= small):
                    keep = ~dead[:g]
                    act = act[keep]
                    m = act.size
                    # bufs[2] is free after the rotation: current -> free, previous -> current.
                    Q = compress(Q, keep, bufs[2])
                    Qp = compress(Qp, keep, bufs[0])
                    bufs = [bufs[2], bufs[0], bufs[1]]
                    al[: k + 1, :m] = al[: k + 1, :g][:, keep]
                    be[: k + 1, :m] = be[: k + 1, :g][:, keep]
                    sQ, sQp, theta = sQ[keep], sQp[keep], theta[keep]
                    beta_prev, count, small_res = beta_prev[keep], count[keep], small_res[keep]
                    res_tol = res_tol[keep]
                    dead[:m] = False
                    if isinstance(op, Blocked) and m <= small:
                        op = Pointwise(self, z[act])
                    else:
                        op.compact(keep)
        pending = np.isnan(theta_out[act])
        if estimate and pending.any():  # `theta` is aligned with `act`: keep the Ritz values
            usable = pending & np.isfinite(theta) & (theta > 0)
            theta_out[act[usable]] = theta[usable]
            pending &= ~usable
        act = act[pending]
        sigma = np.where(np.isfinite(theta_out), 1.0 / np.sqrt(theta_out), 0.0)
        w_out, v_out = self._slopes(z, sigma, trace) if trace is not None else (None, None)
        if act.size:
            logger.debug("%d of %d points did not converge: dense SVD", act.size, G)
            s, ww, vv = _dense(self.T, z[act], vectors)
            sigma[act] = s
            if w_out is not None and ww is not None and v_out is not None and vv is not None:
                w_out[act] = ww
                v_out[:, act] = vv
        return sigma, w_out, v_out

    def _slopes(
        self, z: NDArray[np.complex128], sigma: NDArray[np.float64], trace: _Trace
    ) -> tuple[NDArray[np.complex128], NDArray[np.complex128]]:
        """Ritz vectors `v` from the stored Lanczos bases, then :math:`w = u^H v`; ``(w, v)``."""
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
        return np.where(np.isfinite(w), w, 0.0), V


@lru_cache(maxsize=8)
def _start_vector(n: int, seed: int) -> NDArray[np.complex128]:
    """Seeded unit start vector (read-only: it is shared by every call of that size and seed)."""
    rng = np.random.default_rng(seed)
    q = rng.standard_normal(n) + 1j * rng.standard_normal(n)
    q = q / np.linalg.norm(q)
    q.flags.writeable = False
    return q


def _chunks(total: int, size: int) -> list[tuple[int, int]]:
    return [(lo, min(lo + size, total)) for lo in range(0, total, size)]


def _dense(
    T: NDArray[np.complex128], z: NDArray[np.complex128], vectors: bool
) -> tuple[NDArray[np.float64], NDArray[np.complex128] | None, NDArray[np.complex128] | None]:
    """Dense SVD of :math:`zI - T` for each point: sigma, and with `vectors` w and v (columns)."""
    n = T.shape[0]
    M = np.empty((z.size, n, n), dtype=np.complex128)
    M[:] = -T
    idx = np.arange(n)
    M[:, idx, idx] += z[:, None]
    if not vectors:
        return np.linalg.svd(M, compute_uv=False)[:, -1], None, None
    U, s, Vh = np.linalg.svd(M)
    u = U[:, :, -1]
    v = Vh[:, -1, :].conj()
    return s[:, -1], np.einsum("gi,gi->g", u.conj(), v), np.ascontiguousarray(v.T)
