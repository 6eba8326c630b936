"""nnRNN (Kerg et al., 2019): a recurrent matrix learned in real Schur coordinates."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

import torch
from torch import nn

from models._options import READOUT, _choice, _Option
from models.maps import expm_skew, skew
from models.rnn import _ModReLURNN

__all__ = ["NNRNN"]


def _schur_layout(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Block ids of the 2×2 diagonal blocks and the mask of the strictly lower part below them."""
    block = torch.arange(n) // 2
    mask = block[:, None] > block[None, :]
    return block, mask


class NNRNN(_ModReLURNN):
    r"""Non-normal RNN (nnRNN): :math:`W = P (\Gamma + T) P^T` learned in Schur coordinates.

    The hidden update is :math:`h_t = \operatorname{modReLU}(W h_{t-1} + U x_t)` and:

    - :math:`P = e^{\operatorname{skew}(\log P)}` is orthogonal (parameter ``log_P``, only its
      strict upper triangle is used; initialised to 0, so :math:`P = I` at the start).
    - :math:`\Gamma` is block diagonal with blocks
      :math:`\gamma_i \begin{pmatrix}\cos\theta_i & -\sin\theta_i \\ \sin\theta_i &
      \cos\theta_i\end{pmatrix}` (parameters ``gamma``, initialised to 1, and ``theta``); for an
      odd size the last block is the 1×1 entry ``gamma[-1]``.
    - :math:`T` is strictly lower triangular below the 2×2 blocks (parameter ``T``, initialised to
      0; entries inside the blocks and above are ignored), so :math:`\Gamma + T` is a real Schur
      form in the column convention and the eigenvalues of ``W`` are
      :math:`\gamma_i e^{\pm i \theta_i}`.

    Options: ``init`` (``"cayley"``: :math:`\theta \sim U[0, \pi/2]`, or ``"henaff"``:
    :math:`U[-\pi, \pi]`), ``readout``. ``U`` is Kaiming normal and the modReLU bias uniform in
    :math:`[-0.01, 0]`, as for expRNN.

    Examples
    --------
    >>> import models, torch
    >>> model = models.build("nnrnn", input_size=1, hidden_size=4, output_size=1)
    >>> W = model.recurrent_matrix()
    >>> bool(torch.allclose(W.T @ W, torch.eye(4), atol=1e-6))
    True
    """

    kind: ClassVar[str] = "nnrnn"
    OPTIONS: ClassVar[dict[str, _Option]] = {
        "init": _Option("cayley", _choice("cayley", "henaff")),
        "readout": READOUT,
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        H, F = self.hidden_size, self.input_size
        g = self._generator()
        u = torch.rand(H // 2, generator=g)
        if self._options["init"] == "henaff":
            theta = (2.0 * u - 1.0) * math.pi
        else:
            theta = u * (math.pi / 2)
        self.log_P = nn.Parameter(torch.zeros(H, H))
        self.gamma = nn.Parameter(torch.ones((H + 1) // 2))
        self.theta = nn.Parameter(theta)
        self.T = nn.Parameter(torch.zeros(H, H))
        self.U = nn.Parameter(math.sqrt(2.0 / F) * torch.randn(H, F, generator=g))
        self._init_modrelu_bias(H, g)
        self.readout = self._make_readout(g)
        _, mask = _schur_layout(H)
        self.register_buffer("_lower_mask", mask.float(), persistent=False)

    @classmethod
    def _cell_shapes(cls, F: int, H: int, options: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
        return {
            "log_P": (H, H),
            "gamma": ((H + 1) // 2,),
            "theta": (H // 2,),
            "T": (H, H),
            "U": (H, F),
            "modrelu_bias": (H,),
        }

    def orthogonal_parameters(self) -> list[nn.Parameter]:
        """See :meth:`models.RecurrentModel.orthogonal_parameters`."""
        return [self.log_P]

    def schur_factors(self) -> dict[str, torch.Tensor]:
        r"""Factors of :math:`W = P (\Gamma + T) P^T`.

        Returns
        -------
        dict of str to (H, H) torch.Tensor
            ``{"P", "Gamma", "T"}``, detached float32 copies (``T`` already masked).

        Examples
        --------
        >>> import models
        >>> model = models.build("nnrnn", input_size=1, hidden_size=4, output_size=1)
        >>> sorted(model.schur_factors())
        ['Gamma', 'P', 'T']
        """
        with torch.no_grad():
            P, Gamma, T = self._factors()
            return {"P": P.float().clone(), "Gamma": Gamma.float().clone(), "T": T.float().clone()}

    def _gamma_matrix(self) -> torch.Tensor:
        H = self.hidden_size
        k = H // 2
        c, s = torch.cos(self.theta), torch.sin(self.theta)
        g = self.gamma[:k]
        idx = 2 * torch.arange(k, device=self.theta.device)
        rows = torch.cat([idx, idx, idx + 1, idx + 1])
        cols = torch.cat([idx, idx + 1, idx, idx + 1])
        values = torch.cat([g * c, -g * s, g * s, g * c])
        if H % 2:
            last = torch.tensor([H - 1], device=self.theta.device)
            rows, cols = torch.cat([rows, last]), torch.cat([cols, last])
            values = torch.cat([values, self.gamma[k:]])
        Gamma = torch.zeros(H, H, dtype=values.dtype, device=values.device)
        return Gamma.index_put((rows, cols), values)

    def _factors(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        P = expm_skew(skew(self.log_P))
        return P, self._gamma_matrix(), self.T * self._lower_mask

    def _compute_recurrent(self) -> torch.Tensor:
        P, Gamma, T = self._factors()
        return P @ (Gamma + T) @ P.T
