r"""Local order of the resolvent: how long a feed-forward chain hides behind an eigenvalue.

Near a simple eigenvalue :math:`\mu`, :math:`\sigma_{\min}(zI - A) \approx |z - \mu|/\kappa(\mu)`:
the resolvent norm grows like :math:`|z - \mu|^{-1}`. A feed-forward chain of :math:`k` modes with
couplings :math:`\alpha` on one eigenvalue (a Jordan block :math:`\mu I + \alpha S`) gives instead
:math:`\sigma_{\min} \approx |z - \mu|^k / \alpha^{k-1}` for :math:`|z - \mu|` below about
:math:`0.6\,\alpha`. The *local order*

.. math:: k(\mu, r) = \frac{d \log \sigma_{\min}(zI - A)}{d \log |z - \mu|}, \qquad |z - \mu| = r,

is therefore the length of the chain where it is stable in :math:`r`, and 1 for a simple
eigenvalue. Unlike the longest path among the Schur couplings (:func:`spectra.chains`), it is
a function of :math:`\sigma_{\min}(zI - A)` only, so it does not change under unitary
similarity, and it does not count the incidental couplings of a dense non-normal matrix.

In floating point the eigenvalue of a chain splits into a ring of radius about
:math:`\rho_k = (\epsilon\|A\|\alpha^{k-1})^{1/k}` (the float64 floor
:math:`\epsilon^{1/k}`, relative), and :math:`\sigma_{\min}` is only known to about
:math:`\epsilon\|A\|`. The order is measured on radii between about :math:`1.5\rho_k` (where
:math:`\sigma_{\min}` exceeds :math:`10^3\epsilon\|A\|`) and half the distance to the rest of
the spectrum; a chain whose floor radius is not well below that distance (for example
:math:`k = 16` with :math:`\alpha = 1`, whose ring has radius 0.1, next to eigenvalues at
distance 0.5) cannot be separated from its neighbours in float64.
"""

from __future__ import annotations

import logging
import numbers
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import scipy.linalg
from numpy.typing import ArrayLike, NDArray

from spectra._arguments import check_count
from spectra._inverse_lanczos import ResolventSolver
from spectra._nilpotent import nilpotent_order
from spectra._resolvent import _gees_lwork
from spectra._serialize import jsonable
from spectra._validation import as_square
from spectra.errors import ShapeMismatchError
from spectra.schur import SchurForm, _complex_schur, _exponent, _frobenius, _power_of_two_scale

__all__ = ["ChainOrder", "chain_order"]

logger = logging.getLogger(__name__)

#: Eigenvalue clusters probed per matrix (largest first), singletons filling the rest.
CANDIDATES = 3
#: Radii per probed cluster, log-spaced.
RADII = 14
#: Angles per circle on the upper half plane (a real matrix around a real centre, by the
#: mirror symmetry); twice as many over the full circle otherwise.
ANGLES = 4
#: A cluster is probed only when the rest of the spectrum is this many radii away.
ISOLATION = 8.0
#: Radii stay below this fraction of the distance to the rest of the spectrum.
OUTER = 0.5
#: Radii stay above this multiple of the cluster radius (and of 1e-3 times the distance).
INNER = 1.5
#: Values of sigma below this times eps * ||A||_F are rounding noise and not used.
FLOOR = 1e3
#: Local slopes of a stable range agree within this fraction of their median ...
STABLE = 0.05
#: ... over radii spanning at least this factor (and at least three slopes).
SPAN = 2.0
#: Orders up to ``null_order + NULL_MARGIN`` are within what the null control shows: two
#: nearly equal eigenvalues with a strong coupling (a chain of two) are common in noise.
NULL_MARGIN = 1.0
#: Tolerance of the inverse-Lanczos sigma_min (slopes need a few digits only).
SIGMA_TOL = 1e-6

_EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True, eq=False)
class ChainOrder:
    r"""Largest stable local order of the resolvent of a matrix, with its null control.

    Attributes
    ----------
    order : float
        Largest stable local order :math:`k = d\log\sigma_{\min}/d\log|z - \mu|` over the
        probed eigenvalue clusters: about the length of the longest hidden feed-forward chain,
        1 for a matrix without one; NaN when no stable range was found.
    eigenvalue : complex
        Centre :math:`\mu` (mean of the cluster's computed eigenvalues) where it holds.
    radii : tuple of float
        Range of :math:`|z - \mu|` over which the order is stable.
    cluster_size : int
        Number of computed eigenvalues in that cluster (an upper bound on the chain length).
    null_order : float
        The same statistic for seeded Gaussian matrices of the same size and type (real or
        complex), at the same Henrici departure: the largest over the null samples.
    exceeds_null : bool
        Whether `order` exceeds `null_order` by more than 1 (one link): a chain longer than
        the non-normality of a random matrix explains. Pairs of nearly equal eigenvalues with a
        strong coupling (chains of two) are common in random and trained matrices, so one
        link is the margin.

    Examples
    --------
    >>> from spectra.matrices import chain
    >>> result = chain_order(chain(5))
    >>> round(result.order, 1), result.exceeds_null
    (5.0, True)
    """

    order: float
    eigenvalue: complex
    radii: tuple[float, float]
    cluster_size: int
    null_order: float
    exceeds_null: bool

    def to_dict(self) -> dict[str, Any]:
        """Return the result as a JSON-ready dict (the eigenvalue as ``[re, im]``).

        Returns
        -------
        dict
            Keys ``order``, ``eigenvalue``, ``radii``, ``cluster_size``, ``null_order`` and
            ``exceeds_null``.

        Examples
        --------
        >>> sorted(chain_order(np.eye(3)).to_dict())
        ['cluster_size', 'eigenvalue', 'exceeds_null', 'null_order', 'order', 'radii']
        """
        return {
            "order": float(self.order),
            "eigenvalue": jsonable(complex(self.eigenvalue)),
            "radii": [float(r) for r in self.radii],
            "cluster_size": int(self.cluster_size),
            "null_order": float(self.null_order),
            "exceeds_null": bool(self.exceeds_null),
        }


@dataclass(frozen=True)
class _Candidate:
    centre: complex
    size: int
    inner: float
    outer: float


@dataclass(frozen=True)
class _Found:
    order: float
    centre: complex
    radii: tuple[float, float]
    size: int


def _candidates(lam: NDArray[np.complex128], frobenius: float, real: bool) -> list[_Candidate]:
    """Isolated eigenvalue clusters (largest first), then isolated simple eigenvalues.

    Clusters are the nodes of the single-linkage tree of the eigenvalues whose distance to the
    rest of the spectrum is at least ``ISOLATION`` times their radius. The whole spectrum is a
    candidate only when no smaller cluster is and its radius is below ``||A||_F / 32`` (a
    nilpotent-like matrix, such as a bare chain), with the rest of the plane at ``2 ||A||_F``.
    For a real matrix only centres in the closed upper half plane are kept (the lower half is
    its mirror image).
    """
    n = lam.size
    far = 2.0 * frobenius if frobenius > 0 else 2.0
    if n == 1:
        return [_Candidate(complex(lam[0]), 1, 1e-3 * far, OUTER * far)]
    # imported here: scipy.cluster costs most of the import time of the package
    import scipy.cluster.hierarchy
    import scipy.spatial.distance

    points = np.column_stack([lam.real, lam.imag])
    tree = scipy.cluster.hierarchy.linkage(scipy.spatial.distance.pdist(points), method="single")
    members: dict[int, NDArray[np.intp]] = {i: np.array([i]) for i in range(n)}
    clusters: list[tuple[int, float, _Candidate]] = []
    root: _Candidate | None = None
    for j, (a, b, _, _) in enumerate(tree):
        idx = np.concatenate([members.pop(int(a)), members.pop(int(b))])
        members[n + j] = idx
        centre = complex(lam[idx].mean())
        radius = float(np.abs(lam[idx] - centre).max())
        if idx.size == n:
            distance = far
        else:
            rest = np.ones(n, dtype=bool)
            rest[idx] = False
            distance = float(np.abs(lam[rest] - centre).min())
        if distance < ISOLATION * radius or distance == 0.0:
            continue
        if real and centre.imag < -1e-12 * max(abs(centre), frobenius):
            continue
        inner = max(INNER * radius, 1e-3 * distance)
        candidate = _Candidate(centre, int(idx.size), inner, OUTER * distance)
        if idx.size == n:
            root = candidate
        else:
            clusters.append((int(idx.size), distance / max(radius, 1e-300), candidate))
    clusters.sort(key=lambda c: (-c[0], -c[1]))
    chosen = [c for _, _, c in clusters[: CANDIDATES - 1]]
    if not chosen and root is not None and root.inner * ISOLATION**2 <= INNER * far:
        chosen = [root]  # the whole spectrum is one tight cluster (a bare chain)
    if len(chosen) < CANDIDATES:  # at least one simple eigenvalue, whose order is 1
        gaps = np.abs(lam[:, None] - lam[None, :])
        np.fill_diagonal(gaps, np.inf)
        nearest = gaps.min(axis=1)
        for i in np.argsort(-nearest, kind="stable"):
            if len(chosen) >= CANDIDATES:
                break
            d = float(nearest[i])
            lower = real and lam[i].imag < -1e-12 * max(abs(lam[i]), frobenius)
            if d > 0 and np.isfinite(d) and not lower:
                chosen.append(_Candidate(complex(lam[i]), 1, 1e-3 * d, OUTER * d))
    return chosen


