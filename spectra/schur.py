r"""Complex Schur form and the feed-forward chains hidden in its strictly upper part.

Every square matrix is unitarily similar to an upper triangular one,
:math:`A = Z T Z^*` with :math:`T = \Lambda + N`: :math:`\Lambda` holds the eigenvalues (the
normal part) and the strictly upper triangular :math:`N` the feed-forward couplings between
Schur modes (Goldman 2009; Ganguli et al. 2008; Kerg et al. 2019). Because
:math:`A z_j = \sum_{i \le j} T_{ij} z_i`, mode :math:`j` drives mode :math:`i < j` with
strength :math:`N_{ij}`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.linalg
from numpy.typing import ArrayLike, NDArray

from spectra._arguments import check_fraction
from spectra._resolvent import shared_factor
from spectra._serialize import jsonable
from spectra._validation import as_square

__all__ = ["ChainReport", "SchurForm", "chains", "schur"]

logger = logging.getLogger(__name__)

#: Couplings below ``_ROUNDOFF * n * eps * ||A||_F`` are rounding noise of the Schur form.
_ROUNDOFF = 64.0


def _readonly(a: NDArray[Any]) -> NDArray[Any]:
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


def _power_of_two_scale(X: NDArray[Any], k: int) -> NDArray[Any]:
    """Return ``X * 2**k`` exactly (up to underflow), also when ``2**k`` itself would overflow."""
    V = np.ascontiguousarray(X)
    if V.dtype.kind == "c":
        out = np.ldexp(V.view(np.float64), k).view(np.complex128)
        return out.reshape(V.shape)
    return np.ldexp(V.astype(np.float64, copy=False), k)


def _exponent(X: NDArray[Any]) -> int:
    """Binary exponent ``e`` with ``max |X_ij| / 2**e`` in [0.5, 1), 0 for a zero matrix."""
    V = np.ascontiguousarray(X)
    V = V.view(np.float64) if V.dtype.kind == "c" else V
    top = float(np.abs(V).max())
    return int(np.frexp(top)[1]) if top > 0.0 else 0


def _complex_schur(A: NDArray[Any]) -> tuple[NDArray[np.complex128], NDArray[np.complex128]]:
    r"""Return ``(T, Z)`` of the complex Schur form of a checked square matrix.

    A real matrix goes through the real Schur form and :func:`scipy.linalg.rsf2csf`, which is
    about twice as fast as complex arithmetic and keeps real eigenvalues exactly real. The
    matrix is first scaled by the power of two that brings its largest entry into [0.5, 1),
    and `T` is scaled back afterwards: both steps are exact, and they keep the reduction (and
    :func:`~scipy.linalg.rsf2csf` in particular, which breaks down for entries beyond about
    :math:`10^{\pm 140}`) away from overflow and underflow.
    """
    e = _exponent(A)
    scaled = _power_of_two_scale(A, -e) if e else A
    if scaled.dtype.kind == "c":
        T, Z = scipy.linalg.schur(scaled, output="complex", check_finite=False)
    else:
        T, Z = scipy.linalg.schur(scaled, output="real", check_finite=False)
        T, Z = scipy.linalg.rsf2csf(T, Z, check_finite=False)
    T = np.triu(T).astype(np.complex128, copy=False)
    if e:
        T = _power_of_two_scale(T, e)
    return T, Z.astype(np.complex128, copy=False)


def _frobenius(X: NDArray[Any]) -> float:
    """Return the Frobenius norm of `X` without overflow or underflow of the squared entries."""
    V = np.ascontiguousarray(X)
    V = V.view(np.float64) if V.dtype.kind == "c" else V.astype(np.float64, copy=False)
    top = float(np.abs(V).max())
    if top == 0.0:
        return 0.0
    _, e = np.frexp(top)  # scale by an exact power of two
    return float(np.ldexp(np.linalg.norm(np.ldexp(V, -e)), e))


def _roundoff_level(T: NDArray[np.complex128], frobenius: float) -> float:
    """Return the size below which a strictly upper entry of ``T`` is rounding noise."""
    n = T.shape[0]
    return _ROUNDOFF * n * np.finfo(np.float64).eps * frobenius


@dataclass(frozen=True, eq=False)
class SchurForm:
    r"""Complex Schur form :math:`A = Z T Z^*` with :math:`T = \Lambda + N`.

    Attributes
    ----------
    T : (N, N) ndarray of complex
        Upper triangular Schur factor.
    Z : (N, N) ndarray of complex
        Unitary Schur basis; column :math:`j` is Schur mode :math:`j`.
    eigenvalues : (N,) ndarray of complex
        Diagonal of `T`, in the order of the Schur modes.
    normal_part : (N, N) ndarray of complex
        :math:`\Lambda`, the diagonal part of `T`.
    nonnormal_part : (N, N) ndarray of complex
        :math:`N`, the strictly upper triangular part of `T`; its Frobenius norm is Henrici's
        departure from normality.

    Examples
    --------
    >>> sf = schur([[0.0, 1.0], [0.0, 0.0]])
    >>> float(np.linalg.norm(sf.nonnormal_part))
    1.0
    """

    T: NDArray[np.complex128]
    Z: NDArray[np.complex128]
    eigenvalues: NDArray[np.complex128]
    normal_part: NDArray[np.complex128]
    nonnormal_part: NDArray[np.complex128]

    def to_dict(self) -> dict[str, Any]:
        """Return the factors as JSON-ready lists (complex entries as ``[re, im]`` pairs).

        Returns
        -------
        dict
            Keys ``T``, ``Z``, ``eigenvalues``, ``normal_part`` and ``nonnormal_part``.

        Examples
        --------
        >>> schur([[2.0]]).to_dict()["eigenvalues"]
        [[2.0, 0.0]]
        """
        return {
            "T": jsonable(self.T),
            "Z": jsonable(self.Z),
            "eigenvalues": jsonable(self.eigenvalues),
            "normal_part": jsonable(self.normal_part),
            "nonnormal_part": jsonable(self.nonnormal_part),
        }


@dataclass(frozen=True, eq=False)
class ChainReport:
    r"""Longest feed-forward chain among the Schur modes of a matrix.

    Attributes
    ----------
    length : int
        Number of Schur modes on the longest chain (1 when no coupling passes the threshold,
        e.g. for a normal matrix).
    path : tuple of int
        Indices of those modes in increasing order, so that mode ``path[k + 1]`` drives mode
        ``path[k]`` through the entry ``T[path[k], path[k + 1]]``; the signal enters at
        ``path[-1]`` and leaves at ``path[0]``.
    nonnormal_fraction : float
        Relative Henrici departure :math:`\|N\|_F / \|A\|_F` in [0, 1].
    threshold : float
        Relative threshold that defined the edges of the chain graph.

    Examples
    --------
    >>> from spectra.matrices import chain
    >>> report = chains(chain(3))
    >>> report.length, report.path
    (3, (0, 1, 2))
    """

    length: int
    path: tuple[int, ...]
    nonnormal_fraction: float
    threshold: float = field(default=0.1)

    def to_dict(self) -> dict[str, Any]:
        """Return the report as a JSON-ready dict.

        Returns
        -------
        dict
            Keys ``length``, ``path``, ``nonnormal_fraction`` and ``threshold``.

        Examples
        --------
        >>> chains(np.eye(2)).to_dict()["length"]
        1
        """
        return {
            "length": int(self.length),
            "path": [int(i) for i in self.path],
            "nonnormal_fraction": float(self.nonnormal_fraction),
            "threshold": float(self.threshold),
        }


def schur(A: ArrayLike) -> SchurForm:
    r"""Compute the complex Schur form :math:`A = Z T Z^*` and split `T` into its two parts.

    Parameters
    ----------
    A : (N, N) array_like
        Real or complex square matrix; integers are cast to float64.

    Returns
    -------
    SchurForm
        Frozen result with read-only arrays: `T`, `Z`, `eigenvalues`, `normal_part` and
        `nonnormal_part` (:math:`T = \Lambda + N`).

    Raises
    ------
    NonNumericError
        If `A` is not numeric.
    NonSquareError
        If `A` is not a square 2-D array.
    EmptyMatrixError
        If `A` is 0 x 0.
    NonFiniteError
        If `A` has NaN or infinite entries.

    See Also
    --------
    scipy.linalg.schur : The underlying LAPACK decomposition.
    chains : Longest feed-forward chain in the strictly upper part.

    Examples
    --------
    >>> sf = schur([[0.0, -1.0], [1.0, 0.0]])
    >>> np.allclose(sf.Z @ sf.T @ sf.Z.conj().T, [[0, -1], [1, 0]])
    True
    >>> sorted(sf.eigenvalues.imag.round(12).tolist())
    [-1.0, 1.0]
    """
    arr = as_square(A)
    T, Z = _complex_schur(arr)
    eigenvalues = np.diag(T).copy()
    return SchurForm(
        T=_readonly(T),
        Z=_readonly(Z),
        eigenvalues=_readonly(eigenvalues),
        normal_part=_readonly(np.diag(eigenvalues)),
        nonnormal_part=_readonly(np.triu(T, 1)),
    )


def _longest_path(
    weights: NDArray[np.float64], edges: NDArray[np.bool_]
) -> tuple[int, tuple[int, ...]]:
    """Return the longest path of the DAG ``i -> j`` (``i < j``) given by ``edges``.

    Ties in length are broken by the largest sum of ``log(weights)`` along the path (the
    strongest product of couplings), then by the smallest indices.
    """
    n = edges.shape[0]
    length = np.ones(n, dtype=np.int64)
    strength = np.zeros(n)
    previous = np.full(n, -1, dtype=np.int64)
    logw = np.where(edges, np.log(np.where(edges, weights, 1.0)), -np.inf)
    for j in range(1, n):
        sources = np.flatnonzero(edges[:j, j])
        if sources.size == 0:
            continue
        cand_len = length[sources] + 1
        cand_str = strength[sources] + logw[sources, j]
        best = np.lexsort((-cand_str, -cand_len))[0]
        length[j] = cand_len[best]
        strength[j] = cand_str[best]
        previous[j] = sources[best]
    end = int(np.lexsort((-strength, -length))[0])
    path = [end]
    while previous[path[-1]] >= 0:
        path.append(int(previous[path[-1]]))
    return int(length[end]), tuple(reversed(path))


def chains(
    A: ArrayLike, *, threshold: float = 0.1, rtol: float = 1e-5, schur: SchurForm | None = None
) -> ChainReport:
    r"""Find the longest feed-forward chain among the Schur modes of `A`.

    Build the directed graph on the Schur modes with an edge :math:`i \to j` (:math:`i < j`,
    mode :math:`j` drives mode :math:`i`) for every strictly upper entry of the complex Schur
    factor with :math:`|N_{ij}| \ge` `threshold` :math:`\cdot \max |N|`. The graph is acyclic
    (edges only go up the triangle), so its longest path follows from one dynamic-programming
    sweep; ties go to the path with the largest product of couplings :math:`\prod |N_{ij}|`.
    Couplings below `rtol` :math:`\cdot \|A\|_F` or at the rounding level of the Schur form
    (:math:`64\, n\, \epsilon \|A\|_F`) are not edges, so a normal matrix has no chain
    (`length` 1), also when it is only normal to the precision of its stored weights (an
    orthogonal matrix kept in float32 has couplings of about :math:`10^{-7} \|A\|_F`).

    Parameters
    ----------
    A : (N, N) array_like
        Real or complex square matrix; integers are cast to float64.
    threshold : float, optional
        Relative coupling strength, in (0, 1], that counts as an edge.
    rtol : float, optional
        Couplings below ``rtol * ||A||_F`` are noise, not edges; non-negative.
    schur : SchurForm, optional
        :func:`schur` of `A`, reused instead of a new decomposition.

    Returns
    -------
    ChainReport
        `length` (number of modes on the chain), `path` (their Schur indices, increasing) and
        `nonnormal_fraction` (:math:`\|N\|_F / \|A\|_F`, 0 for the zero matrix).

    Raises
    ------
    NonNumericError, NonSquareError, EmptyMatrixError, NonFiniteError
        If `A` is not a finite, non-empty, numeric square matrix.
    ValueError
        If `threshold` is not in (0, 1] or `rtol` is negative.

    Notes
    -----
    A single hidden chain :math:`Q\,C\,Q^T` (``C = matrices.chain(n)``, any orthogonal
    :math:`Q`) has a unique Schur basis up to phases, :math:`T \approx` the shifted chain, and
    the result is ``length == n``, also next to a normal block (``block_diag(R, C)`` in a random
    basis) or with a diagonal shift (:math:`\lambda I + C`). When *several* Jordan blocks share one
    eigenvalue (two separate chains, or a chain plus silent units), the Schur basis of that
    eigenvalue is not unique, the computed one mixes the blocks, and the length can exceed the
    longest block (it stays at most the multiplicity of the eigenvalue). The length depends on the
    Schur basis, not only on :math:`A`, for any matrix with a dense strictly upper part, e.g. a
    random Gaussian matrix.

    Examples
    --------
    >>> from spectra.matrices import chain, random_orthogonal
    >>> Q = random_orthogonal(6, seed=1)
    >>> chains(Q @ chain(6) @ Q.T).length
    6
    >>> chains(Q).length
    1
    """
    arr = as_square(A)
    threshold = check_fraction(threshold, "threshold")
    rtol = float(rtol)
    if not (np.isfinite(rtol) and rtol >= 0):
        raise ValueError(f"rtol must be a non-negative number, got {rtol!r}")
    T = _complex_schur(arr)[0] if schur is None else shared_factor(schur, arr.shape)
    N = np.triu(T, 1)
    frob = _frobenius(arr)
    fraction = _frobenius(N) / frob if frob > 0 else 0.0
    magnitude = np.abs(N)
    largest = float(magnitude.max())
    floor = max(_roundoff_level(T, frob), rtol * frob)
    if largest <= floor:
        return ChainReport(length=1, path=(0,), nonnormal_fraction=fraction, threshold=threshold)
    edges = magnitude >= max(threshold * largest, floor)
    length, path = _longest_path(magnitude, edges)
    logger.debug("chain of %d Schur modes (threshold %g)", length, threshold)
    return ChainReport(length=length, path=path, nonnormal_fraction=fraction, threshold=threshold)
