r"""How many steps :func:`spectra.lyapunov` pushes a frame through between two QR factorisations.

Re-orthonormalising every ``m`` steps factors the product :math:`A = J_{t+m} \cdots J_{t+1}
Q_t = Q R` instead of every step. Which upper-triangular :math:`R` normalises the frame does
not matter in exact arithmetic: the next frame is :math:`F = A R^{-1}`, and the diagonals of
the successive ``R`` multiply to that of the QR factor of the whole product (whatever
skew :math:`F` has, it is triangular, :math:`F = Q T`, and is carried into the next factor).
What a run costs in accuracy is rounding in the products: every column of the product
leans towards the fastest direction, so the part of column :math:`j` that the later columns
do not explain is known only to :math:`\varepsilon\, \kappa(R)` of its size, with
:math:`\kappa(A) = \kappa(R) \approx e^{m (\lambda_1 - \lambda_k)}`. That is a perturbation of
the frame, from which the QR iteration recovers at the rate of the gaps between the
exponents; its effect on an exponent is a transient averaged over the ``T`` steps.

A run is accepted only if LAPACK's estimate of :math:`\kappa_1(R)` stays below
:data:`GROWTH_LIMIT` (``1e10``) for every sequence of the batch; the 1-norm condition number
of a ``k x k`` triangular matrix is at least the 2-norm one (the one that measures the
rounding), so the limit is conservative by up to a factor ``k``. A run over the limit is
redone step by step from the frame it started with. On an ``S = 128`` tanh network over 1000
steps (batch of 32, exponents spread over 4.3 nats per step) the limit takes 524
factorisations and the exponents agree with QR at every step to ``2e-12`` (each sequence to
``4e-11``), while their standard errors across the batch are ``7e-4`` to ``9e-3``. The
difference grows in proportion to the limit (over 300 steps of that network: ``3e-13`` at
``1e10``, ``4e-12`` at ``1e12``, ``3e-9`` at ``1e14``, ``4e-7`` at ``1e16``), and with the
spread of the exponents: steps with singular values spread over 6 nats, ``S = 64``, gave
``9e-9`` per sequence at ``1e10`` and ``4e-7`` at ``64 x 1e10``, which is why the limit does
not grow with ``k``. Run lengths grow one step at a time while the
condition number extrapolated from the last two lengths stays below the limit.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

GROWTH_LIMIT = 1e10  # a run's kappa_1(R) may reach GROWTH_LIMIT (see above)
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
        self._log_limit = math.log(GROWTH_LIMIT)
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
        ok = growth <= self._log_limit  # False for NaN and inf (a singular or overflowing run)
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
        if longer <= self._log_limit:
            self.length = min(self._ceiling, n + 1)
        else:
            self.length = min(self._ceiling, n)
        return True
