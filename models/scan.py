r"""Fused recurrence :math:`h_t = f(W h_{t-1} + z_t)` with a hand-written backward pass.

The forward pass runs without building an autograd graph (one ``addmm`` and one activation per
step, written into a preallocated ``(T, B, H)`` buffer). The backward pass propagates through
time with one ``addmm`` and one multiply per step and forms the gradient of ``W`` with a single
matrix product over all steps. Activation derivatives are computed from the outputs alone.
Gradients are exact (checked against an autograd loop and ``torch.nn.RNN``), but the function is
differentiable once only: no double backward.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch.autograd.function import FunctionCtx, once_differentiable

from models.activations import NONLINEARITIES
from models.errors import InvalidOptionError

__all__ = ["recurrence"]


def _activate_(z: torch.Tensor, name: str, bias: torch.Tensor | None) -> None:
    """Apply the activation to ``z`` in place."""
    if name == "tanh":
        torch.tanh_(z)
    elif name == "relu":
        torch.relu_(z)
    elif name == "elu":
        F.elu_(z)
    else:
        s = torch.sign(z)
        torch.addcmul(bias, s, z, out=z)
        z.clamp_(min=0).mul_(s)


def _derivative(hs: torch.Tensor, name: str) -> torch.Tensor:
    """Return the derivative of the activation at every step, computed from its outputs."""
    if name == "tanh":
        return torch.mul(hs, hs).neg_().add_(1.0)
    if name == "relu":
        return torch.sign(hs).clamp_(min=0.0)  # sign(relu(z)) is 1 where z > 0, else 0
    if name == "elu":
        return (hs + 1.0).clamp_(max=1.0)  # e^z = h + 1 for z <= 0, and 1 for z > 0
    return torch.sign(hs).abs_()  # modReLU: 1 where the output is non-zero


class _Recurrence(torch.autograd.Function):
    @staticmethod
    def forward(
        ctx: FunctionCtx,
        z: torch.Tensor,
        W: torch.Tensor,
        bias: torch.Tensor | None,
        name: str,
    ) -> torch.Tensor:
        T = z.shape[0]
        hs = torch.empty_like(z, memory_format=torch.contiguous_format)
        Wt = W.t()
        hs[0].copy_(z[0])
        _activate_(hs[0], name, bias)
        for t in range(1, T):
            torch.addmm(z[t], hs[t - 1], Wt, out=hs[t])
            _activate_(hs[t], name, bias)
        ctx.save_for_backward(hs, W)
        ctx.name = name
        ctx.has_bias = bias is not None
        return hs

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad_hs: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        hs, W = ctx.saved_tensors
        T, _, H = hs.shape
        gz = _derivative(hs, ctx.name)
        gz[T - 1].mul_(grad_hs[T - 1])
        buffer = torch.empty_like(gz[0])
        for t in range(T - 2, -1, -1):
            # dL/dh_t = grad_hs[t] + W^T dL/dz_{t+1}  (row form: gz[t+1] @ W)
            torch.addmm(grad_hs[t], gz[t + 1], W, out=buffer)
            gz[t].mul_(buffer)
        grad_W = None
        if ctx.needs_input_grad[1] and T > 1:
            grad_W = gz[1:].reshape(-1, H).t() @ hs[:-1].reshape(-1, H)
        elif ctx.needs_input_grad[1]:
            grad_W = torch.zeros_like(W)
        grad_bias = None
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_bias = torch.sign(hs).mul_(gz).sum(dim=(0, 1))
        return gz, grad_W, grad_bias, None


def recurrence(
    z: torch.Tensor, W: torch.Tensor, nonlinearity: str, bias: torch.Tensor | None = None
) -> torch.Tensor:
    r"""Hidden states of :math:`h_t = f(W h_{t-1} + z_t)`, :math:`h_0 = 0`.

    Parameters
    ----------
    z : (T, B, H) torch.Tensor
        Input drive of every step (``U x_t + b``), time first.
    W : (H, H) torch.Tensor
        Recurrent matrix, column convention.
    nonlinearity : {"tanh", "relu", "elu", "modrelu"}
        The activation :math:`f`.
    bias : (H,) torch.Tensor, optional
        ModReLU bias (required for ``"modrelu"``, ignored otherwise).

    Returns
    -------
    (T, B, H) torch.Tensor
        :math:`h_1, \dots, h_T`. Differentiable once (with respect to ``z``, ``W`` and ``bias``).

    Raises
    ------
    InvalidOptionError
        If ``nonlinearity`` is unknown, or is ``"modrelu"`` without a ``bias``.

    Examples
    --------
    >>> import torch
    >>> hs = recurrence(torch.ones(3, 1, 2), torch.eye(2), "relu")
    >>> hs[:, 0, 0]
    tensor([1., 2., 3.])
    """
    if nonlinearity not in NONLINEARITIES:
        valid = ", ".join(NONLINEARITIES)
        raise InvalidOptionError(f"unknown nonlinearity {nonlinearity!r}; valid values: {valid}")
    if nonlinearity != "modrelu":
        bias = None
    elif bias is None:
        raise InvalidOptionError("nonlinearity 'modrelu' needs its bias")
    if not (W.is_contiguous() or W.t().is_contiguous()):
        W = W.contiguous()  # strided views (e.g. the real part of a complex product) defeat BLAS
    return _Recurrence.apply(z, W, bias, nonlinearity)
