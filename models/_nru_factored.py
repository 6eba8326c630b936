"""The NRU memory update in closed form when each direction row is made of whole factor rows.

With ``r`` dividing ``m`` and no relu on the directions, row ``j`` of a head's outer product
``u_1 u_2^T`` (reshaped to ``(k, m)``) is ``m / r`` whole rows ``u_{1,a} u_2^T``: its ``L^5``
norm and the weighted sum of the normalised rows come from the factors, and the ``(2k, m)``
directions are never formed (:class:`models.nru.NRU` uses this path when it applies).
"""

from __future__ import annotations

import math
from typing import Any

import torch

_EPS = 1e-12  # floor of the L^5 norm of a direction (``F.normalize``'s ``eps``)
# whether torch.func transforms are running (torch's own test in autograd.Function.apply)
_transforms_active = getattr(torch._C, "_are_functorch_transforms_active", lambda: True)


def _factor_sums(u: torch.Tensor, k: int) -> tuple[torch.Tensor, ...]:
    r"""Powers of the factors and the directions' :math:`\|P_j\|_5^5`, rows made of whole rows.

    Parameters
    ----------
    u : (B, 2, 2, r) torch.Tensor
        ``[u_alpha; u_beta]`` as (batch, write/erase, first/second factor, r).
    k : int
        Heads.

    Returns
    -------
    cube : (B, 2, 2, r) torch.Tensor
        :math:`|u|^3`.
    A : (B, 2, k) torch.Tensor
        :math:`\sum_{a \in j} |u_{1,a}|^5` over the ``r / k`` first factors of row ``j``.
    C : (B, 2, 1) torch.Tensor
        :math:`\sum_c |u_{2,c}|^5`.
    s : (B, 2, k) torch.Tensor
        :math:`\|P_j\|_5^5 = A_j C`.
    """
    B, r = u.shape[0], u.shape[3]
    a = u.abs()
    a2 = a * a
    cube = a2 * a
    p = cube * a2  # |u| ** 5 by products: pow and the p = 5 vector norm are far slower
    A = p[:, :, 0].reshape(B, 2, k, r // k).sum(3)
    C = p[:, :, 1].sum(2, keepdim=True)
    return cube, A, C, A * C


def _root5(s: torch.Tensor) -> torch.Tensor:
    """``s ** (1/5)`` of ``s >= 0`` whose derivative at 0 is 0 (as the vector norm's), not NaN."""
    positive = s > 0
    return torch.where(positive, torch.where(positive, s, 1.0).pow(0.2), 0.0)


def _factored_update(
    mem: torch.Tensor, out: torch.Tensor, signs: torch.Tensor, k: int, r: int
) -> tuple[torch.Tensor, ...]:
    r"""Memory update when each direction row is made of whole rows of :math:`u_1 u_2^T`.

    With ``q = m / r``, row :math:`j` of a head's :math:`u_1 u_2^T` reshaped to ``(k, m)`` is
    :math:`[u_{1,jq} u_2; \dots; u_{1,jq+q-1} u_2]`, so
    :math:`\|P_j\|_5^5 = \sum_{a \in j} |u_{1,a}|^5 \sum_c |u_{2,c}|^5` and
    :math:`\sum_j c_j P_j`, :math:`c_j = w_j / \max(\|P_j\|_5, \epsilon)`, is the
    ``(q, r)`` matrix :math:`y u_2^T` with :math:`y_b = \sum_j c_j u_{1,jq+b}`: the
    ``(2k, m)`` directions are never formed. Plain torch operations (differentiable by
    autograd and ``torch.func``).

    Returns
    -------
    tuple of torch.Tensor
        The new memory ``(B, m)``, then ``cube, A, C, s, n, d, c, y`` for
        :class:`_FactoredUpdate`'s backward pass.
    """
    B, m = mem.shape
    q = m // r
    u = out[:, 2 * k :].reshape(B, 2, 2, r)
    cube, A, C, s = _factor_sums(u, k)
    n = _root5(s)
    d = n.clamp_min(_EPS)
    c = (out[:, : 2 * k] * signs).reshape(B, 2, k) / d
    y = torch.matmul(c.unsqueeze(2), u[:, :, 0].reshape(B, 2, k, q)).squeeze(2)
    new = torch.baddbmm(mem.reshape(B, q, r), y.transpose(1, 2), u[:, :, 1]).reshape(B, m)
    return new, cube, A, C, s, n, d, c, y


class _FactoredUpdate(torch.autograd.Function):
    r""":func:`_factored_update` as one autograd node, with its chain rule in closed form.

    The backward pass follows autograd's one-sided derivatives: the floor passes the norm's
    derivative at :math:`\|P_j\|_5 = \epsilon` and blocks it below, a zero row has
    derivative 0. One node in place of some twenty keeps the per-step overhead of long
    sequences small. It has no ``setup_context`` (whose argument binding costs more than the
    update itself), so under ``torch.func`` transforms :func:`_factored_update` runs instead.
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any, mem: torch.Tensor, out: torch.Tensor, signs: torch.Tensor, k: int, r: int
    ) -> torch.Tensor:
        new, *saved = _factored_update(mem, out, signs, k, r)
        ctx.save_for_backward(out, signs, *saved)
        ctx.k, ctx.r = k, r
        return new

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:  # type: ignore[override]
        out, signs, cube, A, C, s, n, d, c, y = ctx.saved_tensors
        k, r = ctx.k, ctx.r
        if torch.is_grad_enabled():  # create_graph: a graph of the derivative is asked for
            return grad, _differentiable_grad(out, signs, grad, k, r), None, None, None
        B, m = grad.shape
        q = m // r
        u = out[:, 2 * k :].reshape(B, 2, 2, r)
        G = grad.reshape(B, q, r)
        gy = torch.bmm(u[:, :, 1], G.transpose(1, 2))  # (B, 2, q)
        g_c = torch.matmul(u[:, :, 0].reshape(B, 2, k, q), gy.unsqueeze(3)).squeeze(3)
        g_w = g_c / d
        # d = max(n, eps) with n = s ** (1/5), s = A C, and d|u|^5/du = 5 u |u|^3: the 5s
        # cancel; the floor passes the derivative where n >= eps (so s > 0 there); a norm
        # that overflows to inf has derivative 0 (its row's weight is 0, as autograd has it)
        passes = (n >= _EPS) & (s < math.inf)
        g_s = g_w * c * torch.where(passes, n / -s, 0.0)
        g = out.new_empty(B, 2 * k + 4 * r)
        torch.mul(g_w.reshape(B, 2 * k), signs, out=g[:, : 2 * k])
        g_u = g[:, 2 * k :].view(B, 2, 2, r)
        wu = u * cube
        g_u1 = c.unsqueeze(3) * gy.unsqueeze(2) + (g_s * C).unsqueeze(3) * wu[:, :, 0].reshape(
            B, 2, k, q
        )
        g_u[:, :, 0] = g_u1.reshape(B, 2, r)
        g_u[:, :, 1] = torch.baddbmm(wu[:, :, 1] * (g_s * A).sum(2, keepdim=True), y, G)
        return grad, g, None, None, None


def _differentiable_grad(
    out: torch.Tensor, signs: torch.Tensor, grad: torch.Tensor, k: int, r: int
) -> torch.Tensor | None:
    """Gradient in ``out`` of the update, as a graph (double backward, Hessian products).

    The closed form of :class:`_FactoredUpdate` works on intermediates saved without a graph,
    so for second derivatives the plain operations of :func:`_factored_update` are run again
    and differentiated by autograd.
    """
    if not out.requires_grad:
        return None
    with torch.enable_grad():
        new = _factored_update(grad.new_zeros(grad.shape), out, signs, k, r)[0]
        (g,) = torch.autograd.grad(new, out, grad, create_graph=True)
    return g
