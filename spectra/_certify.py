"""Building blocks of the certificates of :mod:`spectra.radius`.

Arcs left to cover on a circle, and proved bounds of the comparison matrix of a Schur factor.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.linalg
from numpy.typing import NDArray

__all__ = ["ComparisonNorm", "arc_samples", "uncovered"]


def uncovered(
    arcs: list[tuple[float, float]],
    parent: NDArray[np.intp],
    centre: NDArray[np.float64],
    half: NDArray[np.float64],
) -> list[tuple[float, float]]:
    """Return what is left of each arc after removing ``[centre - half, centre + half]``."""
    out: list[tuple[float, float]] = []
    for p, (a, b) in enumerate(arcs):
        sel = parent == p
        c, h = centre[sel], half[sel]
        order = np.argsort(c)
        lo_ends, hi_ends = (c - h)[order], (c + h)[order]
        pos = a
        for lo_e, hi_e in zip(lo_ends, hi_ends, strict=True):
            if lo_e > pos:
                out.append((pos, min(lo_e, b)))
            pos = max(pos, hi_e)
            if pos >= b:
                break
        if pos < b:
            out.append((pos, b))
    return [(a, b) for a, b in out if b > a]


def _triangular_solver(
    M: NDArray[np.float64],
) -> Callable[[NDArray[np.float64], bool], NDArray[np.float64]]:
    """``solve(b, transposed)``: ``M x = b`` (``M^T x = b``) for upper-triangular C-ordered `M`.

    The LAPACK ``trtrs`` call that :func:`scipy.linalg.solve_triangular` makes for a C-ordered
    matrix (its Fortran-ordered transpose, read as lower triangular), without the wrapper's
    checks: the results are the same bits, at a fraction of the overhead on small matrices.
    """
    trtrs = scipy.linalg.lapack.dtrtrs
    Mt = M.T  # Fortran-ordered lower triangular, no copy

    def solve(b: NDArray[np.float64], transposed: bool) -> NDArray[np.float64]:
        x, info = trtrs(Mt, b, lower=1, trans=0 if transposed else 1)
        if info != 0:  # pragma: no cover - c > 0 on the diagonal, never singular
            raise np.linalg.LinAlgError(f"trtrs returned info={info}")
        return x

    return solve


class ComparisonNorm:
    r"""Proved lower bounds of :math:`\sigma_{\min}(cI - |N|)` for a nonnegative strictly upper `N`.

    :math:`X = (cI - |N|)^{-1} \ge 0` entrywise, so by Collatz--Wielandt
    :math:`\|X\|_2^2 = \rho(X^T X) \le \max_i (X^T X x)_i / x_i` for any positive `x`; a few
    power steps make `x` close to the Perron vector and the bound tight.
    """

    def __init__(self, N: NDArray[np.float64]) -> None:
        self.N = N
        self.x = np.ones(N.shape[0])

    def lower(self, c: float) -> float:
        M = -self.N.copy()
        M[np.diag_indices_from(M)] = c
        solve = _triangular_solver(M)
        x = self.x / np.linalg.norm(self.x)
        bound = np.inf
        for _ in range(40):
            with np.errstate(over="ignore", invalid="ignore"):
                y = solve(x, False)
                w = solve(y, True)
                ratio = float(np.max(w / x))  # Collatz--Wielandt: above ||X||^2
                estimate = float(np.dot(y, y))  # Rayleigh quotient: below ||X||^2
            if not np.isfinite(ratio):
                return 0.0
            bound = min(bound, ratio)
            if bound <= estimate * (1.0 + 1e-6):
                break
            with np.errstate(over="ignore", invalid="ignore"):
                x_new = w / np.linalg.norm(w)
            if np.all(x_new > 0):
                x = x_new
        self.x = x
        # rounding of the nonnegative substitutions: a relative n * eps per solve
        bound *= 1.0 + 4.0 * self.N.shape[0] * np.finfo(float).eps
        if not bound > 0.0:  # the solves underflowed: fall back to Weyl, c - ||N||_F
            return float(max(c - np.linalg.norm(self.N), 0.0))
        return float(1.0 / np.sqrt(bound))


def arc_samples(
    arcs: list[tuple[float, float]],
    centre: NDArray[np.float64],
    half: NDArray[np.float64],
    *,
    split: int,
    safety: float,
    cap: int,
) -> list[NDArray[np.float64]]:
    """Angles to sample in each uncovered arc in the next round of a circle cover.

    The excluded arcs that end at the two ends of a gap give the half-widths at their centres;
    the half-width inside the gap is predicted by linear interpolation between them (the
    margin varies continuously), and points are placed from the left end so that each
    predicted arc, shrunk by `safety`, starts where the previous one ends: as many points as
    the gap needs, rather than a fixed number. A gap without a neighbour that excluded
    anything gets `split` evenly spaced points; at most `cap` points go into one gap per
    round. Any placement is safe: the cover only removes arcs that are proved, and what is
    left is sampled again in the next round.
    """
    out = []
    ends_hi, ends_lo = centre + half, centre - half
    for a, b in arcs:
        width = b - a
        close = 1e-9 * max(1.0, abs(b))
        il = int(np.argmin(np.abs(ends_hi - a)))
        ir = int(np.argmin(np.abs(ends_lo - b)))
        left = abs(ends_hi[il] - a) <= close and half[il] > 0.0
        right = abs(ends_lo[ir] - b) <= close and half[ir] > 0.0
        if not (left or right):
            out.append(a + width * (np.arange(split) + 0.5) / split)
            continue
        if left and right and centre[ir] > centre[il]:
            c0, h0 = float(centre[il]), float(half[il])
            slope = (float(half[ir]) - h0) / (float(centre[ir]) - c0)
        else:
            c0, h0 = (float(centre[il]), float(half[il])) if left else (a, float(half[ir]))
            slope = 0.0
        slope = min(slope, 0.5 / safety)  # keeps the placement moving forward
        pts: list[float] = []
        pos = a
        while pos < b and len(pts) < cap:
            # centre c whose predicted arc, shrunk by `safety`, starts at pos
            c = (pos + safety * (h0 - slope * c0)) / (1.0 - safety * slope)
            if c >= b:  # one point covers the rest: put it in the middle
                c = 0.5 * (pos + b)
            h = h0 + slope * (c - c0)
            if not h > 0.0:
                break
            pts.append(c)
            pos = c + safety * h
        if not pts:
            pts = list(a + width * (np.arange(split) + 0.5) / split)
        out.append(np.asarray(pts))
    return out
