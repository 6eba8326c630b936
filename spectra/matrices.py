r"""Classic test matrices of pseudospectra (EigTool, Trefethen & Embree) and recurrent inits.

All functions return new float64 arrays. Recurrent matrices use the column convention
:math:`h_t = W h_{t-1} + \dots`, so ``W[i, j]`` is the weight from unit ``j`` to unit ``i``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from spectra._arguments import check_count

__all__ = [
    "chain",
    "demmel",
    "fbchain",
    "godunov",
    "grcar",
    "jordan",
    "kahan",
    "limacon",
    "random_orthogonal",
    "triangle",
]


def _real(value: float, name: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, got {value!r}") from None
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return v


def _toeplitz(n: int, diagonals: dict[int, float]) -> NDArray[np.float64]:
    """Banded Toeplitz matrix; key ``k`` is the diagonal offset (positive: above the diagonal)."""
    A = np.zeros((n, n))
    for offset, value in diagonals.items():
        if abs(offset) < n:
            A += value * np.eye(n, k=offset)
    return A


def grcar(n: int, *, k: int = 3) -> NDArray[np.float64]:
    """Return the Grcar matrix: -1 on the subdiagonal, 1 on the diagonal and `k` superdiagonals.

    Its eigenvalues are extremely sensitive and its pseudospectra approach the region enclosed
    by the symbol curve :math:`-z^{-1} + 1 + z + z^2 + z^3` (Grcar 1989; Trefethen & Embree,
    ch. 7; EigTool's ``grcar_demo``).

    Parameters
    ----------
    n : int
        Size, at least 1.
    k : int, optional
        Number of superdiagonals of ones.

    Returns
    -------
    (n, n) ndarray of float64
        The matrix.

    Raises
    ------
    TypeError, ValueError
        If `n` is not an integer >= 1 or `k` not an integer >= 0.

    Examples
    --------
    >>> grcar(4)
    array([[ 1.,  1.,  1.,  1.],
           [-1.,  1.,  1.,  1.],
           [ 0., -1.,  1.,  1.],
           [ 0.,  0., -1.,  1.]])
    """
    n = check_count(n, "n", minimum=1)
    k = check_count(k, "k", minimum=0)
    return _toeplitz(n, {-1: -1.0, **{j: 1.0 for j in range(k + 1)}})


def kahan(n: int) -> NDArray[np.float64]:
    r"""Return the Kahan matrix of EigTool's ``kahan_demo`` (MATLAB ``gallery('kahan', n)``).

    With :math:`s = 0.1^{1/(n-1)}` and :math:`c = \sqrt{1 - s^2}`: upper triangular,
    diagonal :math:`s^{i}` and strictly upper part of row :math:`i` equal to :math:`-c\,s^{i}`
    (rows numbered from 0). Its eigenvalues :math:`s^i` decrease from 1 to 0.1.

    Parameters
    ----------
    n : int
        Size, at least 1 (``kahan(1)`` is ``[[1.0]]``).

    Returns
    -------
    (n, n) ndarray of float64
        The matrix.

    Raises
    ------
    TypeError, ValueError
        If `n` is not an integer >= 1.

    Examples
    --------
    >>> np.diag(kahan(3)).round(4)
    array([1.    , 0.3162, 0.1   ])
    """
    n = check_count(n, "n", minimum=1)
    if n == 1:
        return np.ones((1, 1))
    s = 0.1 ** (1.0 / (n - 1))
    c = np.sqrt(1.0 - s * s)
    scale = s ** np.arange(n)
    return np.triu(np.full((n, n), -c), 1) * scale[:, None] + np.diag(scale)


def jordan(n: int, lam: float = 0.0) -> NDArray[np.float64]:
    r"""Return the Jordan block: `lam` on the diagonal and ones on the superdiagonal.

    Its :math:`\varepsilon`-pseudospectra are disks about `lam`; for :math:`r = |z - \lambda| < 1`,
    :math:`r^n (1 - r)/(1 - r^n) \le \sigma_{\min}(zI - J) \le r^n`.

    Parameters
    ----------
    n : int
        Size, at least 1.
    lam : float, optional
        The eigenvalue.

    Returns
    -------
    (n, n) ndarray of float64
        The matrix.

    Raises
    ------
    TypeError, ValueError
        If `n` is not an integer >= 1 or `lam` not a finite real number.

    Examples
    --------
    >>> jordan(3, 0.5)
    array([[0.5, 1. , 0. ],
           [0. , 0.5, 1. ],
           [0. , 0. , 0.5]])
    """
    n = check_count(n, "n", minimum=1)
    return _toeplitz(n, {0: _real(lam, "lam"), 1: 1.0})


def chain(n: int, alpha: float = 1.0) -> NDArray[np.float64]:
    r"""Return the feed-forward chain :math:`W_{ij} = \alpha\,\delta_{j,i-1}` (Orhan & Pitkow 2020).

    `alpha` sits on the subdiagonal: in the column convention unit :math:`i-1` drives unit
    :math:`i`, so a pulse entering unit 0 travels down the chain and leaves after `n` steps
    (:math:`W^n = 0`).

    Parameters
    ----------
    n : int
        Number of units, at least 1.
    alpha : float, optional
        Weight of each link.

    Returns
    -------
    (n, n) ndarray of float64
        The nilpotent matrix.

    Raises
    ------
    TypeError, ValueError
        If `n` is not an integer >= 1 or `alpha` not a finite real number.

    Examples
    --------
    >>> W = chain(3, alpha=2.0)
    >>> W @ np.array([1.0, 0.0, 0.0])  # unit 0 drives unit 1
    array([0., 2., 0.])
    """
    n = check_count(n, "n", minimum=1)
    return _toeplitz(n, {-1: _real(alpha, "alpha")})


def fbchain(n: int, alpha: float = 1.0, beta: float = 0.05) -> NDArray[np.float64]:
    r"""Return the chain with feedback: `alpha` on the subdiagonal, `beta` on the superdiagonal.

    :math:`W_{ij} = \alpha\,\delta_{j,i-1} + \beta\,\delta_{j,i+1}` (Orhan & Pitkow 2020 use
    :math:`\alpha = 0.99`). Its eigenvalues are :math:`2\sqrt{\alpha\beta}\cos(k\pi/(n+1))`.

    Parameters
    ----------
    n : int
        Number of units, at least 1.
    alpha : float, optional
        Forward weight (unit :math:`i-1` to unit :math:`i`).
    beta : float, optional
        Feedback weight (unit :math:`i+1` to unit :math:`i`).

    Returns
    -------
    (n, n) ndarray of float64
        The tridiagonal matrix.

    Raises
    ------
    TypeError, ValueError
        If `n` is not an integer >= 1 or a weight is not a finite real number.

    Examples
    --------
    >>> fbchain(3, 0.99, 0.05)
    array([[0.  , 0.05, 0.  ],
           [0.99, 0.  , 0.05],
           [0.  , 0.99, 0.  ]])
    """
    n = check_count(n, "n", minimum=1)
    return _toeplitz(n, {-1: _real(alpha, "alpha"), 1: _real(beta, "beta")})


def random_orthogonal(n: int, seed: int | None = 0) -> NDArray[np.float64]:
    """Return a Haar-distributed random orthogonal matrix.

    QR factorisation of a standard Gaussian matrix, with the signs of ``diag(R)`` moved into
    ``Q`` so that the distribution is exactly Haar (Mezzadri 2007); both determinants occur.

    Parameters
    ----------
    n : int
        Size, at least 1.
    seed : int or None, optional
        Seed of :func:`numpy.random.default_rng`.

    Returns
    -------
    (n, n) ndarray of float64
        Orthogonal matrix.

    Raises
    ------
    TypeError, ValueError
        If `n` is not an integer >= 1.

    Examples
    --------
    >>> Q = random_orthogonal(4, seed=3)
    >>> np.allclose(Q.T @ Q, np.eye(4))
    True
    """
    n = check_count(n, "n", minimum=1)
    rng = np.random.default_rng(seed)
    Q, R = np.linalg.qr(rng.standard_normal((n, n)))
    signs = np.sign(np.diag(R))
    signs[signs == 0] = 1.0
    return Q * signs


def limacon(n: int) -> NDArray[np.float64]:
    r"""Return the Toeplitz "limaçon": ones on superdiagonals 1 and 2 (symbol :math:`z + z^2`).

    All eigenvalues are 0, while the pseudospectra fill the limaçon curve
    :math:`\{e^{i\theta} + e^{2i\theta}\}` (Trefethen & Embree, ch. 7).

    Parameters
    ----------
    n : int
        Size, at least 1.

    Returns
    -------
    (n, n) ndarray of float64
        The matrix.

    Raises
    ------
    TypeError, ValueError
        If `n` is not an integer >= 1.

    Examples
    --------
    >>> limacon(4)
    array([[0., 1., 1., 0.],
           [0., 0., 1., 1.],
           [0., 0., 0., 1.],
           [0., 0., 0., 0.]])
    """
    n = check_count(n, "n", minimum=1)
    return _toeplitz(n, {1: 1.0, 2: 1.0})


def triangle(n: int) -> NDArray[np.float64]:
    r"""Return the Toeplitz "triangle": 1 on the subdiagonal and 1/4 on superdiagonal 2.

    Symbol :math:`z^{-1} + z^2/4`; the pseudospectra fill a three-cusped curve
    (Trefethen & Embree, ch. 7).

    Parameters
    ----------
    n : int
        Size, at least 1.

    Returns
    -------
    (n, n) ndarray of float64
        The matrix.

    Raises
    ------
    TypeError, ValueError
        If `n` is not an integer >= 1.

    Examples
    --------
    >>> triangle(3)
    array([[0.  , 0.  , 0.25],
           [1.  , 0.  , 0.  ],
           [0.  , 1.  , 0.  ]])
    """
    n = check_count(n, "n", minimum=1)
    return _toeplitz(n, {-1: 1.0, 2: 0.25})


def godunov() -> NDArray[np.float64]:
    r"""Return Godunov's 7 x 7 integer matrix (EigTool's ``godunov_demo``).

    Its exact eigenvalues are -4, -2, -1, 0, 1, 2, 4, yet float64 ``eig`` returns values of
    modulus about 7: they are so ill-conditioned that rounding errors of size
    :math:`10^{-16}\|A\|` move them by O(1) (Godunov 1998).

    Returns
    -------
    (7, 7) ndarray of float64
        The matrix.

    Examples
    --------
    >>> int(np.trace(godunov()))  # = -4 - 2 - 1 + 0 + 1 + 2 + 4
    0
    """
    return np.array(
        [
            [289, 2064, 336, 128, 80, 32, 16],
            [1152, 30, 1312, 512, 288, 128, 32],
            [-29, -2000, 756, 384, 1008, 224, 48],
            [512, 128, 640, 0, 640, 512, 128],
            [1053, 2256, -504, -384, -756, 800, 208],
            [-287, -16, 1712, -128, 1968, -30, 2032],
            [-2176, -287, -1565, -512, -541, -1152, -289],
        ],
        dtype=np.float64,
    )


def demmel(n: int) -> NDArray[np.float64]:
    r"""Return Demmel's matrix :math:`-\mathrm{toeplitz}(e_1, [1, B, B^2, \dots, B^{n-1}])`.

    With :math:`B = 10^{4/(n-1)}`: upper triangular, every eigenvalue -1 and resolvent norms
    astronomically large (Demmel 1987; EigTool's ``demmel_demo``).

    Parameters
    ----------
    n : int
        Size, at least 1 (``demmel(1)`` is ``[[-1.0]]``).

    Returns
    -------
    (n, n) ndarray of float64
        The matrix.

    Raises
    ------
    TypeError, ValueError
        If `n` is not an integer >= 1.

    Examples
    --------
    >>> demmel(3).astype(int)
    array([[    -1,   -100, -10000],
           [     0,     -1,   -100],
           [     0,      0,     -1]])
    """
    n = check_count(n, "n", minimum=1)
    if n == 1:
        return -np.ones((1, 1))
    B = 10.0 ** (4.0 / (n - 1))
    i, j = np.indices((n, n))
    return np.where(j >= i, -(B ** (j - i).astype(float)), 0.0)
