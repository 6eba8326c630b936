r"""Maps from unconstrained matrices to orthogonal ones.

The skew-symmetric matrix is built from the strict upper triangle of an unconstrained square
matrix, :math:`A = \operatorname{triu}(X, 1) - \operatorname{triu}(X, 1)^T`; the orthogonal
matrix is its Cayley transform :math:`(I + A)^{-1}(I - A)` or its exponential :math:`e^A`.
"""

from __future__ import annotations

import math

import torch
from torch.autograd.function import once_differentiable

__all__ = ["cayley", "expm", "expm_skew", "rotation_blocks", "skew"]


def skew(X: torch.Tensor) -> torch.Tensor:
    r"""Skew-symmetric matrix from the strict upper triangle of ``X``.

    Parameters
    ----------
    X : (N, N) torch.Tensor
        Unconstrained matrix; its diagonal and lower triangle are ignored.

    Returns
    -------
    (N, N) torch.Tensor
        :math:`\operatorname{triu}(X, 1) - \operatorname{triu}(X, 1)^T`.

    Examples
    --------
    >>> import torch
    >>> A = skew(torch.ones(3, 3))
    >>> bool(torch.equal(A, -A.T))
    True
    """
    upper = torch.triu(X, diagonal=1)
    return upper - upper.T


def cayley(A: torch.Tensor, D: torch.Tensor | None = None) -> torch.Tensor:
    r"""Cayley transform :math:`(I + A)^{-1}(I - A) D` of a skew-symmetric matrix.

    Parameters
    ----------
    A : (N, N) torch.Tensor
        Skew-symmetric matrix.
    D : (N,) torch.Tensor, optional
        Diagonal of the scaling matrix :math:`D` (entries :math:`\pm 1` in scoRNN); identity
        when omitted.

    Returns
    -------
    (N, N) torch.Tensor
        Orthogonal matrix (one linear solve).

    Examples
    --------
    >>> import torch
    >>> W = cayley(skew(torch.randn(4, 4)))
    >>> bool(torch.allclose(W.T @ W, torch.eye(4), atol=1e-5))
    True
    """
    eye = torch.eye(A.shape[0], dtype=A.dtype, device=A.device)
    W = torch.linalg.solve(eye + A, eye - A)
    return W if D is None else W * D


def expm(A: torch.Tensor) -> torch.Tensor:
    """Matrix exponential :math:`e^A` (orthogonal when ``A`` is skew-symmetric).

    Parameters
    ----------
    A : (N, N) torch.Tensor
        Square matrix.

    Returns
    -------
    (N, N) torch.Tensor
        ``torch.linalg.matrix_exp(A)``.

    Examples
    --------
    >>> import torch
    >>> bool(torch.allclose(expm(torch.zeros(2, 2)), torch.eye(2)))
    True
    """
    return torch.linalg.matrix_exp(A)


_FLOAT64_ABOVE = 16.0  # float32 inputs switch to float64 when the spectral norm of A exceeds 4


def _sincu(x: torch.Tensor) -> torch.Tensor:
    """Unnormalised sinc, sin(x) / x."""
    return torch.sinc(x / math.pi)


# Switch-over points of the divided differences: (series below |x|, direct formula above
# |nu_i - nu_j|, close-pair formula above a_i a_j). Float32 needs wider margins.
_THRESHOLDS = {torch.float64: (1e-3, 1e-2, 1e-8), torch.float32: (0.1, 0.1, 0.05)}


def _ratio_sin(sin_x: torch.Tensor, x: torch.Tensor, small_below: float) -> torch.Tensor:
    """Return sin(x) / x given sin(x), by its series where x is small."""
    x2 = x * x
    small = x.abs() < small_below
    series = 1.0 - x2 / 6.0 + x2 * x2 / 120.0
    return torch.where(small, series, sin_x / torch.where(small, torch.ones_like(x), x))


