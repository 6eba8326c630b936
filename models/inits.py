r"""Initial recurrent matrices, in the column convention :math:`h_t = f(W h_{t-1} + U x_t + b)`.

Every function returns a new float32 tensor; every random one takes a ``torch.Generator`` so
that a model's weights depend only on its seed, never on the global random state.

The chain initialisations follow Orhan & Pitkow (ICLR 2020) in the paper's convention:
:math:`W_{ij} = \alpha\, \delta_{j, i-1}` (sub-diagonal), so unit :math:`i - 1` drives unit
:math:`i` and a pulse fed into unit 0 travels down the chain. (Their PyTorch helper builds the
super-diagonal, which reverses the chain under ``W @ h``.)
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import torch

from models.maps import cayley as cayley_map
from models.maps import expm, rotation_blocks

__all__ = [
    "cayley",
    "cayley_skew",
    "chain",
    "chain_input",
    "fbchain",
    "glorot",
    "henaff",
    "henaff_skew",
    "identity",
    "orthogonal",
]

_PLACEHOLDER: ContextVar[bool] = ContextVar("models_inits_placeholder", default=False)


@contextmanager
def _placeholders() -> Iterator[None]:
    """Within the block the O(n³) initialisations return zeros of their shape.

    For models whose weights are replaced right after they are built (loading a checkpoint):
    the expensive factorisations would be thrown away. The zeros have the memory layout of the
    real result (QR and ``solve`` return column-major matrices), because the weights loaded into
    them keep it, and the layout decides the order of the sums in a matrix product: with it, a
    loaded model computes bit-identical outputs to the saved one.
    """
    token = _PLACEHOLDER.set(True)
    try:
        yield
    finally:
        _PLACEHOLDER.reset(token)


def identity(n: int, *, scale: float = 1.0) -> torch.Tensor:
    r"""Scaled identity :math:`W = \lambda I`.

    Parameters
    ----------
    n : int
        Size of the matrix.
    scale : float, default 1.0
        The factor :math:`\lambda`.

    Returns
    -------
    (n, n) torch.Tensor
        The initial matrix.

    Examples
    --------
    >>> identity(2, scale=0.5)
    tensor([[0.5000, 0.0000],
            [0.0000, 0.5000]])
    """
    return scale * torch.eye(n)


def orthogonal(n: int, *, scale: float = 1.0, generator: torch.Generator) -> torch.Tensor:
    r"""Scaled Haar-random orthogonal matrix :math:`W = \lambda Q`.

    ``Q`` comes from the QR decomposition of a Gaussian matrix with the signs of ``R``'s diagonal
    moved into ``Q``, which makes its distribution uniform (Haar) on :math:`O(n)`.

    Parameters
    ----------
    n : int
        Size of the matrix.
    scale : float, default 1.0
        The factor :math:`\lambda`.
    generator : torch.Generator
        Source of randomness.

    Returns
    -------
    (n, n) torch.Tensor
        The initial matrix.

    Examples
    --------
    >>> import torch
    >>> Q = orthogonal(4, generator=torch.Generator().manual_seed(0))
    >>> bool(torch.allclose(Q.T @ Q, torch.eye(4), atol=1e-6))
    True
    """
    if _PLACEHOLDER.get():
        return torch.zeros(n, n).T  # the layout of Q
    G = torch.randn(n, n, generator=generator, dtype=torch.float64)
    Q, R = torch.linalg.qr(G)
    signs = torch.sign(torch.diagonal(R))
    signs[signs == 0] = 1.0
    return (scale * Q * signs).float()


def chain(n: int, *, alpha: float = 1.0) -> torch.Tensor:
    r"""Feed-forward chain :math:`W_{ij} = \alpha\, \delta_{j, i-1}` (Orhan & Pitkow).

    Parameters
    ----------
    n : int
        Size of the matrix.
    alpha : float, default 1.0
        Weight of each link :math:`i - 1 \to i`.

    Returns
    -------
    (n, n) torch.Tensor
        Non-zero only on the sub-diagonal.

    Examples
    --------
    >>> chain(3)
    tensor([[0., 0., 0.],
            [1., 0., 0.],
            [0., 1., 0.]])
    """
    return torch.diag(torch.full((n - 1,), float(alpha)), diagonal=-1)


def fbchain(n: int, *, alpha: float = 1.0, beta: float = 0.05) -> torch.Tensor:
    r"""Chain with feedback :math:`W_{ij} = \alpha\, \delta_{j, i-1} + \beta\, \delta_{j, i+1}`.

    Orhan & Pitkow use :math:`\alpha = 0.99` and :math:`\beta \in [0.01, 0.07]`.

    Parameters
    ----------
    n : int
        Size of the matrix.
    alpha : float, default 1.0
        Forward weight (sub-diagonal).
    beta : float, default 0.05
        Feedback weight (super-diagonal).

    Returns
    -------
    (n, n) torch.Tensor
        The initial matrix.

    Examples
    --------
    >>> fbchain(2, alpha=1.0, beta=0.5)
    tensor([[0.0000, 0.5000],
            [1.0000, 0.0000]])
    """
    return chain(n, alpha=alpha) + torch.diag(torch.full((n - 1,), float(beta)), diagonal=1)


def chain_input(n: int, m: int, *, gain: float = 0.9) -> torch.Tensor:
    r"""Input matrix of the chain models, :math:`U = 0.9\, I_{n \times m}` (input j drives unit j).

    Parameters
    ----------
    n : int
        Number of hidden units (rows).
    m : int
        Number of input features (columns).
    gain : float, default 0.9
        Diagonal value.

    Returns
    -------
    (n, m) torch.Tensor
        The initial matrix.

    Examples
    --------
    >>> chain_input(3, 1)
    tensor([[0.9000],
            [0.0000],
            [0.0000]])
    """
    return gain * torch.eye(n, m)


def glorot(
    n: int, m: int | None = None, *, scale: float = 1.0, generator: torch.Generator
) -> torch.Tensor:
    r"""Glorot (Xavier) normal matrix, standard deviation :math:`\sqrt{2 / (n + m)}`.

    Parameters
    ----------
    n : int
        Number of rows (fan-out).
    m : int, optional
        Number of columns (fan-in); ``n`` when omitted.
    scale : float, default 1.0
        Extra factor on the standard deviation.
    generator : torch.Generator
        Source of randomness.

    Returns
    -------
    (n, m) torch.Tensor
        The initial matrix.

    Examples
    --------
    >>> import torch
    >>> glorot(3, generator=torch.Generator().manual_seed(0)).shape
    torch.Size([3, 3])
    """
    m = n if m is None else m
    std = scale * math.sqrt(2.0 / (n + m))
    return std * torch.randn(n, m, generator=generator)


def henaff_skew(n: int, *, generator: torch.Generator) -> torch.Tensor:
    r"""Skew-symmetric Henaff initialisation (expRNN): 2×2 rotation blocks.

    :math:`e^A` rotates each coordinate pair by an angle drawn uniformly in :math:`[-\pi, \pi]`.

    Parameters
    ----------
    n : int
        Size of the matrix.
    generator : torch.Generator
        Source of randomness.

    Returns
    -------
    (n, n) torch.Tensor
        Skew-symmetric and block-diagonal (see :func:`models.maps.rotation_blocks`).

    Examples
    --------
    >>> import torch
    >>> A = henaff_skew(4, generator=torch.Generator().manual_seed(0))
    >>> bool(torch.equal(A, -A.T))
    True
    """
    angles = (2.0 * torch.rand(n // 2, generator=generator, dtype=torch.float64) - 1.0) * math.pi
    return rotation_blocks(angles, n).float()


def cayley_skew(n: int, *, generator: torch.Generator) -> torch.Tensor:
    r"""Skew-symmetric Cayley initialisation (scoRNN): block entries :math:`-\tan(\theta / 2)`.

    :math:`\theta \sim U[0, \pi/2]`; the Cayley transform :math:`(I + A)^{-1}(I - A)` of the
    result rotates each coordinate pair by :math:`\theta`, while its exponential (expRNN with
    ``init="cayley"``) rotates by :math:`\tan(\theta / 2) \in [0, 1]`.

    Parameters
    ----------
    n : int
        Size of the matrix.
    generator : torch.Generator
        Source of randomness.

    Returns
    -------
    (n, n) torch.Tensor
        Skew-symmetric and block-diagonal.

    Examples
    --------
    >>> import torch
    >>> A = cayley_skew(4, generator=torch.Generator().manual_seed(0))
    >>> bool((A[0, 1] <= 0) & (A[0, 1] >= -1))
    True
    """
    theta = torch.rand(n // 2, generator=generator, dtype=torch.float64) * (math.pi / 2)
    return rotation_blocks(-torch.tan(theta / 2), n).float()


def henaff(n: int, *, scale: float = 1.0, generator: torch.Generator) -> torch.Tensor:
    r"""Block rotations by angles uniform in :math:`[-\pi, \pi]`: :math:`\lambda e^A`.

    Parameters
    ----------
    n : int
        Size of the matrix.
    scale : float, default 1.0
        The factor :math:`\lambda`.
    generator : torch.Generator
        Source of randomness.

    Returns
    -------
    (n, n) torch.Tensor
        ``scale`` times an orthogonal block-diagonal matrix.

    Examples
    --------
    >>> import torch
    >>> W = henaff(4, generator=torch.Generator().manual_seed(0))
    >>> bool(torch.allclose(W.T @ W, torch.eye(4), atol=1e-6))
    True
    """
    if _PLACEHOLDER.get():
        return torch.zeros(n, n)
    A = henaff_skew(n, generator=generator).double()
    return (scale * expm(A)).float()


def cayley(n: int, *, scale: float = 1.0, generator: torch.Generator) -> torch.Tensor:
    r"""Block rotations by angles uniform in :math:`[0, \pi/2]`: :math:`\lambda` Cayley(A).

    Parameters
    ----------
    n : int
        Size of the matrix.
    scale : float, default 1.0
        The factor :math:`\lambda`.
    generator : torch.Generator
        Source of randomness.

    Returns
    -------
    (n, n) torch.Tensor
        ``scale`` times an orthogonal block-diagonal matrix.

    Examples
    --------
    >>> import torch
    >>> W = cayley(4, generator=torch.Generator().manual_seed(0))
    >>> bool(torch.allclose(W.T @ W, torch.eye(4), atol=1e-6))
    True
    """
    if _PLACEHOLDER.get():
        return torch.zeros(n, n).T  # the layout of solve's result
    A = cayley_skew(n, generator=generator).double()
    return (scale * cayley_map(A)).float()
