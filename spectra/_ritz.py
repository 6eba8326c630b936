"""Largest Ritz value of many Lanczos tridiagonals at once, and its eigenvector weight."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.linalg import lapack

__all__ = ["last_weight", "ritz_max"]

#: Sets of at most this many tridiagonals use LAPACK's bisection (dstebz) per matrix.
_SMALL_RITZ = 24

_dstebz = lapack.dstebz


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


def last_weight(
    al: NDArray[np.float64], be: NDArray[np.float64], x: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Squared last component of the unit eigenvector for the eigenvalue `x` of each tridiagonal.

    The eigenvector is built from the bottom up, ``s[j] / s[j + 1]`` by the three-term
    recurrence of the rows: for a converged top Ritz pair the components grow upwards, the
    stable direction. `al` is (k, G), `be` is (k - 1, G), `x` is (G,).
    """
    k = al.shape[0]
    if k == 1:
        return np.ones(al.shape[1])
    rho = (x - al[k - 1]) / be[k - 2]
    prod = np.minimum(np.abs(rho), 1e150)
    total = 1.0 + prod * prod
    for j in range(k - 3, -1, -1):
        rho = ((x - al[j + 1]) - be[j + 1] / rho) / be[j]
        prod = np.minimum(prod * np.abs(rho), 1e150)
        total += prod * prod
    return 1.0 / total


def ritz_max(
    al: NDArray[np.float64], be: NDArray[np.float64], x0: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Largest eigenvalue of each Lanczos tridiagonal; `al` is (k, G), `be` is (k - 1, G)."""
    k, G = al.shape
    if k == 1:
        return al[0].copy()
    if G <= _SMALL_RITZ:
        # LAPACK's bisection for the k-th (largest) eigenvalue, as
        # eigvalsh_tridiagonal(select="i") calls it, without its argument checks
        out = np.full(G, np.nan)
        finite = np.isfinite(al).all(axis=0) & np.isfinite(be).all(axis=0)
        d_all = np.ascontiguousarray(al.T)
        e_all = np.ascontiguousarray(be.T)
        for g in np.flatnonzero(finite):
            _, w, _, _, info = _dstebz(d_all[g], e_all[g], 2, 0.0, 1.0, k, k, 0.0, "E")
            if info != 0:
                raise np.linalg.LinAlgError(f"dstebz (Ritz values) returned info={info}")
            out[g] = w[0]
        return out
    return _laguerre_max(al, be * be, x0)
