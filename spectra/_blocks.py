r"""How many steps :func:`spectra.lyapunov` pushes a frame through between two QR factorisations.

Re-orthonormalising every ``m`` steps factors the product :math:`A = J_{t+m} \cdots J_{t+1}
Q_t = Q R` instead of every step. The relative accuracy of the small :math:`R_{jj}` (and the
orthogonality of :math:`Q = A R^{-1}`) degrades with the condition number
:math:`\kappa(A) = \kappa(R)`, which grows like :math:`e^{m (\lambda_1 - \lambda_k)}` with the
spread of the exponents (every column of the product leans towards the fastest direction).
A run is accepted only if LAPACK's estimate of :math:`\kappa_1(R)` stays below
:data:`GROWTH_LIMIT` (``1e10``: Householder QR is backward stable, so the small
:math:`R_{jj}` keep at least 6 of their 16 digits, and in practice far more); otherwise it is
redone step by step from the frame it started with. Run lengths grow one step at a time while
the condition number extrapolated from the last two lengths stays below the limit.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

GROWTH_LIMIT = 1e10
_LOG_LIMIT = math.log(GROWTH_LIMIT)
_HOLD = 16  # runs before a length that had to be redone is tried again
MAX_BLOCK = 16  # longest block of ``every="auto"`` (the Jacobians of a block are kept for a redo)


def check_every(every: Any) -> int:
    """Return the longest block allowed by ``every`` (1, an integer, or ``"auto"``), or raise."""
    if isinstance(every, str) and every == "auto":
        return MAX_BLOCK
    if isinstance(every, bool) or not isinstance(every, int | np.integer) or every < 1:
        raise ValueError(f"every must be a positive integer or 'auto', got {every!r}")
    return int(every)


class Schedule:
    """Lengths of the blocks of steps between re-orthonormalisations.

    Parameters
    ----------
    longest : int
        Largest block length (1: every step).

    Attributes
    ----------
    length : int
        Length of the next block (starts at 1: nothing is known of the growth yet).
    factorisations : int
        QR factorisations of the frames so far (one per block, one per step of a redone block).
    redone : int
        Blocks whose growth exceeded the limit and were redone step by step.
    """

    def __init__(self, longest: int) -> None:
        self.longest = longest
        self.length = 1
        self.factorisations = 0
        self.redone = 0
        self._seen: dict[int, float] = {0: 0.0}  # run length -> log condition number last seen
        self._ceiling = longest  # lowered for a while after a run had to be redone
        self._hold = 0

    def accept(self, condition: NDArray[np.float64] | None, n: int) -> bool:
        """Record an ``n``-step run's conditioning; return whether it is accurate enough to keep.

        ``condition`` ``(B,)`` is the condition number of each run's ``R`` (``inf`` where it is
        singular); ``None`` when every run is one step. The next run is one step longer when
        the log condition number last seen at that length, or else extrapolated from the last
        two lengths, :math:`g_n + (g_n - g_{n-1})`, stays below the limit; as long otherwise,
        and one step shorter after a run that had to be redone (whose length is then not tried
        again for the next 16 runs).
        """
        self.factorisations += 1
        if self.longest == 1 or condition is None:
            return True
        with np.errstate(divide="ignore", invalid="ignore"):
            growth = float(np.log(np.max(condition)))
        ok = growth <= _LOG_LIMIT  # False for NaN and inf (a singular or overflowing run)
        if not ok:
            self._seen.pop(n, None)
            self.length = max(1, n - 1)
            if n > 1:
                self.redone += 1
                self._ceiling, self._hold = n - 1, _HOLD
                return False
            return True
        self._seen[n] = growth
        if self._hold > 0:
            self._hold -= 1
        else:
            self._ceiling = self.longest
        previous = self._seen.get(n - 1, 0.0)
        longer = self._seen.get(n + 1, growth + max(growth - previous, 0.0))
        if longer <= _LOG_LIMIT:
            self.length = min(self._ceiling, n + 1)
        else:
            self.length = min(self._ceiling, n)
        return True
