r"""The certified :math:`\varepsilon`-pseudospectral radius.

:math:`\rho_\varepsilon(A) = \max\{|z| : \sigma_{\min}(zI - A) \le \varepsilon\}`. The search
returns two numbers: a *witness* :math:`z` with :math:`\sigma_{\min}(zI - A) \le
\varepsilon(1 + \mathrm{tol})` found by a local search (its modulus can only be below the true
radius), and a *certified upper bound*, proved by one of

* the comparison-matrix bound: for :math:`|z| \ge U > \rho(A)`,
  :math:`\|(zI - T)^{-1}\|_2 \le \|((U - \rho)I - |N|)^{-1}\|_2` entrywise (:math:`T = D + N`
  the Schur factor), exact for normal matrices and for Jordan blocks :math:`\lambda I + J`;
* a cover of one circle :math:`|z| = U` by arcs on which :math:`\sigma_{\min} > \varepsilon`
  (:math:`\sigma_{\min}` is 1-Lipschitz in :math:`z`). Every connected component of the
  pseudospectrum contains an eigenvalue, so a component reaching beyond :math:`U` must cross
  that circle: no crossing means :math:`\rho_\varepsilon(A) < U`. A point of the circle found
  inside the pseudospectrum becomes the new witness and the search goes on from it (that is how
  an outer component missed by the local search is found);
* :math:`\|A\|_2 + \varepsilon`, always.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from spectra._radius_result import PseudospectralRadii, PseudospectralRadius
from spectra._radius_search import Search
from spectra._resolvent import check_seed, prepare
from spectra._validation import check_positive

__all__ = ["PseudospectralRadii", "PseudospectralRadius", "pseudospectral_radius"]


def _eps_values(eps: float | ArrayLike) -> tuple[bool, list[float]]:
    if isinstance(eps, numbers.Real) and not isinstance(eps, bool | np.bool_):
        return True, [check_positive(eps, "eps")]
    try:
        arr = np.asarray(eps)
    except (TypeError, ValueError):
        raise TypeError(
            f"eps must be a positive number or a sequence of them, got {eps!r}"
        ) from None
    if arr.ndim == 0 and arr.dtype.kind in "iuf":
        return True, [check_positive(arr.item(), "eps")]
    if arr.ndim != 1 or arr.size == 0 or arr.dtype.kind not in "iuf":
        raise TypeError(f"eps must be a positive number or a 1-D sequence of them, got {eps!r}")
    return False, [check_positive(v, "eps") for v in arr.tolist()]


def _check_open(value: float, name: str, upper: float) -> float:
    out = check_positive(value, name)
    if out >= upper:
        raise ValueError(f"{name} must be a number in (0, {upper:g}), got {value!r}")
    return out


def pseudospectral_radius(
    A: ArrayLike,
    eps: float | ArrayLike,
    *,
    tol: float = 1e-8,
    certify_tol: float = 1e-3,
    seed: int = 0,
    schur: Any = None,
) -> PseudospectralRadius | PseudospectralRadii:
    r"""Return the certified :math:`\varepsilon`-pseudospectral radius :math:`\rho_\varepsilon(A)`.

    :math:`\rho_\varepsilon(A) = \max\{|z| : \sigma_{\min}(zI - A) \le \varepsilon\}`, the
    largest modulus of an eigenvalue of :math:`A + E` over :math:`\|E\|_2 \le \varepsilon`. It
    satisfies :math:`\rho(A) + \varepsilon \le \rho_\varepsilon(A) \le \|A\|_2 +
    \varepsilon`, with equality on the left for normal matrices. The discrete-time Kreiss
    constant is :math:`\sup_\varepsilon (\rho_\varepsilon(A) - 1)/\varepsilon`.

    Parameters
    ----------
    A : (N, N) array_like
        Real or complex square matrix; integers are cast to float64.
    eps : float or (k,) array_like of float
        Perturbation sizes, each positive and finite.
    tol : float, optional
        Relative accuracy of the local search, in (0, 0.1): the witness has
        :math:`\sigma_{\min} \le \varepsilon(1 + \mathrm{tol})` and is a local maximiser of
        :math:`|z|` to relative accuracy `tol`.
    certify_tol : float, optional
        Relative gap, in (0, 0.1), between `value` and `upper` that counts as certified.
    seed : int, optional
        Seed of the Lanczos start vector.
    schur : SchurForm, optional
        :func:`spectra.schur` of `A`, to reuse its factor instead of computing a new one.

    Returns
    -------
    PseudospectralRadius or PseudospectralRadii
        For a scalar `eps`, a float subclass equal to `value` with the attributes `upper`,
        `witness`, `certified`, `method` and `eps`; for a sequence, a tuple of them
        (``numpy.asarray`` gives the values).

    Raises
    ------
    NonNumericError, NonSquareError, EmptyMatrixError, NonFiniteError
        If `A` is not a finite, non-empty, numeric square matrix, or `schur` does not match it.
    TypeError
        If `eps` is not a number or a 1-D sequence of numbers, or `seed` is not an integer.
    ValueError
        If an entry of `eps` is not positive and finite, or `tol` or `certify_tol` is not in
        (0, 0.1).

    Notes
    -----
    The witness starts at :math:`\lambda + \varepsilon\lambda/|\lambda|` for the eigenvalue of
    largest modulus (inside by :math:`\sigma_{\min} \le |z - \lambda|`) and moves outward along
    its ray to the level :math:`\sigma_{\min} = \varepsilon` (safeguarded regula falsi in
    :math:`\log r`), then along the level by a search in angle. The upper bound comes from the
    certificates listed in :mod:`spectra.radius`; all singular values are computed in batches
    by inverse Lanczos on the Schur factor. The margins include the rounding level
    :math:`\delta = 4 N \epsilon_{\text{mach}} \|A\|_F` of the Schur factor: for
    :math:`\varepsilon \lesssim \delta/\mathrm{certify\_tol}` float64 cannot resolve the
    pseudospectrum and the result says ``certified=False``. Where :math:`\sigma_{\min}` is
    very flat along the boundary (strongly non-normal matrices at small :math:`\varepsilon`)
    the circle cover needs too many points; unless the comparison bound applies (Jordan-like
    structure) `upper` is then looser and `certified` false.

    Examples
    --------
    >>> r = pseudospectral_radius([[0.5, 0.0], [0.0, -0.25]], 0.1)  # normal: rho + eps
    >>> round(r, 6), r.certified
    (0.6, True)
    >>> r = pseudospectral_radius(np.eye(10, k=1), 1e-12)  # Jordan block: a disk
    >>> round(r.value, 4), r.upper >= r.value, r.certified  # eps near the rounding level
    (0.0631, True, False)
    """
    tol = _check_open(tol, "tol", 0.1)
    certify_tol = _check_open(certify_tol, "certify_tol", 0.1)
    seed = check_seed(seed)
    scalar, values = _eps_values(eps)
    prep = prepare(A, schur)
    results = Search(prep, tol=tol, certify_tol=certify_tol, seed=seed).run(values)
    return results[0] if scalar else PseudospectralRadii(results)
