"""LSTM and GRU classifiers wrapping ``torch.nn.LSTM`` / ``torch.nn.GRU`` (batch first)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

import torch
from torch import nn
from torch.func import functional_call

from models._options import READOUT, _Option, _optional_real
from models._uninitialized import uninitialized
from models.base import RecurrentModel, _uniform_
from models.one_step import _rows

__all__ = ["GRU", "LSTM"]


class _Gated(RecurrentModel):
    """A torch gated layer (``self.rnn``) plus a linear readout."""

    LAYER: ClassVar[type[nn.RNNBase]]
    GATES: ClassVar[tuple[str, ...]]
    OPTIONS: ClassVar[dict[str, _Option]] = {"readout": READOUT}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        g = self._generator()
        self.rnn = uninitialized(self.LAYER, self.input_size, self.hidden_size, batch_first=True)
        bound = 1.0 / math.sqrt(self.hidden_size)
        for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
            _uniform_(getattr(self.rnn, name), bound, g)
        self.readout = self._make_readout(g)

    @classmethod
    def _cell_shapes(cls, F: int, H: int, options: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
        G = len(cls.GATES) * H
        return {
            "rnn.weight_ih_l0": (G, F),
            "rnn.weight_hh_l0": (G, H),
            "rnn.bias_ih_l0": (G,),
            "rnn.bias_hh_l0": (G,),
        }

    def _weight_hh(self) -> torch.Tensor:
        weight = self.rnn.weight_hh_l0
        if self._override is None:
            return weight
        chunks = list(weight.chunk(len(self.GATES), dim=0))
        chunks[self.GATES.index(self.PRINCIPAL)] = self._override
        return torch.cat(chunks, dim=0)

    def _compute_recurrent(self) -> torch.Tensor:
        H = self.hidden_size
        i = self.GATES.index(self.PRINCIPAL)
        return self.rnn.weight_hh_l0[i * H : (i + 1) * H]

    def _blocks(self) -> dict[str, torch.Tensor]:
        return dict(zip(self.GATES, self._weight_hh().chunk(len(self.GATES), dim=0), strict=True))

    def _run(self, x: torch.Tensor, *, all_steps: bool) -> torch.Tensor:
        if self._override is None:
            out, _ = self.rnn(x)
        else:
            out, _ = functional_call(self.rnn, {"weight_hh_l0": self._weight_hh()}, (x,))
        return out if all_steps else out[:, -1]

    def _call_layer(self, x: torch.Tensor, hx: Any) -> tuple[torch.Tensor, Any]:
        if self._override is None:
            return self.rnn(x, hx)
        return functional_call(self.rnn, {"weight_hh_l0": self._weight_hh()}, (x, hx))

    def _weights(self) -> tuple[torch.Tensor, ...]:
        """``(W_ih, W_hh, b_ih, b_hh)`` as used by the forward pass, detached."""
        rnn = self.rnn
        return tuple(
            w.detach()
            for w in (rnn.weight_ih_l0, self._weight_hh(), rnn.bias_ih_l0, rnn.bias_hh_l0)
        )


class LSTM(_Gated):
    r"""LSTM classifier: ``torch.nn.LSTM`` (one layer, batch first) and a linear readout.

    Recurrent blocks are the four chunks of ``weight_hh_l0`` in torch's gate order: ``"i"``,
    ``"f"``, ``"g"`` (the cell update, principal) and ``"o"``. Weights are drawn uniformly in
    :math:`[-1/\sqrt{H}, 1/\sqrt{H}]` (torch's default) from the model's seed. Option
    ``forget_bias`` (default ``None``: torch's draw) starts the forget gate's bias at that value
    (``bias_ih`` set to it, ``bias_hh`` to 0), so that the cell keeps its memory from the start
    (Gers et al., 2000; Jozefowicz et al., 2015 use 1).

    Examples
    --------
    >>> import models, torch
    >>> model = models.build("lstm", input_size=2, hidden_size=3, output_size=4)
    >>> model(torch.zeros(1, 5, 2)).shape
    torch.Size([1, 4])
    """

    kind: ClassVar[str] = "lstm"
    OPTIONS: ClassVar[dict[str, _Option]] = {
        **_Gated.OPTIONS,
        "forget_bias": _Option(None, _optional_real(), "initial forget-gate bias"),
    }
    LAYER: ClassVar[type[nn.RNNBase]] = nn.LSTM
    GATES: ClassVar[tuple[str, ...]] = ("i", "f", "g", "o")
    PRINCIPAL: ClassVar[str] = "g"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        forget_bias = self._options["forget_bias"]
        if forget_bias is not None:
            H = self.hidden_size
            with torch.no_grad():
                self.rnn.bias_ih_l0[H : 2 * H] = forget_bias
                self.rnn.bias_hh_l0[H : 2 * H] = 0.0

    @property
    def state_size(self) -> int:
        """``2H``: the full state is ``[h; c]``."""
        return 2 * self.hidden_size

    def _step(self, state: torch.Tensor, x_t: torch.Tensor) -> torch.Tensor:
        H = self.hidden_size
        h0 = state[:, :H].unsqueeze(0).contiguous()
        c0 = state[:, H:].unsqueeze(0).contiguous()
        _, (h, c) = self._call_layer(x_t.unsqueeze(1), (h0, c0))
        return torch.cat([h[0], c[0]], dim=1)

    def _step_jacobians(
        self, state: torch.Tensor, x_t: torch.Tensor, *, inputs: bool
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        return _lstm_jacobians(state, x_t, *self._weights(), inputs=inputs)


class GRU(_Gated):
    """GRU classifier: ``torch.nn.GRU`` (one layer, batch first) and a linear readout.

    Recurrent blocks are the three chunks of ``weight_hh_l0`` in torch's order: ``"r"`` (reset),
    ``"z"`` (update) and ``"n"`` (candidate, principal).

    Examples
    --------
    >>> import models
    >>> models.build("gru", input_size=2, hidden_size=3, output_size=4).recurrent_matrix().shape
    torch.Size([3, 3])
    """

    kind: ClassVar[str] = "gru"
    LAYER: ClassVar[type[nn.RNNBase]] = nn.GRU
    GATES: ClassVar[tuple[str, ...]] = ("r", "z", "n")
    PRINCIPAL: ClassVar[str] = "n"

    def _step(self, state: torch.Tensor, x_t: torch.Tensor) -> torch.Tensor:
        _, h = self._call_layer(x_t.unsqueeze(1), state.unsqueeze(0).contiguous())
        return h[0]

    def _step_jacobians(
        self, state: torch.Tensor, x_t: torch.Tensor, *, inputs: bool
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        return _gru_jacobians(state, x_t, *self._weights(), inputs=inputs)


def _lstm_jacobians(
    state: torch.Tensor,
    x: torch.Tensor,
    W_ih: torch.Tensor,
    W_hh: torch.Tensor,
    b_ih: torch.Tensor,
    b_hh: torch.Tensor,
    *,
    inputs: bool,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    r"""Jacobians of torch's LSTM step on ``[h; c]``.

    With gates :math:`i, f, o = \sigma(\cdot)`, :math:`g = \tanh(\cdot)`,
    :math:`c' = f c + i g` and :math:`h' = o \tanh(c')`: :math:`\partial c'/\partial c =
    \operatorname{diag}(f)`, :math:`\partial c'/\partial h = \operatorname{diag}(c f(1-f)) W_f
    + \operatorname{diag}(g\, i(1-i)) W_i + \operatorname{diag}(i(1-g^2)) W_g` and
    :math:`\partial h' = \operatorname{diag}(\tanh c'\, o(1-o))\,\partial a_o +
    \operatorname{diag}(o(1-\tanh^2 c'))\,\partial c'`.
    """
    H = W_hh.shape[1]
    h, c = state[:, :H], state[:, H:]
    a = torch.addmm(b_ih, x, W_ih.t()) + torch.addmm(b_hh, h, W_hh.t())
    ai, af, ag, ao = a.chunk(4, dim=1)
    i, f, g, o = torch.sigmoid(ai), torch.sigmoid(af), torch.tanh(ag), torch.sigmoid(ao)
    c_new = f * c + i * g
    tc = torch.tanh(c_new)
    # derivative of c' with respect to the four pre-activations, and of h' with respect to c'
    dc = torch.cat([g * i * (1 - i), c * f * (1 - f), i * (1 - g * g)], dim=1)  # (B, 3H)
    do = tc * o * (1 - o)
    dhc = o * (1 - tc * tc)

    def through(M: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # sums of row-scaled blocks accumulated in place: one (B, H, K) array per result
        Mi, Mf, Mg, Mo = M.chunk(4, dim=0)
        dc_new = _rows(dc[:, :H], Mi)
        dc_new.addcmul_(dc[:, H : 2 * H, None], Mf).addcmul_(dc[:, 2 * H :, None], Mg)
        dh_new = _rows(do, Mo).addcmul_(dhc[:, :, None], dc_new)
        return dh_new, dc_new

    dh_dh, dc_dh = through(W_hh)
    B = state.shape[0]
    J = state.new_zeros(B, 2 * H, 2 * H)
    J[:, :H, :H] = dh_dh
    J[:, H:, :H] = dc_dh
    J[:, :H, H:].diagonal(dim1=1, dim2=2).copy_(dhc * f)  # dh'/dc = diag(o (1 - tanh^2 c') f)
    J[:, H:, H:].diagonal(dim1=1, dim2=2).copy_(f)  # dc'/dc = diag(f)
    if not inputs:
        return J, None
    dh_dx, dc_dx = through(W_ih)
    return J, torch.cat([dh_dx, dc_dx], dim=1)


def _gru_jacobians(
    h: torch.Tensor,
    x: torch.Tensor,
    W_ih: torch.Tensor,
    W_hh: torch.Tensor,
    b_ih: torch.Tensor,
    b_hh: torch.Tensor,
    *,
    inputs: bool,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    r"""Jacobians of torch's GRU step.

    With :math:`r, z = \sigma(\cdot)`, :math:`n = \tanh(a_n + r \odot (W_{hn} h + b_{hn}))`
    and :math:`h' = (1 - z) n + z h`: :math:`\partial h' = \operatorname{diag}(1 - z)\,
    \partial n + \operatorname{diag}(h - n)\,\partial z + \operatorname{diag}(z)\,
    \partial h`.
    """
    gi = torch.addmm(b_ih, x, W_ih.t())
    gh = torch.addmm(b_hh, h, W_hh.t())
    ir, iz, in_ = gi.chunk(3, dim=1)
    hr, hz, hn = gh.chunk(3, dim=1)
    r, z = torch.sigmoid(ir + hr), torch.sigmoid(iz + hz)
    n = torch.tanh(in_ + r * hn)
    dn = 1 - n * n
    d_r = dn * hn * r * (1 - r)  # through the reset gate
    d_z = (h - n) * z * (1 - z)

    W_hr, W_hz, W_hn = W_hh.chunk(3, dim=0)
    # one (B, H, H) array, the other terms accumulated in place
    J = _rows((1 - z) * d_r, W_hr)
    J.addcmul_(((1 - z) * dn * r)[:, :, None], W_hn).addcmul_(d_z[:, :, None], W_hz)
    J.diagonal(dim1=1, dim2=2).add_(z)
    if not inputs:
        return J, None
    W_ir, W_iz, W_in = W_ih.chunk(3, dim=0)
    J_x = _rows((1 - z) * d_r, W_ir) + _rows((1 - z) * dn, W_in) + _rows(d_z, W_iz)
    return J, J_x
