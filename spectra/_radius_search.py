r"""The search behind :func:`spectra.pseudospectral_radius`: witness and certificates.

One :class:`Search` holds the scaled Schur factor of a matrix and runs, for several eps at
once, the local search for a witness (outward along rays, then along the level curve in angle)
and the certificates of the upper bound (comparison matrix, circle covers, the norm bound)
described in :mod:`spectra.radius`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import cast

import numpy as np
from numpy.typing import NDArray

from spectra._certify import ComparisonNorm, arc_samples, uncovered
from spectra._inverse_lanczos import _dense as dense_svd
from spectra._inverse_lanczos import _start_vector as start_vector
from spectra._radius_result import PseudospectralRadius
from spectra._resolvent import Prepared

__all__ = ["Search"]

logger = logging.getLogger(__name__)

#: Small batches of points on small matrices get a dense SVD each (cheaper than Lanczos).
_DENSE_N = 96
_DENSE_POINTS = 64
#: The computed sigma_min is trusted to this relative accuracy when arcs are excluded.
_TRUST = 1e-6
#: Lanczos steps of the first estimate at the samples of a ray.
_SAMPLE_STEPS = 8
#: Tolerance of the inverse-Lanczos values of a circle cover (a hundredth of _TRUST).
_COVER_TOL = 1e-8
#: Rounding level of the Schur factor: ``_SLACK * N * eps_mach * ||A||_F``.
_SLACK = 4.0
#: Points of the first sampling of a certification circle.
_CIRCLE_START = 64
#: Samples of an uncovered arc next to no excluded one, in each later round.
_CIRCLE_SPLIT = 6
#: Later rounds place points so that their predicted excluded arcs, shrunk by this factor,
#: just touch; at most _CIRCLE_CAP points go into one uncovered arc per round.
_CIRCLE_SAFETY = 0.75
_CIRCLE_CAP = 64
#: Rounds and evaluated points allowed per certification circle.
_CIRCLE_ROUNDS = 24
_CIRCLE_POINTS = 6000
#: Radii tried per eps before the certificate falls back to the norm bound.
_CIRCLE_TRIES = 4
#: Secant steps of the local search in angle.
_ANGLE_ROUNDS = 12
#: Newton steps on one ray of the angle search.
_NEWTON_STEPS = 12
#: A Newton step is moved by this times tol away from the side of the point it starts from.
_CLOSE = 0.2
#: Weight of the seeded start vector added to a singular vector reused as a Lanczos start.
_WARM_MIX = 0.1
#: Rounds of the whole search (a circle that finds a new witness starts another one).
_OUTER_ROUNDS = 6
#: Steps of the radial root finder.
_RADIAL_STEPS = 60
#: Relative offsets from the crossing on a neighbouring ray sampled first on a new ray.
_NEAR_SAMPLES = np.array([-0.4, -0.1, -1e-2, -1e-3, -1e-5, 1e-5, 1e-3, 1e-2, 0.1])
#: A new ray at angle d from a known crossing samples only the offsets of _NEAR_SAMPLES up to
#: max(_NEAR_MIN, _NEAR_SLOPE * d) in size: the crossing moves by about d times the slope of
#: the level curve against the ray, which is small near the local maximum.
_NEAR_MIN = 1e-3
_NEAR_SLOPE = 4.0
#: Relative positions between the inner point and the outer bound sampled first on a ray.
_RAY_SAMPLES = np.array([1e-4, 1e-3, 1e-2, 0.03, 0.1, 0.2, 0.35, 0.5, 0.7, 0.9])


def _near_offsets(step: NDArray[np.float64]) -> NDArray[np.float64]:
    """Relative offsets sampled on rays at angles `step` from a known crossing, one row each.

    Offsets of :data:`_NEAR_SAMPLES` larger than ``max(_NEAR_MIN, _NEAR_SLOPE * step)`` are
    replaced by the largest kept one of the same sign: the rows keep their length and order,
    and a repeated point is evaluated once.
    """
    limit = np.maximum(_NEAR_MIN, _NEAR_SLOPE * np.asarray(step, dtype=float))[:, None]
    samples = _NEAR_SAMPLES[None, :]
    kept = np.abs(samples) <= limit
    low = np.where(kept & (samples < 0), samples, 0.0).min(axis=1, keepdims=True)
    high = np.where(kept & (samples > 0), samples, 0.0).max(axis=1, keepdims=True)
    return np.where(kept, samples, np.where(samples < 0, low, high))


class Search:
    """Witness search and certificates for several eps on one scaled Schur factor."""

    def __init__(self, prep: Prepared, *, tol: float, certify_tol: float, seed: int) -> None:
        self.prep = prep
        self.tol = tol
        self.ctol = certify_tol
        self.seed = seed
        self.stol = min(1e-10, 1e-2 * tol)
        T = prep.solver.T
        self.T = T
        self.n = T.shape[0]
        self.lam = np.diag(T)
        self.rho = float(np.abs(self.lam).max())
        frob = float(np.linalg.norm(T))
        self.delta = _SLACK * self.n * np.finfo(np.float64).eps * frob
        self.norm = min(frob, float(np.sqrt(np.linalg.norm(T, 1) * np.linalg.norm(T, np.inf))))
        self.evaluations = 0
        self._strict: NDArray[np.float64] | None = None

    # -------------------------------------------------------------- evaluation
    def sigma(
        self, z: NDArray[np.complex128], *, tol: float | None = None, steps: int | None = None
    ) -> NDArray[np.float64]:
        """sigma_min(zI - T) at scaled points (mirror images computed once for real A).

        With `steps`, points not converged after that many Lanczos steps keep their Ritz
        estimate, which is never below the true value: enough to know that a point is inside.
        """
        z = np.asarray(z, dtype=np.complex128).ravel()
        if z.size == 0:
            return np.zeros(0)
        zf = z.real + 1j * np.abs(z.imag) if self.prep.real else z
        uniq, inverse = np.unique(zf, return_inverse=True)
        self.evaluations += uniq.size
        if self.n <= _DENSE_N and uniq.size <= _DENSE_POINTS:
            M = -np.broadcast_to(self.T, (uniq.size, self.n, self.n)).copy()
            idx = np.arange(self.n)
            M[:, idx, idx] += uniq[:, None]
            return np.linalg.svd(M, compute_uv=False)[:, -1][inverse]
        tol = self.stol if tol is None else tol
        values = self.prep.solver.sigma(
            uniq, tol=tol, seed=self.seed, maxiter=steps, estimate=steps is not None
        )
        return values[inverse]

    # -------------------------------------------------------------- driver
    def run(self, eps_values: Sequence[float]) -> list[PseudospectralRadius]:
        scale = self.prep.scale
        with np.errstate(over="ignore"):
            e = np.array([v / scale for v in eps_values])
        if not np.isfinite(e).all():
            return self._beyond_range(eps_values, e)
        k = e.size
        top = self.lam[int(np.argmax(np.abs(self.lam)))]
        direction = top / abs(top) if abs(top) > 0 else 1.0 + 0j
        witness = top + e * direction  # sigma <= |z - top| = eps
        value = np.abs(witness)
        theta = np.angle(witness)
        outer = self.norm + e
        upper = outer.copy()
        method = np.array(["norm"] * k, dtype=object)
        comparison = self._comparison_bound(e)
        better = comparison < upper
        upper[better] = comparison[better]
        method[better] = "comparison"
        todo = np.ones(k, dtype=bool)
        fresh = np.ones(k, dtype=bool)  # witness not yet refined
        for _ in range(_OUTER_ROUNDS):
            idx = np.flatnonzero(todo & fresh)
            if idx.size:
                w = self._refine(e[idx], witness[idx], outer[idx])
                witness[idx] = w
                value[idx] = np.abs(w)
                theta[idx] = np.angle(w)
                fresh[idx] = False
            done = todo & (upper <= value * (1.0 + self.ctol))
            todo &= ~done
            if not todo.any():
                break
            idx = np.flatnonzero(todo)
            bound, found = self._certify(e[idx], value[idx], upper[idx])
            for j, b, f in zip(idx, bound, found, strict=True):
                if f is not None:  # a point of the pseudospectrum outside the witness
                    witness[j] = f
                    value[j] = abs(f)
                    fresh[j] = True
                elif b < upper[j]:
                    upper[j] = b
                    method[j] = "circle"
            todo &= fresh
        out = []
        resolvable = e > 10.0 * self.delta  # above the rounding level of the Schur factor
        for j in range(k):
            up = max(upper[j], value[j])
            certified = bool(resolvable[j] and up <= value[j] * (1.0 + self.ctol))
            if not certified:
                logger.debug("eps=%g: radius only known in [%g, %g]", eps_values[j], value[j], up)
            out.append(
                PseudospectralRadius(
                    value[j] * scale,
                    upper=up * scale,
                    witness=witness[j] * scale,
                    certified=certified,
                    method=str(method[j]),
                    eps=eps_values[j],
                )
            )
        logger.debug("pseudospectral radius: %d sigma_min evaluations", self.evaluations)
        return out

    def _beyond_range(
        self, eps_values: Sequence[float], e: NDArray[np.float64]
    ) -> list[PseudospectralRadius]:
        r"""Results where some eps overflows at the matrix's scale (the others searched as usual).

        Such an eps exceeds :math:`\|A\|_2` by more than the float64 range, so
        :math:`\rho + \varepsilon \le \rho_\varepsilon \le \|A\|_2 + \varepsilon` pins the
        radius to :math:`\varepsilon` up to rounding: certified without a search.
        """
        finite = [v for v, scaled in zip(eps_values, e, strict=True) if np.isfinite(scaled)]
        searched = iter(self.run(finite)) if finite else iter(())
        scale = self.prep.scale
        scaled_top = self.lam[int(np.argmax(np.abs(self.lam)))]
        direction = np.exp(1j * np.angle(scaled_top)) if abs(scaled_top) > 0 else 1.0 + 0j
        top = scaled_top * scale
        out = []
        for v, scaled in zip(eps_values, e, strict=True):
            if np.isfinite(scaled):
                out.append(next(searched))
                continue
            witness = top + v * direction
            out.append(
                PseudospectralRadius(
                    abs(witness),
                    upper=max(self.norm * scale + v, abs(witness)),
                    witness=witness,
                    certified=True,
                    method="norm",
                    eps=v,
                )
            )
        return out

    # -------------------------------------------------------------- local search
    def _radial(
        self,
        e: NDArray[np.float64],
        theta: NDArray[np.float64],
        r_in: NDArray[np.float64],
        r_out: NDArray[np.float64],
        radii: NDArray[np.float64] | None = None,
    ) -> NDArray[np.float64]:
        """Outermost level crossing found on each ray ``r e^{i theta}``, ``r in [r_in, r_out]``.

        `r_in` is inside (sigma <= e) or ``-inf`` for a ray without a known inside point, in
        which case the ray is sampled around `r_out`'s start guess. Returns ``-inf`` for rays
        where no inside point was found.
        """
        u = np.exp(1j * theta)
        m = e.size
        # sample between the inner point (or 0.9 r_out) and r_out, keep the outermost inside
        base = np.where(np.isfinite(r_in), r_in, 0.0)
        span = r_out - base
        if radii is None:
            radii = base[:, None] + span[:, None] * _RAY_SAMPLES[None, :]
        s, inside = self._samples(e, radii * u[:, None])
        lo = np.where(np.isfinite(r_in), r_in, -np.inf)
        f_lo = np.full(m, -np.inf)
        hi = r_out.copy()
        f_hi = np.full(m, np.nan)
        for i in range(m):
            hits = np.flatnonzero(inside[i])
            if hits.size:
                last = int(hits[-1])
                lo[i] = radii[i, last]
                f_lo[i] = np.log(max(s[i, last], 1e-300) / e[i])
                if last + 1 < radii.shape[1]:
                    hi[i] = radii[i, last + 1]
                    f_hi[i] = np.log(s[i, last + 1] / e[i])
            elif np.isfinite(r_in[i]):
                hi[i] = radii[i, 0]
                f_hi[i] = np.log(s[i, 0] / e[i])
        need = np.isnan(f_hi) & np.isfinite(lo)
        if need.any():
            f_hi[need] = np.log(self.sigma(hi[need] * u[need]) / e[need])
        act = np.flatnonzero(np.isfinite(lo) & (hi - lo > 0.5 * self.tol * hi))
        side = np.zeros(m, dtype=np.int64)  # Illinois: which end was kept last time
        # the two latest iterates (log r, f) for the secant step
        x1, g1 = np.log(np.where(np.isfinite(lo), lo, 1.0)), f_lo.copy()
        x2, g2 = np.log(hi), f_hi.copy()
        for step in range(_RADIAL_STEPS):
            if act.size == 0:
                break
            a, b = np.log(lo[act]), np.log(hi[act])
            fa, fb = f_lo[act], f_hi[act]
            with np.errstate(invalid="ignore", divide="ignore"):
                xs = x2[act] - g2[act] * (x2[act] - x1[act]) / (g2[act] - g1[act])
                x = b - fb * (b - a) / (fb - fa)
            x = np.where(np.isfinite(x) & (x > a) & (x < b), x, 0.5 * (a + b))
            x = np.where(np.isfinite(xs) & (xs > a) & (xs < b) & (step > 0), xs, x)
            # a point within a quarter of the tolerance of an end: the next one closes the
            # bracket from the other side
            gap = np.minimum(0.45 * (b - a), 0.25 * self.tol)
            x = np.clip(x, a + gap, b - gap)
            r = np.exp(x)
            sv = self.sigma(r * u[act])
            f = np.log(np.maximum(sv, 1e-300) / e[act])
            x1[act], g1[act] = x2[act], g2[act]
            x2[act], g2[act] = x, f
            ins = f <= 0
            # Illinois modification: halve the kept end's value when the same end stays
            keep_hi = ins & (side[act] == 1)
            keep_lo = ~ins & (side[act] == -1)
            f_hi[act] = np.where(keep_hi, 0.5 * f_hi[act], f_hi[act])
            f_lo[act] = np.where(keep_lo, 0.5 * f_lo[act], f_lo[act])
            lo[act] = np.where(ins, r, lo[act])
            f_lo[act] = np.where(ins, f, f_lo[act])
            hi[act] = np.where(ins, hi[act], r)
            f_hi[act] = np.where(ins, f_hi[act], f)
            side[act] = np.where(ins, 1, -1)
            act = act[hi[act] - lo[act] > 0.5 * self.tol * hi[act]]
        return lo

    def _samples(
        self, e: NDArray[np.float64], z: NDArray[np.complex128]
    ) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
        """sigma_min at the samples ``z[i, :]`` of each ray (increasing radius), and inside flags.

        All samples first get a few Lanczos steps: an estimate that is at most `e` proves the
        point inside (the estimate is never below the true value), and far from the spectrum,
        where Lanczos converges slowly, most samples are clearly outside. Then the first sample
        beyond the outermost inside one on each ray, the end of the bracket the root finder
        starts from, is evaluated to full accuracy, and again outward while it turns out inside.
        """
        s = self.sigma(z.ravel(), steps=_SAMPLE_STEPS).reshape(z.shape)
        inside = s <= e[:, None]
        checked = inside.copy()
        k = z.shape[1]
        while True:
            last = np.where(inside.any(axis=1), k - 1 - np.argmax(inside[:, ::-1], axis=1), -1)
            nxt = last + 1
            rows = np.flatnonzero(
                (nxt < k) & ~checked[np.arange(z.shape[0]), np.minimum(nxt, k - 1)]
            )
            if rows.size == 0:
                return s, inside
            cols = nxt[rows]
            exact = self.sigma(z[rows, cols])
            s[rows, cols] = exact
            checked[rows, cols] = True
            inside[rows, cols] = exact <= e[rows]

    def _refine(
        self, e: NDArray[np.float64], start: NDArray[np.complex128], outer: NDArray[np.float64]
    ) -> NDArray[np.complex128]:
        """Move each inside point outward along its ray, then along the level in angle.

        The crossing radius ``R(theta)`` of the level curve has the slope
        ``R' = r Im(u w) / Re(u w)`` (``u = e^{i theta}``, ``w = u_min^H v_min``), so the local
        maximum is a root of ``R'``: secant steps on it, each new ray solved by Newton steps
        from the tangent prediction with the singular vector of the last crossing as Lanczos
        start (see :meth:`_newton`).
        """
        k = e.size
        theta = np.angle(start)
        r0 = self._radial(e, theta, np.abs(start), outer)
        r0 = np.where(np.isfinite(r0), r0, np.abs(start))
        _, w, vec = self.slope(r0 * np.exp(1j * theta))
        cur_t, cur_r, cur_g = theta.copy(), r0.copy(), self._level_slope(theta, r0, w)
        best_t, best_r = cur_t.copy(), cur_r.copy()
        prev_t, prev_g = np.full(k, np.nan), np.full(k, np.nan)
        # first angular step: the size of the component seen from the origin
        step = np.clip(0.5 * (r0 - self.rho) / np.maximum(r0, 1e-300), 1e-6, np.pi / 16)
        misses = np.zeros(k, dtype=np.int64)
        act = np.flatnonzero(np.isfinite(cur_g))
        for _ in range(_ANGLE_ROUNDS):
            if act.size == 0:
                break
            t, g = cur_t[act], cur_g[act]
            with np.errstate(invalid="ignore", divide="ignore"):
                h = (g - prev_g[act]) / (t - prev_t[act])  # secant slope of R'
            concave = np.isfinite(h) & (h < 0)
            with np.errstate(invalid="ignore", divide="ignore"):
                secant = -g / h
                gain = np.where(concave, 0.5 * g * secant, np.inf)
            spacing = np.where(np.isfinite(prev_t[act]), np.abs(t - prev_t[act]), step[act])
            sign = np.where(g >= 0, 1.0, -1.0)
            delta = np.where(
                concave,
                np.clip(secant, -4.0 * spacing, 4.0 * spacing),
                sign * np.where(np.isfinite(h), 2.0 * spacing, step[act]),
            )
            delta = np.clip(delta, -np.pi / 8, np.pi / 8)
            # stop where the predicted maximum is no higher than the best crossing found
            stop = cur_r[act] + gain <= best_r[act] * (1.0 + 0.1 * self.tol)
            stop |= np.abs(delta) < 1e-10
            act, t, delta = act[~stop], t[~stop], delta[~stop]
            if act.size == 0:
                break
            new_t = t + delta
            guess = np.minimum(cur_r[act] + cur_g[act] * delta, outer[act])
            rn, wn, vn = self._newton(e[act], new_t, guess, outer[act], vec[:, act])
            lost = ~np.isfinite(rn)
            if lost.any():  # no inside point near the prediction: sample around it
                sel = np.flatnonzero(lost)
                rs = self._near(
                    e[act[sel]], new_t[sel], guess[sel], outer[act[sel]], np.abs(delta[sel])
                )
                found = np.isfinite(rs)
                if found.any():
                    fs = sel[found]
                    _, wf, vf = self.slope(rs[found] * np.exp(1j * new_t[fs]))
                    rn[fs], wn[fs], vn[:, fs] = rs[found], wf, vf
                lost = ~np.isfinite(rn)
            gn = self._level_slope(new_t, rn, wn)
            ok = ~lost & np.isfinite(gn)
            moved, missed = act[ok], act[~ok]
            prev_t[moved], prev_g[moved] = cur_t[moved], cur_g[moved]
            cur_t[moved], cur_r[moved], cur_g[moved] = new_t[ok], rn[ok], gn[ok]
            vec[:, moved] = vn[:, ok]
            up = moved[cur_r[moved] > best_r[moved]]
            best_t[up], best_r[up] = cur_t[up], cur_r[up]
            # a ray that missed the component: a shorter step from the same crossing
            step[missed] = np.abs(delta[~ok]) / 8.0
            prev_t[missed], prev_g[missed] = np.nan, np.nan
            misses[missed] += 1
            act = act[misses[act] < 3]
        return best_r * np.exp(1j * best_t)

    @staticmethod
    def _level_slope(
        theta: NDArray[np.float64], r: NDArray[np.float64], w: NDArray[np.complex128]
    ) -> NDArray[np.float64]:
        """``dR/dtheta`` of the level curve through ``r e^{i theta}`` (NaN where undefined)."""
        uw = np.exp(1j * theta) * w
        with np.errstate(invalid="ignore", divide="ignore"):
            g = r * uw.imag / uw.real
        return np.where((uw.real > 0) & np.isfinite(r), g, np.nan)

    def slope(
        self, z: NDArray[np.complex128], start: NDArray[np.complex128] | None = None
    ) -> tuple[NDArray[np.float64], NDArray[np.complex128], NDArray[np.complex128]]:
        """sigma_min, ``w = u^H v`` and the right singular vector `v` at scaled points.

        `start` (one column per point) is mixed with the seeded start vector before Lanczos
        starts from it.
        """
        z = np.asarray(z, dtype=np.complex128).ravel()
        self.evaluations += z.size
        if self.n <= _DENSE_N and z.size <= _DENSE_POINTS:
            s, w, v = dense_svd(self.T, z, True)
            return s, cast("NDArray[np.complex128]", w), cast("NDArray[np.complex128]", v)
        if start is not None:
            start = start + _WARM_MIX * start_vector(self.n, self.seed)[:, None]
        return self.prep.solver.sigma_slope_vectors(z, tol=self.stol, seed=self.seed, start=start)

    def _newton(
        self,
        e: NDArray[np.float64],
        theta: NDArray[np.float64],
        guess: NDArray[np.float64],
        outer: NDArray[np.float64],
        start: NDArray[np.complex128],
    ) -> tuple[NDArray[np.float64], NDArray[np.complex128], NDArray[np.complex128]]:
        """Level crossing near `guess` on each ray ``r e^{i theta}`` by safeguarded Newton steps.

        Each step ``r - (sigma - e) / (d sigma / d r)`` is moved by ``_CLOSE * tol`` towards the
        side not yet seen, so that near the root consecutive points bracket it. Returns the
        inside end of a bracket of relative width ``tol / 2`` (or the best inside point after
        ``_NEWTON_STEPS`` steps; ``-inf`` where none was found), with `w` and `v` there.
        """
        m = e.size
        u = np.exp(1j * theta)
        lo = np.full(m, -np.inf)
        hi = outer.copy()
        w_lo = np.zeros(m, dtype=np.complex128)
        v_lo = start.copy()
        vec = start.copy()
        r = np.minimum(guess, outer)
        act = np.arange(m)
        for _ in range(_NEWTON_STEPS):
            if act.size == 0:
                break
            ra = r[act]
            s, w, v = self.slope(ra * u[act], start=vec[:, act])
            vec[:, act] = v
            f = s - e[act]
            ins = f <= 0
            beyond = ins & (ra >= hi[act])  # an inside point past an outside one: go on out
            hi[act] = np.where(beyond, outer[act], hi[act])
            new_lo = ins & ~(ra <= lo[act])
            lo[act] = np.where(new_lo, ra, lo[act])
            w_lo[act] = np.where(new_lo, w, w_lo[act])
            v_lo[:, act[new_lo]] = v[:, new_lo]
            lo_a = lo[act]
            low = np.where(np.isfinite(lo_a), lo_a, 0.0)
            hi[act] = np.where(~ins & (ra < hi[act]) & (ra > low), ra, hi[act])
            hi_a = hi[act]
            done = np.isfinite(lo_a) & (hi_a - lo_a <= 0.5 * self.tol * hi_a)
            d = (u[act] * w).real  # d sigma / d r
            with np.errstate(invalid="ignore", divide="ignore"):
                x = ra - f / d
            x *= 1.0 + np.where(ins, _CLOSE, -_CLOSE) * self.tol
            valid = (d > 0) & np.isfinite(x) & (x > low) & (x < hi_a)
            # outside the bracket: its geometric midpoint, or give up without an inside point
            x = np.where(valid, x, np.sqrt(np.maximum(low, 0.0)) * np.sqrt(hi_a))
            failed = ~valid & ~np.isfinite(lo_a)
            r[act] = x
            act = act[~done & ~failed]
        return lo, w_lo, v_lo

    def _near(
        self,
        e: NDArray[np.float64],
        theta: NDArray[np.float64],
        guess: NDArray[np.float64],
        outer: NDArray[np.float64],
        step: NDArray[np.float64],
    ) -> NDArray[np.float64]:
        """Level crossing on rays near a known one: an inside point near `guess`, then outward.

        `step` is each ray's angle from the ray of `guess`; see :func:`_near_offsets`.
        """
        offsets = _near_offsets(step)
        trial = guess[:, None] * (1.0 + offsets)
        trial = np.minimum(trial, outer[:, None])
        return self._radial(e, theta, np.full(e.size, -np.inf), outer, radii=trial)

    # -------------------------------------------------------------- certificates
    def _comparison_bound(self, e: NDArray[np.float64]) -> NDArray[np.float64]:
        r"""Smallest U with ``sigma_min((U - rho) I - |N|) > e`` (proved), else ``inf``."""
        N = np.abs(np.triu(self.T, 1))
        out = np.full(e.size, np.inf)
        nN = float(np.linalg.norm(N))
        if nN == 0.0:
            return (self.rho + e) * (1.0 + 4 * np.finfo(float).eps) + self.delta
        if self.n > 512:
            return out
        g = ComparisonNorm(N)
        for j, ej in enumerate(e):
            target = ej + self.delta
            lo, hi = target, target + nN * (1.0 + 1e-12)
            if g.lower(hi) <= target:
                continue
            for _ in range(60):
                if hi - lo <= 0.1 * self.ctol * (self.rho + lo):
                    break
                mid = np.sqrt(lo * hi) if lo > 0 else 0.5 * hi
                if g.lower(mid) > target:
                    hi = mid
                else:
                    lo = mid
            out[j] = self.rho + hi
        return out

    def _certify(
        self, e: NDArray[np.float64], value: NDArray[np.float64], upper: NDArray[np.float64]
    ) -> tuple[list[float], list[complex | None]]:
        """Circle covers at radii just above each value; the proved bound or a new witness."""
        bounds = [float(u) for u in upper]
        found: list[complex | None] = [None] * e.size
        pending = list(range(e.size))
        factor = np.full(e.size, 0.9 * self.ctol)
        for _ in range(_CIRCLE_TRIES):
            if not pending:
                break
            radii = np.array([value[j] * (1.0 + factor[j]) for j in pending])
            results = self._circles(e[pending], radii)
            nxt = []
            for j, U, (status, point) in zip(pending, radii, results, strict=True):
                if status == "proved":
                    bounds[j] = min(bounds[j], float(U))
                elif status == "inside":
                    found[j] = point
                elif U < bounds[j]:
                    factor[j] *= 8.0
                    if value[j] * (1.0 + factor[j]) < bounds[j]:
                        nxt.append(j)
            pending = nxt
        return bounds, found

    def _circles(
        self, e: NDArray[np.float64], radii: NDArray[np.float64]
    ) -> list[tuple[str, complex | None]]:
        """Cover the circles ``|z| = radii[j]`` by arcs where sigma_min > e[j], all together."""
        span = np.pi if self.prep.real else 2 * np.pi
        k = e.size
        # uncovered arcs per circle: list of (a, b)
        arcs: list[list[tuple[float, float]]] = [[(0.0, span)] for _ in range(k)]
        status: list[tuple[str, complex | None]] = [("open", None)] * k
        used = np.zeros(k, dtype=np.int64)
        # excluded arcs seen so far on each circle (centre, half-width), to size the next samples
        seen: list[tuple[NDArray[np.float64], NDArray[np.float64]]] = [
            (np.zeros(0), np.zeros(0)) for _ in range(k)
        ]
        for rnd in range(_CIRCLE_ROUNDS):
            owners, angles, parents = [], [], []
            for j in range(k):
                if status[j][0] != "open":
                    continue
                if not arcs[j]:
                    status[j] = ("proved", None)
                    continue
                if rnd == 0:
                    a, b = arcs[j][0]
                    placed = [a + (b - a) * (np.arange(_CIRCLE_START) + 0.5) / _CIRCLE_START]
                else:
                    placed = arc_samples(
                        arcs[j],
                        *seen[j],
                        split=_CIRCLE_SPLIT,
                        safety=_CIRCLE_SAFETY,
                        cap=_CIRCLE_CAP,
                    )
                for p, t in enumerate(placed):
                    angles.append(t)
                    owners.append(np.full(t.size, j))
                    parents.append(np.full(t.size, p))
                    used[j] += t.size
            if not angles:
                break
            th = np.concatenate(angles)
            own = np.concatenate(owners)
            par = np.concatenate(parents)
            z = radii[own] * np.exp(1j * th)
            s = self.sigma(z, tol=_COVER_TOL)
            lower = s * (1.0 - _TRUST) - self.delta
            for j in np.unique(own):
                sel = own == j
                if np.any(s[sel] <= e[j]):
                    i = int(np.flatnonzero(sel)[int(np.argmin(s[sel]))])
                    status[j] = ("inside", complex(z[i]))
                    continue
                margin = lower[sel] - e[j]
                half = 2.0 * np.arcsin(np.clip(margin / (2.0 * radii[j]), 0.0, 1.0))
                half = np.where(margin > 0, half, 0.0)
                seen[j] = (
                    np.concatenate([seen[j][0], th[sel]]),
                    np.concatenate([seen[j][1], half]),
                )
                new_arcs = uncovered(arcs[j], par[sel], th[sel], half)
                tiny = [(a, b) for a, b in new_arcs if b - a < 1e-12]
                if tiny or used[j] > _CIRCLE_POINTS:
                    status[j] = ("failed", None)
                    continue
                arcs[j] = new_arcs
                if not new_arcs:
                    status[j] = ("proved", None)
        return [(st if st != "open" else "failed", pt) for st, pt in status]
