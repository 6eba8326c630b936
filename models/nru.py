"""Non-saturating recurrent unit (Chandar et al., 2019)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

import torch
import torch.nn.functional as F

from models._nru_factored import (
    _EPS,
    _factor_sums,
    _factored_update,
    _FactoredUpdate,
    _root5,
    _transforms_active,
)
from models._options import READOUT, _flag, _integer, _Option
from models.base import RecurrentModel, _detached, _linear
from models.errors import InvalidOptionError
from models.one_step import _rows
from models.rnn import _slope

__all__ = ["NRU"]


class NRU(RecurrentModel):
    r"""Non-saturating recurrent unit with an additive memory and low-rank write/erase heads.

    One step, with :math:`s = [h_t; m_{t-1}]`:

    .. math::

        h_t &= \operatorname{relu}(W_h [x_t; h_{t-1}; m_{t-1}] + b) \\
        \alpha &= W_\alpha s, \quad \beta = W_\beta s \quad (k \text{ heads each}) \\
        v^\alpha &= \operatorname{normalize}_5(\operatorname{vec}(u_1 u_2^T)), \quad
        [u_1; u_2] = W_{u\alpha} s \in \mathbb{R}^{2r}, \; r = \sqrt{m k} \\
        m_t &= m_{t-1} + \operatorname{mean}_{i}(\alpha_i v^\alpha_i - \beta_i v^\beta_i)

    (:math:`v^\beta` likewise with :math:`W_{u\beta}`; the :math:`r \times r` outer product is
    reshaped to ``(k, m)`` and each row is divided by its :math:`L^5` norm.) Logits are linear in
    :math:`h_t`. Parameter names follow the reference code: ``hmi2h`` (:math:`W_h`, columns ordered
    input, hidden, memory), ``hm2alpha``, ``hm2beta``, ``hm2v_alpha``, ``hm2v_beta``, ``readout``.

    Options: ``memory_size`` (m, default 64), ``heads`` (k, default 4; ``m * k`` must be a
    perfect square), ``use_relu`` (relu on strengths and directions, default False), ``readout``.
    The recurrent matrix is the h→h block of :math:`W_h`.

    Examples
    --------
    >>> import models, torch
    >>> model = models.build("nru", input_size=2, hidden_size=8, output_size=3,
    ...                      memory_size=16, heads=4)
    >>> model.memory_states(torch.zeros(5, 7, 2)).shape
    torch.Size([5, 7, 16])
    """

    kind: ClassVar[str] = "nru"
    OPTIONS: ClassVar[dict[str, _Option]] = {
        "memory_size": _Option(64, _integer()),
        "heads": _Option(4, _integer()),
        "use_relu": _Option(False, _flag),
        "readout": READOUT,
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        m, k = self._options["memory_size"], self._options["heads"]
        r = _rank(m, k)
        self.memory_size, self.heads, self.rank = m, k, r
        self.use_relu: bool = self._options["use_relu"]
        H, Fin = self.hidden_size, self.input_size
        g = self._generator()
        self.hmi2h = _linear(Fin + H + m, H, g)
        self.hm2alpha = _linear(H + m, k, g)
        self.hm2beta = _linear(H + m, k, g)
        self.hm2v_alpha = _linear(H + m, 2 * r, g)
        self.hm2v_beta = _linear(H + m, 2 * r, g)
        self.readout = self._make_readout(g)

    @classmethod
    def _cell_shapes(cls, F: int, H: int, options: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
        m, k = options["memory_size"], options["heads"]
        r = _rank(m, k)
        shapes: dict[str, tuple[int, ...]] = {"hmi2h.weight": (H, F + H + m), "hmi2h.bias": (H,)}
        for name, rows in (
            ("hm2alpha", k),
            ("hm2beta", k),
            ("hm2v_alpha", 2 * r),
            ("hm2v_beta", 2 * r),
        ):
            shapes[f"{name}.weight"] = (rows, H + m)
            shapes[f"{name}.bias"] = (rows,)
        return shapes

    def _compute_recurrent(self) -> torch.Tensor:
        F_ = self.input_size
        return self.hmi2h.weight[:, F_ : F_ + self.hidden_size]

    def _blocks(self) -> dict[str, torch.Tensor]:
        return {"W": self.recurrent_weight()}

    def memory_block(self) -> torch.Tensor:
        """Memory-to-hidden block of :math:`W_h`: how the memory :math:`m_{t-1}` drives ``h_t``.

        Returns
        -------
        (H, m) torch.Tensor
            The last ``m`` columns of ``hmi2h.weight``, as a detached float32 copy.

        Examples
        --------
        >>> import models
        >>> nru = models.build("nru", input_size=1, hidden_size=4, output_size=1,
        ...                    memory_size=9, heads=1)
        >>> tuple(nru.memory_block().shape)
        (4, 9)
        """
        F_, H = self.input_size, self.hidden_size
        return _detached(self.hmi2h.weight[:, F_ + H :])

    def _directions(self, u: torch.Tensor) -> torch.Tensor:
        """Write and erase directions ``(B, 2k, m)`` from ``u = [u_alpha; u_beta]`` ``(B, 4r)``."""
        r = self.rank
        u = u.view(-1, 2, 2, r)  # (batch, write/erase, first/second factor, r)
        v = (u[:, :, 0, :, None] * u[:, :, 1, None, :]).reshape(
            -1, 2 * self.heads, self.memory_size
        )
        if self.use_relu:
            v = F.relu(v)
        return F.normalize(v, p=5, dim=2, eps=_EPS)

    def _cell_weights(self) -> tuple[torch.Tensor, ...]:
        """Return ``(W_x, b, W_hm^T, W_heads^T, b_heads, signs)`` of :meth:`_scan` and the step."""
        Fin, H, k = self.input_size, self.hidden_size, self.heads
        weight = self.hmi2h.weight
        Whm = torch.cat([self.recurrent_weight(), weight[:, Fin + H :]], dim=1).t()
        heads = (self.hm2alpha, self.hm2beta, self.hm2v_alpha, self.hm2v_beta)
        W_heads = torch.cat([layer.weight for layer in heads], dim=0).t()
        b_heads = torch.cat([layer.bias for layer in heads], dim=0)
        signs = torch.cat([weight.new_full((k,), 1.0 / k), weight.new_full((k,), -1.0 / k)])
        return weight[:, :Fin], self.hmi2h.bias, Whm, W_heads, b_heads, signs

    def _cell(
        self,
        h: torch.Tensor,
        mem: torch.Tensor,
        ux: torch.Tensor,
        Whm: torch.Tensor,
        W_heads: torch.Tensor,
        b_heads: torch.Tensor,
        signs: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One step from ``(h, m)`` given the input drive ``ux = W_x x + b``."""
        h = F.relu(torch.addmm(ux, torch.cat([h, mem], dim=1), Whm))
        out = torch.addmm(b_heads, torch.cat([h, mem], dim=1), W_heads)
        return h, self._memory_update(mem, out, signs)

    def _memory_update(
        self, mem: torch.Tensor, out: torch.Tensor, signs: torch.Tensor
    ) -> torch.Tensor:
        """Return the new memory from the old one and the heads' outputs ``[strengths; u]``."""
        if _factored(self):
            if _transforms_active() or not torch.is_grad_enabled():
                return _factored_update(mem, out, signs, self.heads, self.rank)[0]
            return _FactoredUpdate.apply(mem, out, signs, self.heads, self.rank)
        k, r = self.heads, self.rank
        strengths, u = out.split([2 * k, 4 * r], dim=1)  # [alpha; beta], [u_alpha; u_beta]
        if self.use_relu:
            strengths = F.relu(strengths)
        # mean over heads of alpha_i v_alpha_i - beta_i v_beta_i
        weights = (strengths * signs).unsqueeze(1)
        return torch.baddbmm(mem.unsqueeze(1), weights, self._directions(u)).squeeze(1)

    def _scan(self, x: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        B, T, Fin = x.shape
        H, m = self.hidden_size, self.memory_size
        Wx, bias, *rest = self._cell_weights()
        ux = torch.addmm(bias, x.reshape(B * T, Fin), Wx.t()).view(B, T, H)
        ux = ux.transpose(0, 1)
        h = x.new_zeros(B, H)
        mem = x.new_zeros(B, m)
        hs, ms = [], []
        # unbind, not ux[t]: the backward of T selects would zero-fill T copies of ux
        for ux_t in ux.unbind(0):
            h, mem = self._cell(h, mem, ux_t, *rest)
            hs.append(h)
            ms.append(mem)
        return hs, ms

    @property
    def state_size(self) -> int:
        """``H + m``: the full state is ``[h; m]``."""
        return self.hidden_size + self.memory_size

    def _step(self, state: torch.Tensor, x_t: torch.Tensor) -> torch.Tensor:
        H = self.hidden_size
        Wx, bias, *rest = self._cell_weights()
        h, mem = self._cell(state[:, :H], state[:, H:], torch.addmm(bias, x_t, Wx.t()), *rest)
        return torch.cat([h, mem], dim=1)

    def _step_jacobians(
        self, state: torch.Tensor, x_t: torch.Tensor, *, inputs: bool
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        r"""Analytic Jacobians of the step on ``[h; m]`` (see :func:`_nru_jacobians`)."""
        return _nru_jacobians(self, state, x_t, inputs=inputs)

    def _run(self, x: torch.Tensor, *, all_steps: bool) -> torch.Tensor:
        hs, _ = self._scan(x)
        return torch.stack(hs, dim=1) if all_steps else hs[-1]

    def memory_states(self, x: torch.Tensor) -> torch.Tensor:
        r"""Memory vectors :math:`m_1, \dots, m_T`.

        Parameters
        ----------
        x : (B, T, F) torch.Tensor
            Float inputs, batch first.

        Returns
        -------
        (B, T, m) torch.Tensor

        Raises
        ------
        InputShapeError
            If ``x`` has the wrong shape.

        Examples
        --------
        >>> import models, torch
        >>> model = models.build("nru", input_size=1, hidden_size=4, output_size=1,
        ...                      memory_size=4, heads=1)
        >>> model.memory_states(torch.zeros(2, 3, 1)).shape
        torch.Size([2, 3, 4])
        """
        _, ms = self._scan(self._check_input(x))
        return torch.stack(ms, dim=1)


def _factored(model: NRU) -> bool:
    """Whether the memory update is :class:`_FactoredUpdate` (else the directions are formed).

    Each row of a head's outer product must be made of whole rows ``u_{1,a} u_2^T``: ``r``
    divides ``m``, and no relu on the directions.
    """
    return not model.use_relu and model.memory_size % model.rank == 0


def _row_norms(model: NRU, u: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """L5 norms ``(B, 2k, 1)`` of the direction rows ``q`` before the floor, as in the step."""
    if not _factored(model):
        return q.norm(5, dim=2, keepdim=True)
    return _root5(_factor_sums(u, model.heads)[3]).reshape(-1, 2 * model.heads, 1)


def _memory_sensitivity(model: NRU, out: torch.Tensor, signs: torch.Tensor) -> torch.Tensor:
    r"""Return the derivative ``(B, m, 2k + 4r)`` of the memory update in the heads' outputs.

    With ``out = [strengths; u]``, the update is :math:`\delta m = \sum_j w_j v_j`,
    :math:`w_j = \sigma_j g(\text{strength}_j)` (:math:`\sigma_j = \pm 1/k`, :math:`g` relu or
    identity) and :math:`v_j = q_j / n_j`, :math:`n_j = \max(\|q_j\|_5, \epsilon)`,
    :math:`q = g(P)`, where row :math:`j` of :math:`P` is a slice of the outer product
    :math:`u_1 u_2^T` of its write or erase head. Then
    :math:`\partial \delta m / \partial \text{strength}_j = \sigma_j g' v_j` and, with
    :math:`e_j = \partial \|q_j\|_5 / \partial q_j = t_j |t_j|^3`, :math:`t_j = q_j /
    \|q_j\|_5`,

    .. math:: \frac{\partial \delta m}{\partial P_j} = \frac{w_j}{n_j}
        \left(I - v_j e_j^T\right) \operatorname{diag}(g'(P_j)),

    which :math:`\partial P_{ac} = u_{2,c}\, \partial u_{1,a} + u_{1,a}\, \partial u_{2,c}`
    carries to :math:`u_1` and :math:`u_2`: the identity part entry by entry (a scatter), the
    rank-one part through :math:`k` inner products per head. The ``(m, 2 k m)`` matrix
    :math:`\partial \delta m / \partial P` is never formed.

    One-sided derivatives follow autograd: relu has slope 0 at 0; the clamp at
    :math:`\epsilon` passes the norm's derivative when :math:`\|q_j\|_5 \ge \epsilon` (a
    norm exactly at the floor is differentiated as the norm) and blocks it below; a zero
    direction has :math:`e_j = 0`.
    """
    k, r, m = model.heads, model.rank, model.memory_size
    B = out.shape[0]
    strengths, u = out.split([2 * k, 4 * r], dim=1)
    u = u.reshape(B, 2, 2, r)  # (batch, write/erase, first/second factor, r)
    u1, u2 = u[:, :, 0], u[:, :, 1]
    P = (u1[:, :, :, None] * u2[:, :, None, :]).reshape(B, 2 * k, m)
    if model.use_relu:
        slope = _slope(strengths, "relu", None)
        w = F.relu(strengths) * signs
        q, g_P = F.relu(P), _slope(P, "relu", None)
    else:
        slope, w, q, g_P = torch.ones_like(strengths), strengths * signs, P, None
    norm = _row_norms(model, u, q)
    n = norm.clamp_min(_EPS)
    v = q / n
    t = q / torch.where(norm > 0, norm, torch.ones_like(norm))
    e = torch.where(norm >= _EPS, t * t.abs().pow(3), torch.zeros_like(t))
    alpha = w[:, :, None] / n  # (B, 2k, 1)
    # identity part alpha_j g'(P_jl) and rank-one part alpha_j g'(P_jl) e_jl, as (B, 2, r, r)
    ident = alpha.expand(B, 2 * k, m) if g_P is None else alpha * g_P
    rank1 = ident * e
    ident, rank1 = ident.reshape(B, 2, r, r), rank1.reshape(B, 2, r, r)
    # flat position a r + c of the outer product lies in row (a r + c) // m, column (.) % m
    flat = torch.arange(r * r, device=out.device).view(r, r)
    column = (flat % m).expand(B, 2, r, r)
    rows = F.one_hot(flat // m, k).to(out.dtype)  # (r, r, k)
    d_u = out.new_zeros(B, 2, 2, r, m)  # (batch, head, factor, index, memory entry)
    d_u[:, :, 0].scatter_add_(3, column, ident * u2[:, :, None, :])
    d_u[:, :, 1].scatter_add_(3, column.transpose(2, 3), (ident * u1[:, :, :, None]).mT)
    K = torch.cat(
        [
            torch.einsum("npac,acj->npaj", rank1 * u2[:, :, None, :], rows),
            torch.einsum("npac,acj->npcj", rank1 * u1[:, :, :, None], rows),
        ],
        dim=2,
    )  # (B, 2, 2r, k)
    d_u.view(B, 2, 2 * r, m).sub_(K @ v.view(B, 2, k, m))
    d_strength = (v * (signs * slope)[:, :, None]).transpose(1, 2)
    return torch.cat([d_strength, d_u.view(B, 4 * r, m).transpose(1, 2)], dim=2)


def _nru_jacobians(
    model: NRU, state: torch.Tensor, x_t: torch.Tensor, *, inputs: bool
) -> tuple[torch.Tensor, torch.Tensor | None]:
    r"""Jacobians of the NRU step on :math:`s = [h; m]`, column convention.

    With :math:`a = W_x x + W_{hh} h + W_{hm} m + b`, :math:`h' = \operatorname{relu}(a)`,
    heads' outputs :math:`o = A [h'; m] + c` and :math:`m' = m + \delta m(o)`:

    .. math::

        \frac{\partial h'}{\partial s} = D [W_{hh}\; W_{hm}], \qquad
        \frac{\partial m'}{\partial s} = [0\; I] + G \left(A_h D [W_{hh}\; W_{hm}]
        + [0\; A_m]\right),

    :math:`D = \operatorname{diag}(\operatorname{relu}'(a))` (0 at :math:`a = 0`, as autograd)
    and :math:`G = \partial \delta m / \partial o` from :func:`_memory_sensitivity` (when
    :func:`_factored` holds, :func:`_factored_jacobians` forms the memory rows without
    :math:`G`). The input
    Jacobian has :math:`W_x` in place of :math:`[W_{hh}\; W_{hm}]` and no :math:`[0\; I]`,
    :math:`[0\; A_m]` terms.
    """
    H = model.hidden_size
    Wx, bias, Whm, W_heads, b_heads, signs = model._cell_weights()
    h, mem = state[:, :H], state[:, H:]
    # the same products, in the same order, as the step (so the kinks fall where it sees them)
    a = torch.addmm(torch.addmm(bias, x_t, Wx.t()), torch.cat([h, mem], dim=1), Whm)
    D = _slope(a, "relu", None)
    out = torch.addmm(b_heads, torch.cat([F.relu(a), mem], dim=1), W_heads)
    W_h = Whm.t().contiguous()  # (H, S): [W_hh W_hm], contiguous for the row scalings
    B, m, S = state.shape[0], model.memory_size, model.state_size
    J = state.new_empty(B, S, S)
    torch.mul(D[:, :, None], W_h, out=J[:, :H])
    if _factored(model):
        return _factored_jacobians(model, out, signs, W_heads.t(), D, W_h, Wx, J, inputs=inputs)
    GA = torch.matmul(_memory_sensitivity(model, out, signs), W_heads.t())  # (B, m, H + m)
    GAD = GA[:, :, :H] * D[:, None, :]  # the memory rows' derivative through h'
    J[:, H:] = (GAD.reshape(B * m, H) @ W_h).view(B, m, S)
    J[:, H:, H:] += GA[:, :, H:]
    J[:, H:, H:].diagonal(dim1=1, dim2=2).add_(1.0)
    if not inputs:
        return J, None
    Fin = model.input_size
    J_x = torch.cat([_rows(D, Wx), (GAD.reshape(B * m, H) @ Wx).view(B, m, Fin)], dim=1)
    return J, J_x


def _factored_jacobians(
    model: NRU,
    out: torch.Tensor,
    signs: torch.Tensor,
    A: torch.Tensor,
    D: torch.Tensor,
    W_h: torch.Tensor,
    Wx: torch.Tensor,
    J: torch.Tensor,
    *,
    inputs: bool,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    r"""Finish :func:`_nru_jacobians` (``J``'s hidden rows filled) when :func:`_factored` holds.

    Over the write and erase heads :math:`p` the update is
    :math:`m'_{bc} = m_{bc} + \sum_p y_{p,b} u_{2,p,c}` (memory as ``(q, r)``, :math:`q = m / r`,
    :math:`y_{p,b} = \sum_j c_{pj} u_{1,p,jq+b}`,
    :math:`c_{pj} = w_{pj} / d_{pj}`, :math:`d_{pj} = \max(n_{pj}, \epsilon)`,
    :math:`n_{pj}^5 = s_{pj} = A_{pj} C_p`
    as in :func:`models._nru_factored._factored_update`). Its derivative in the heads'
    outputs is :math:`\sum_p u_{2,p,c}\, Q_{p,b} + y_{p,b}\, \partial u_{2,p,c}`, with

    .. math:: Q_{p,b} = \sum_j c_{pj}\, \partial u_{1,p,jq+b}
        + u_{1,p,jq+b} \left(\frac{\sigma_{pj}}{d_{pj}} \partial\text{strength}_{pj}
        - \kappa_{pj} \left(C_p \sum_{a \in j} u_{1,p,a} |u_{1,p,a}|^3 \partial u_{1,p,a}
        + A_{pj} \sum_c u_{2,p,c} |u_{2,p,c}|^3 \partial u_{2,p,c}\right)\right),

    :math:`\kappa_{pj} = c_{pj} / s_{pj}` where the floor passes the norm's derivative (as
    :class:`models._nru_factored._FactoredUpdate`), else 0. So the memory rows of ``J`` are
    combinations of ``2 q + 2 r`` rows (:math:`Q` and the ``u_2`` rows of the heads' weights
    ``A``) carried through :math:`D [W_{hh}\; W_{hm}]`, in place of ``m`` rows of
    :math:`G A`.
    """
    k, r, m, H = model.heads, model.rank, model.memory_size, model.hidden_size
    B, S, q = out.shape[0], model.state_size, m // r
    N = A.shape[1]  # H + m
    u = out[:, 2 * k :].reshape(B, 2, 2, r)
    u1, u2 = u[:, :, 0].reshape(B, 2, k, q), u[:, :, 1]
    cube, A_sum, C_sum, s = _factor_sums(u, k)
    n = s.pow(0.2)  # as _root5 (s >= 0), no derivative wanted here
    d = n.clamp_min(_EPS)
    c = (out[:, : 2 * k] * signs).reshape(B, 2, k) / d  # (B, 2, k)
    y = (c.unsqueeze(3) * u1).sum(2)  # (B, 2, q)
    passes = (n >= _EPS) & (s < math.inf)
    nkappa = torch.where(passes, c / torch.where(passes, s, 1.0), 0.0).neg_()  # -kappa
    wu = u * cube  # u |u|^3
    # Q_pb as coefficients K of head p's weight rows [strengths; u1; u2] (k + 2r), laid out
    # (head, batch, b, row) for one product per head
    K = out.new_empty(2, B, q, k + 2 * r)
    Kb = K.transpose(0, 1)  # (B, 2, q, k + 2r)
    torch.mul(u1.mT, (signs.view(2, k) / d).unsqueeze(2), out=Kb[..., :k])
    # u1 rows: c_pj at (b, jq + b), less kappa_pj C_p u1[jq + b] u1[jq + b'] |.|^3 at (b, jq + b')
    K1 = Kb[..., k : k + r].unflatten(3, (k, q))  # (B, 2, q, k, q)
    ut = u1 * (nkappa * C_sum).unsqueeze(3)  # (B, 2, k, q)
    torch.mul(ut.mT.unsqueeze(4), wu[:, :, 0].reshape(B, 2, 1, k, q), out=K1)
    K1.diagonal(dim1=2, dim2=4).add_(c.unsqueeze(3))
    # u2 rows: less sum_j kappa_pj A_pj u1[jq + b] times u2 |u2|^3
    z = (u1 * (nkappa * A_sum).unsqueeze(3)).sum(2, keepdim=True)  # (B, 2, 1, q)
    torch.mul(z.mT, wu[:, :, 1].unsqueeze(2), out=Kb[..., k + r :])
    A_heads = torch.cat([A[: 2 * k].view(2, k, N), A[2 * k :].view(2, 2 * r, N)], dim=1)
    Qp = torch.bmm(K.view(2, B * q, k + 2 * r), A_heads)  # (2, B q, H + m)
    A_u2 = A[2 * k :].view(2, 2, r, N)[:, 1]  # (2, r, H + m): the u2 rows of A
    # rows carried through D [W_hh W_hm]: Q as (head, batch, b), then the u2 rows per batch
    n2 = 2 * B * q
    QD = out.new_empty(n2 + 2 * B * r, H)
    torch.mul(Qp[..., :H].view(2, B, q, H), D[:, None, :], out=QD[:n2].view(2, B, q, H))
    torch.mul(A_u2[..., :H], D[:, None, None, :], out=QD[n2:].view(B, 2, r, H))
    T = QD @ W_h
    T[:n2, H:] += Qp.view(n2, N)[:, H:]
    T[n2:].view(B, 2, r, S)[..., H:] += A_u2[..., H:]
    _combine(T, u2, y, J[:, H:])
    J[:, H:, H:].diagonal(dim1=1, dim2=2).add_(1.0)
    if not inputs:
        return J, None
    Fin = model.input_size
    J_x = J.new_empty(B, S, Fin)
    torch.mul(D[:, :, None], Wx, out=J_x[:, :H])
    _combine(QD @ Wx, u2, y, J_x[:, H:])
    return J, J_x


def _combine(T: torch.Tensor, u2: torch.Tensor, y: torch.Tensor, out: torch.Tensor) -> None:
    """Write the memory rows ``sum_p u2[p, c] T2[p, b] + y[p, b] T3[p, c]`` to ``out``.

    ``T`` ``(2 B q + 2 B r, N)`` holds the rows ``T2`` ordered (head, batch, b), then the rows
    ``T3`` ordered (batch, head, c); ``out`` is ``(B, m, N)`` with memory entry ``b r + c``.
    """
    B, _, r = u2.shape
    q, N = y.shape[2], T.shape[1]
    n2 = 2 * B * q
    # the y part, one product per batch row, writes every entry; then the u2 part
    torch.bmm(y.mT, T[n2:].view(B, 2, r * N), out=out.view(B, q, r * N))
    T2 = T[:n2].view(2, B, q, 1, N)
    rows = out.view(B, q, r, N)
    rows.addcmul_(u2[:, 0, None, :, None], T2[0])
    rows.addcmul_(u2[:, 1, None, :, None], T2[1])


def _rank(m: int, k: int) -> int:
    """Rank ``r`` with ``r * r == m * k`` of the memory update, or raise."""
    r = math.isqrt(m * k)
    if r * r != m * k:
        raise InvalidOptionError(
            f"memory_size * heads must be a perfect square, got memory_size={m}, heads={k} "
            f"(product {m * k})"
        )
    return r