def _stable_range(
    radii: NDArray[np.float64], logs: NDArray[np.float64], valid: NDArray[np.bool_]
) -> tuple[float, int, int] | None:
    """Largest order over the maximal stable windows of the log-log curve, with its window."""
    with np.errstate(invalid="ignore"):  # logs of sigma = 0 are -inf, and not valid
        slopes = np.diff(logs) / np.diff(np.log(radii))
    ok = valid[1:] & valid[:-1] & np.isfinite(slopes)
    best: tuple[float, int, int] | None = None
    m = slopes.size
    for a in range(m):
        b = a
        while b + 1 < m and ok[b + 1] and ok[a]:
            w = slopes[a : b + 2]
            if w.max() - w.min() > 2.0 * STABLE * abs(np.median(w)):
                break
            b += 1
        if not ok[a] or b - a < 2 or radii[b + 1] / radii[a] < SPAN:
            continue
        order = float(np.median(slopes[a : b + 1]))
        if (
            best is None
            or order > best[0] * (1 + 1e-9)
            or (order >= best[0] * (1 - 1e-9) and b - a > best[2] - best[1])
        ):
            best = (order, a, b + 1)
    return best


def _statistic(T: NDArray[np.complex128], real: bool, seed: int) -> tuple[_Found | None, int]:
    """Largest stable local order of the triangular `T` (unscaled), and the points used."""
    e = _exponent(T)
    scaled = _power_of_two_scale(T, -e) if e else T
    scale = float(np.ldexp(1.0, e))
    lam = np.diag(scaled).copy()
    frobenius = _frobenius(scaled)
    floor = FLOOR * _EPS * frobenius
    if lam.size > 1 and np.all(lam == lam[0]):
        exact = nilpotent_order(scaled, floor)
        if exact is not None:
            order, upper, lower = exact
            radii = (lower * scale, upper * scale)
            return _Found(float(order), complex(lam[0]) * scale, radii, int(lam.size)), 0
    candidates = _candidates(lam, frobenius, real)
    if not candidates:
        return None, 0
    solver = ResolventSolver(scaled)
    ranges = [np.geomspace(c.inner, c.outer, RADII) for c in candidates]
    grids, sigmas = _evaluate(solver, candidates, ranges, frobenius, real, seed)
    points = sum(g.size for g in grids)
    best: _Found | None = None
    for c, radii, grid, s in zip(candidates, ranges, grids, sigmas, strict=True):
        valid = (s > floor).all(axis=1)
        with np.errstate(divide="ignore"):
            logs = np.log(s).mean(axis=1)
            dist = np.abs(grid[:, :, None] - lam[None, None, :]).min(axis=2)
            logs = logs - np.log(dist).mean(axis=1) + np.log(radii)
        found = _stable_range(radii, logs, valid)
        if found is None:
            continue
        order, a, b = found
        if best is None or order > best.order:
            best = _Found(
                order,
                complex(c.centre) * scale,
                (float(radii[a]) * scale, float(radii[b]) * scale),
                c.size,
            )
    return best, int(points)


def _evaluate(
    solver: ResolventSolver,
    candidates: list[_Candidate],
    ranges: list[NDArray[np.float64]],
    frobenius: float,
    real: bool,
    seed: int,
) -> tuple[list[NDArray[np.complex128]], list[NDArray[np.float64]]]:
    """Circles of the given radii around each candidate, all in one batched sigma_min call."""
    grids = []
    for c, radii in zip(candidates, ranges, strict=True):
        if real and abs(c.centre.imag) <= 1e-12 * max(abs(c.centre), frobenius):
            angles = (np.arange(ANGLES) + 0.5) * (np.pi / ANGLES)
        else:
            angles = (np.arange(2 * ANGLES) + 0.5) * (np.pi / ANGLES)
        grids.append(c.centre + radii[:, None] * np.exp(1j * angles)[None, :])
    z = np.concatenate([g.ravel() for g in grids])
    if real:
        z = z.real + 1j * np.abs(z.imag)
    sigma = solver.sigma(z, tol=SIGMA_TOL, seed=seed)
    out, start = [], 0
    for g in grids:
        out.append(sigma[start : start + g.size].reshape(g.shape))
        start += g.size
    return grids, out