def _divided_differences(a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Divided differences in nu = a^2 of cos(a) and sin(a)/a, stable for close or zero a.

    Only the length-N vectors go through sin and cos; with p = (a_i + a_j)/2 and
    q = (a_i - a_j)/2 the N x N tables use the angle-addition formulas.
    """
    small_below, far_above, apart_above = _THRESHOLDS.get(a.dtype, _THRESHOLDS[torch.float64])
    h = 0.5 * a
    sh, ch = torch.sin(h), torch.cos(h)
    shi, shj, chi, chj = sh[:, None], sh[None, :], ch[:, None], ch[None, :]
    p, q = h[:, None] + h[None, :], h[:, None] - h[None, :]
    sinc_p = _ratio_sin(shi * chj + chi * shj, p, small_below)
    sinc_q = _ratio_sin(shi * chj - chi * shj, q, small_below)
    cos_p, cos_q = chi * chj - shi * shj, chi * chj + shi * shj
    d_cos = -0.5 * sinc_p * sinc_q
    sinc_a = _ratio_sin(torch.sin(a), a, small_below)
    nu_i, nu_j = (a * a)[:, None], (a * a)[None, :]
    diff = nu_i - nu_j
    far = diff.abs() >= far_above
    direct = (sinc_a[:, None] - sinc_a[None, :]) / torch.where(far, diff, torch.ones_like(diff))
    ab = a[:, None] * a[None, :]
    apart = ab > apart_above
    close = (cos_p * sinc_q - sinc_p * cos_q) / (2.0 * torch.where(apart, ab, torch.ones_like(ab)))
    series = -1.0 / 6.0 + (nu_i + nu_j) / 120.0 - (nu_i * nu_i + nu_i * nu_j + nu_j * nu_j) / 5040.0
    d_sinc = torch.where(far, direct, torch.where(apart, close, series))
    return d_cos, d_sinc


class _SkewExpm(torch.autograd.Function):
    """Exponential of a skew-symmetric matrix from the eigendecomposition of ``A^T A``."""

    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, A: torch.Tensor) -> torch.Tensor:
        work = A
        nu, V = torch.linalg.eigh(work.T @ work)
        if work.dtype != torch.float64 and float(nu[-1]) > _FLOAT64_ABOVE:
            work = A.double()
            nu, V = torch.linalg.eigh(work.T @ work)
        a = nu.clamp(min=0).sqrt()
        sinc = _sincu(a)
        AV = work @ V
        # cos(sqrt M) + A sinc(sqrt M) = (V diag(cos) + A V diag(sinc)) V^T
        W = torch.addcmul(V * torch.cos(a), AV, sinc) @ V.T
        ctx.save_for_backward(V, AV, a, sinc)
        return W.to(A.dtype)

    @staticmethod
    @once_differentiable
    def backward(ctx: torch.autograd.function.FunctionCtx, G: torch.Tensor) -> torch.Tensor:
        V, AV, a, sinc = ctx.saved_tensors
        d_cos, d_sinc = _divided_differences(a)
        GV = G.to(V.dtype) @ V
        # gradient with respect to M = A^T A is K = V inner V^T
        inner = (V.T @ GV) * d_cos + (AV.T @ GV) * d_sinc
        # dL/dA = G sinc(sqrt M) + A (K + K^T)
        grad = torch.addmm(GV * sinc, AV, inner + inner.T) @ V.T
        return grad.to(G.dtype)


def expm_skew(A: torch.Tensor) -> torch.Tensor:
    r"""Matrix exponential of a skew-symmetric matrix, with its exact gradient.

    With :math:`M = A^T A = -A^2` (symmetric positive semi-definite) and its eigendecomposition
    :math:`M = V \operatorname{diag}(\nu) V^T`,

    .. math:: e^A = \cos(\sqrt{M}) + A \, \frac{\sin \sqrt{M}}{\sqrt{M}},

    both functions of :math:`M` being evaluated on :math:`\nu` (they are entire in :math:`\nu`).
    The gradient uses the Daleckii-Krein formula for functions of a symmetric matrix, with
    divided differences that stay accurate for repeated or zero eigenvalues. One
    real symmetric eigendecomposition per call (float32 inputs whose spectral norm exceeds 4
    are handled in float64, since the float32 error grows like :math:`\|A\|^2`). Values agree with
    ``torch.linalg.matrix_exp`` and, along skew-symmetric directions, so do the gradients (use it
    through :func:`skew`); in float32 it is closer to orthogonal than ``matrix_exp`` and, with its
    gradient, several times cheaper. Not twice differentiable.

    Parameters
    ----------
    A : (N, N) torch.Tensor
        Real skew-symmetric matrix (float32 or float64).

    Returns
    -------
    (N, N) torch.Tensor
        The orthogonal matrix :math:`e^A`.

    Examples
    --------
    >>> import torch
    >>> X = torch.randn(4, 4, dtype=torch.float64, requires_grad=True)
    >>> W = expm_skew(skew(X))
    >>> bool(torch.allclose(W, torch.linalg.matrix_exp(skew(X))))
    True
    """
    return _SkewExpm.apply(A)


def rotation_blocks(angles: torch.Tensor, n: int) -> torch.Tensor:
    r"""Skew-symmetric block-diagonal matrix whose exponential rotates by ``angles``.

    Block ``i`` occupies rows and columns ``2i, 2i + 1`` and equals
    :math:`\begin{pmatrix} 0 & a_i \\ -a_i & 0 \end{pmatrix}`, so
    :math:`e^A` has blocks :math:`\begin{pmatrix} \cos a_i & \sin a_i \\
    -\sin a_i & \cos a_i \end{pmatrix}`. When ``n`` is odd the last row and column are zero.

    Parameters
    ----------
    angles : (n // 2,) torch.Tensor
        Upper off-diagonal entry of each block.
    n : int
        Size of the matrix.

    Returns
    -------
    (n, n) torch.Tensor
        Skew-symmetric block-diagonal matrix.

    Examples
    --------
    >>> import torch
    >>> rotation_blocks(torch.tensor([0.5]), 2)
    tensor([[ 0.0000,  0.5000],
            [-0.5000,  0.0000]])
    """
    superdiag = torch.zeros(n - 1, dtype=angles.dtype, device=angles.device)
    superdiag[0::2] = angles
    upper = torch.diag(superdiag, diagonal=1)
    return upper - upper.T
