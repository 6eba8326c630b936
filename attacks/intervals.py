"""Uncertainty of accuracies and curve summaries: Wilson and seeded bootstrap intervals.

* :func:`wilson` -- the 95 % Wilson score interval of a proportion ``k / n`` (good coverage
  at small ``n`` and near 0 or 1, unlike the normal approximation).
* :func:`bootstrap` -- a percentile interval of any statistic of per-sample values,
  resampling samples with a seeded generator, so the same inputs give the same interval.
* :func:`overlapping` -- whether two accuracies are within each other's noise (their
  Wilson intervals overlap): such differences are not significant.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from attacks.errors import AttackInputError

__all__ = ["Z95", "bootstrap", "overlapping", "wilson"]

Z95 = 1.959963984540054
"""Two-sided 95 % standard normal quantile."""


def wilson(successes: float, n: int, *, z: float = Z95) -> tuple[float, float]:
    r"""Wilson score interval of a proportion.

    Parameters
    ----------
    successes : float
        Number of successes ``k`` (an accuracy times ``n`` is accepted).
    n : int
        Number of trials.
    z : float, default 1.96
        Normal quantile (1.96 for 95 %).

    Returns
    -------
    tuple of float
        ``(lo, hi)`` within ``[0, 1]``; ``(0, 1)`` when ``n`` is 0.

    Raises
    ------
    AttackInputError
        When ``n < 0`` or ``successes`` lies outside ``[0, n]``.

    Examples
    --------
    >>> lo, hi = wilson(64, 128)
    >>> round(lo, 3), round(hi, 3)
    (0.415, 0.585)
    >>> wilson(0, 10)[0]
    0.0
    """
    if n < 0 or not -1e-9 * max(n, 1) <= successes <= n * (1 + 1e-9):
        raise AttackInputError(f"expected 0 <= successes <= n, got {successes!r} of {n!r}")
    if n == 0:
        return 0.0, 1.0
    p = min(max(float(successes) / n, 0.0), 1.0)
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    lo, hi = max(0.0, centre - half), min(1.0, centre + half)
    if p == 0.0:
        lo = 0.0
    if p == 1.0:
        hi = 1.0
    return float(lo), float(hi)


def bootstrap(
    values: np.ndarray,
    statistic: Callable[[np.ndarray], float | None],
    *,
    seed: int,
    resamples: int = 1000,
    level: float = 0.95,
    of_means: bool = False,
) -> tuple[float, float] | None:
    """Percentile bootstrap interval of ``statistic`` over resampled rows of ``values``.

    Parameters
    ----------
    values : (B, ...) numpy.ndarray
        Per-sample values; rows are resampled with replacement.
    statistic : callable
        Maps a resampled array to a float, ``inf``, or ``None`` (undefined).
    seed : int
        Seed of the resampling.
    resamples : int, default 1000
        Bootstrap replicates.
    level : float, default 0.95
        Coverage.
    of_means : bool, default False
        Pass ``statistic`` the column means of each resample (``values.shape[1:]``) instead of
        the resampled rows: the means of every replicate are computed at once, and the
        replicates are the same as without it.

    Returns
    -------
    tuple of float or None
        ``(lo, hi)``, which may be infinite; ``None`` when the statistic is undefined in
        more than ``1 - level`` of the replicates or there are no rows.

    Raises
    ------
    AttackInputError
        When ``resamples < 1`` or ``level`` is not in ``(0, 1)``.

    Examples
    --------
    >>> import numpy as np
    >>> lo, hi = bootstrap(np.arange(100.0), np.median, seed=0)
    >>> lo < 49.5 < hi
    True
    >>> bootstrap(np.arange(100.0), np.mean, seed=0) == bootstrap(
    ...     np.arange(100.0), float, seed=0, of_means=True)
    True
    """
    if resamples < 1 or not 0 < level < 1:
        raise AttackInputError(
            f"expected resamples >= 1 and 0 < level < 1, got {resamples!r} and {level!r}"
        )
    values = np.asarray(values)
    n = values.shape[0]
    if n == 0:
        return None
    rng = np.random.default_rng(seed)
    stats = []
    undefined = 0
    if of_means:  # the same draws as one replicate at a time
        samples: Any = values[rng.integers(0, n, (resamples, n))].mean(axis=1)
    else:
        samples = (values[rng.integers(0, n, n)] for _ in range(resamples))
    for sample in samples:
        value = statistic(sample)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            undefined += 1
        else:
            stats.append(float(value))
    if undefined > (1 - level) * resamples or not stats:
        return None
    arr = np.sort(np.asarray(stats + [math.inf] * undefined))
    alpha = (1 - level) / 2
    k_lo = min(len(arr) - 1, math.floor(alpha * len(arr)))
    k_hi = min(len(arr) - 1, max(0, math.ceil((1 - alpha) * len(arr)) - 1))
    return float(arr[k_lo]), float(arr[k_hi])


def overlapping(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Whether two intervals overlap (the difference is not significant).

    Parameters
    ----------
    a, b : tuple of float
        ``(lo, hi)`` intervals.

    Returns
    -------
    bool
        ``True`` when they share a point.

    Examples
    --------
    >>> overlapping((0.1, 0.3), (0.25, 0.5))
    True
    """
    return a[0] <= b[1] and b[0] <= a[1]