def _schur_factor(G: NDArray[Any]) -> NDArray[np.complex128]:
    """Triangular factor of a complex Schur form of a (well-scaled) matrix, without the basis."""
    if G.dtype.kind == "c":
        T = scipy.linalg.schur(G, output="complex", check_finite=False)[0]
    else:
        dgees = scipy.linalg.lapack.dgees
        lwork = _gees_lwork(dgees, lambda wr, wi: None, G)
        T = dgees(lambda wr, wi: None, G, compute_v=0, lwork=lwork)[0]
        T = scipy.linalg.rsf2csf(T, np.eye(G.shape[0]), check_finite=False)[0]
    return np.triu(T).astype(np.complex128, copy=False)


@lru_cache(maxsize=32)
def _null_orders(n: int, complex_matrix: bool, seed: int, samples: int) -> tuple[float, ...]:
    """Return the statistic of `samples` seeded Gaussian matrices of size `n` (scale-free)."""
    rng = np.random.default_rng([seed, n, int(complex_matrix)])
    orders = []
    for _ in range(samples):
        G = rng.standard_normal((n, n))
        if complex_matrix:
            G = (G + 1j * rng.standard_normal((n, n))) / np.sqrt(2.0)
        found, _ = _statistic(_schur_factor(G / np.sqrt(n)), not complex_matrix, seed)
        orders.append(np.nan if found is None else found.order)
    return tuple(orders)


