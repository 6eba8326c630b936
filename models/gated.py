"""LSTM and GRU classifiers wrapping ``torch.nn.LSTM`` / ``torch.nn.GRU`` (batch first)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

import torch
from torch import nn
from torch.func import functional_call

from models._options import READOUT, _Option
from models.base import RecurrentModel, _uniform_

__all__ = ["GRU", "LSTM"]


class _Gated(RecurrentModel):
    """A torch gated layer (``self.rnn``) plus a linear readout."""

    LAYER: ClassVar[type[nn.RNNBase]]
    GATES: ClassVar[tuple[str, ...]]
    OPTIONS: ClassVar[dict[str, _Option]] = {"readout": READOUT}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        g = self._generator()
        layer = self.LAYER(self.input_size, self.hidden_size, batch_first=True, device="meta")
        self.rnn = layer.to_empty(device="cpu")
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


class LSTM(_Gated):
    r"""LSTM classifier: ``torch.nn.LSTM`` (one layer, batch first) and a linear readout.

    Recurrent blocks are the four chunks of ``weight_hh_l0`` in torch's gate order: ``"i"``,
    ``"f"``, ``"g"`` (the cell update, principal) and ``"o"``. Weights are drawn uniformly in
    :math:`[-1/\sqrt{H}, 1/\sqrt{H}]` (torch's default) from the model's seed.

    Examples
    --------
    >>> import models, torch
    >>> model = models.build("lstm", input_size=2, hidden_size=3, output_size=4)
    >>> model(torch.zeros(1, 5, 2)).shape
    torch.Size([1, 4])
    """

    kind: ClassVar[str] = "lstm"
    LAYER: ClassVar[type[nn.RNNBase]] = nn.LSTM
    GATES: ClassVar[tuple[str, ...]] = ("i", "f", "g", "o")
    PRINCIPAL: ClassVar[str] = "g"


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
