r"""Local order of the resolvent of :math:`\mu I + N`, :math:`N` exactly nilpotent (chain_order)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["nilpotent_order"]

_EPS = float(np.finfo(np.float64).eps)


def nilpotent_order(T: NDArray[np.complex128], floor: float) -> tuple[int, float, float] | None:
    r"""Order of a triangular `T` whose computed eigenvalues all equal one value :math:`\mu`.

    Then :math:`T = \mu I + N` with :math:`N` strictly upper triangular, exactly (no eigenvalue
    has split into a ring: the input was triangular, a pure Jordan block for instance), and
    :math:`(zI - T)^{-1} = \sum_{j<m} N^j/(z - \mu)^{j+1}` with :math:`m` the index of
    :math:`N` (:math:`N^m = 0 \ne N^{m-1}`). For :math:`r = |z - \mu|` below about
    :math:`\|N^{m-1}\|/\|N^{m-2}\|` the last term dominates: the local order is `m`, the size
    of the largest Jordan block, down to :math:`r = 0`. The index comes from about
    :math:`2\log_2 n` products (repeated squaring, then bisection); a power counts as zero below
    the rounding level of its product. Returns ``(m, upper radius, radius of the float64 floor)``
    (the floor radius is where :math:`\sigma_{\min} \approx r^m/\|N^{m-1}\|` falls below the
    floor of sampled orders), or ``None`` when :math:`N = 0`.
    """
    n = T.shape[0]
    N = np.triu(T, 1)
    size = float(np.linalg.norm(N, 2))
    if size == 0.0:
        return None
    N = N / size  # ||N||_2 = 1, so every power has norm at most 1

    def is_zero(P: NDArray[np.complex128], power: int) -> bool:
        return float(np.linalg.norm(P)) <= 4.0 * n * power * _EPS

    powers = [N]  # N^(2^j)
    while not is_zero(powers[-1], 2 ** (len(powers) - 1)) and 2 ** len(powers) <= 2 * n:
        powers.append(powers[-1] @ powers[-1])
    # N^(2^(J-1)) is nonzero and N^(2^J) zero (or 2^J > n): bisect between them
    top = len(powers) - 1
    P, m = powers[top - 1], 2 ** (top - 1)
    for j in range(top - 2, -1, -1):
        Q = P @ powers[j]
        if not is_zero(Q, m + 2**j):
            P, m = Q, m + 2**j
    index = m + 1  # N^m != 0 and N^(m+1) == 0
    last = float(np.linalg.norm(P, 2))  # ||N^(index-1)|| (of the normalised N)
    if index == 2:
        previous = 1.0
    else:
        previous = float(np.linalg.norm(np.linalg.matrix_power(N, index - 2), 2))
    upper = 0.5 * size * last / previous
    lower = size * (floor / size * last) ** (1.0 / index) if last > 0 else 0.0
    return index, upper, min(lower, upper)