def _check_seed(seed: int) -> int:
    if isinstance(seed, bool | np.bool_) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an integer, got {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def chain_order(
    A: ArrayLike,
    *,
    seed: int = 0,
    null_samples: int = 2,
    schur_form: SchurForm | None = None,
) -> ChainOrder:
    r"""Return the largest stable local order of the resolvent of `A`, with a null control.

    The local order around an eigenvalue cluster with centre :math:`\mu` is the slope of
    :math:`\log \sigma_{\min}(zI - A)` (averaged over a circle :math:`|z - \mu| = r`) against
    :math:`\log r`: a feed-forward chain of :math:`k` modes gives :math:`k` below its coupling,
    a simple eigenvalue 1 (see :mod:`spectra.local_order`). The clusters probed are the (at
    most three) largest groups of computed eigenvalues that are isolated from the rest of the
    spectrum by at least eight times their radius, then isolated simple eigenvalues. On each, 14
    log-spaced radii from :math:`1.5\times` the cluster radius to half the distance to the rest of
    the spectrum, with 4 angles on a half circle (real `A` around a real centre) or 8 on a full
    one, go into one batched inverse-Lanczos call on the shared Schur factor: at most 336
    :math:`\sigma_{\min}` evaluations for `A` and as many per null sample. A stable range is a
    run of at least three local slopes within 10 % of their median, spanning a factor of at
    least 2 in radius, where :math:`\sigma_{\min} > 10^3\epsilon\|A\|_F`; the order is the
    least-squares slope over it, and the result is the largest over the clusters.

    The null control is the same statistic for seeded Gaussian matrices with the same size and
    type (real or complex). Matching their Henrici departure to that of `A` is a change of
    scale, which leaves the statistic unchanged (every radius and floor in it is relative), so
    the null values depend only on the size, the type, `seed` and `null_samples`, and are
    cached per process. `null_order` is the largest over the `null_samples` matrices, and
    `exceeds_null` says whether `order` is above it by more than 1.

    Parameters
    ----------
    A : (N, N) array_like
        Real or complex square matrix; integers are cast to float64.
    seed : int, optional
        Seed of the null samples and of the Lanczos start vector, non-negative.
    null_samples : int, optional
        Number of Gaussian matrices in the null control, at least 1.
    schur_form : SchurForm, optional
        :func:`spectra.schur` of `A`, when the caller already has it: its triangular factor is
        used instead of a new decomposition (it is trusted to belong to `A`).

    Returns
    -------
    ChainOrder
        `order`, `eigenvalue` (cluster centre), `radii` (range where the order holds),
        `cluster_size`, `null_order` and `exceeds_null`.

    Raises
    ------
    NonNumericError, NonSquareError, EmptyMatrixError, NonFiniteError
        If `A` is not a finite, non-empty, numeric square matrix.
    TypeError
        If `seed` or `null_samples` is not an integer.
    ValueError
        If `seed` is negative or `null_samples` is smaller than 1.
    ShapeMismatchError
        If `schur_form` is not of the shape of `A`.

    Notes
    -----
    The order is unitarily invariant up to rounding: :math:`\sigma_{\min}(zI - QAQ^*) =
    \sigma_{\min}(zI - A)`, and the clusters come from the eigenvalues. It is measurable only
    above the float64 floor: the computed eigenvalues of a chain of length :math:`k` and
    coupling :math:`\alpha` lie on a ring of radius :math:`(\epsilon\|A\|\alpha^{k-1})^{1/k}`
    (0.012 for :math:`k = 16`, :math:`\alpha = 0.1`, :math:`\|A\| \approx 1`), and the slope
    :math:`k` holds from about 1.5 times that radius up to about :math:`0.6\alpha`. When that range
    is narrower than a factor 2 or overlaps other eigenvalues, the chain is not found and
    `order` reflects the neighbouring structure instead. A tight cluster of several chains on one
    eigenvalue reports the longest of them. When no group of eigenvalues is isolated and the
    whole spectrum is small next to the matrix (radius below :math:`\|A\|_F/32`, as for a bare
    chain), the spectrum is probed as one cluster out to :math:`\|A\|_F`; there the order
    measures how fast the resolvent decays at that coarse scale, which for a strongly
    non-normal matrix with separated eigenvalues can be near 2.

    When all computed eigenvalues are exactly equal (a triangular input such as a pure Jordan
    block :math:`\mu I + J_k`, or ``np.eye(k, k=1)``), no eigenvalue has split into a ring and
    :math:`T = \mu I + N` holds exactly: the order is then the index :math:`m` of the nilpotent
    :math:`N` (:math:`N^m = 0 \ne N^{m-1}`, the size of the largest Jordan block), exact for every
    :math:`k`, found from a few matrix products instead of sampled slopes. `radii` then runs from
    the radius where :math:`\sigma_{\min} \approx r^m/\|N^{m-1}\|` falls below the float64
    floor :math:`10^3\epsilon\|A\|_F` of the sampled orders up to
    :math:`\tfrac12\|N^{m-1}\|/\|N^{m-2}\|`; for long unit chains (:math:`k \gtrsim 40`)
    the floor radius reaches the upper end and the range is empty: the order holds in exact
    arithmetic, but no sampled slope could show it.

    Examples
    --------
    >>> import scipy.linalg
    >>> from spectra.matrices import chain, random_orthogonal
    >>> B = scipy.linalg.block_diag(random_orthogonal(24, seed=1), chain(6, 0.5))
    >>> Q = random_orthogonal(30, seed=2)
    >>> result = chain_order(Q @ B @ Q.T)
    >>> round(result.order), abs(result.eigenvalue) < 1e-6, result.exceeds_null
    (6, True, True)
    >>> round(chain_order(random_orthogonal(30, seed=3)).order, 3)
    1.0
    """
    seed = _check_seed(seed)
    null_samples = check_count(null_samples, "null_samples", minimum=1)
    arr = as_square(A)
    real = arr.dtype.kind != "c"
    if schur_form is None:
        T, _ = _complex_schur(arr)
    elif not isinstance(schur_form, SchurForm):
        raise TypeError(f"schur_form must be a SchurForm, got {type(schur_form).__name__}")
    elif schur_form.T.shape != arr.shape:
        raise ShapeMismatchError(
            f"schur_form has shape {schur_form.T.shape}, but A has shape {arr.shape}"
        )
    else:
        T = np.asarray(schur_form.T, dtype=np.complex128)
    n = T.shape[0]
    found, points = _statistic(T, real, seed)
    nulls = _null_orders(n, not real, seed, null_samples)
    null_order = float(np.nanmax(nulls)) if not np.all(np.isnan(nulls)) else float("nan")
    logger.debug("chain order: %d sigma_min points for A, nulls %s", points, nulls)
    if found is None:
        return ChainOrder(
            order=float("nan"),
            eigenvalue=complex("nan+nanj"),
            radii=(float("nan"), float("nan")),
            cluster_size=0,
            null_order=null_order,
            exceeds_null=False,
        )
    exceeds = bool(np.isfinite(null_order) and found.order > null_order + NULL_MARGIN)
    return ChainOrder(
        order=found.order,
        eigenvalue=found.centre,
        radii=found.radii,
        cluster_size=found.size,
        null_order=null_order,
        exceeds_null=exceeds,
    )
