r"""Orthogonal recurrent networks: scoRNN (scaled Cayley) and expRNN (matrix exponential).

Both use :math:`h_t = \operatorname{modReLU}(W h_{t-1} + U x_t)` with an orthogonal ``W``
computed from the strict upper triangle of an unconstrained parameter ``A`` once per forward pass
(or once inside :meth:`~models.base.RecurrentModel.parametrization_cache`), never per time step.
The modReLU bias is initialised uniformly in :math:`[-0.01, 0]`: the expRNN reference draws it in
:math:`[-0.01, 0.01]` and scoRNN sets it to 0; a non-positive start keeps modReLU 1-Lipschitz.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

import torch
from torch import nn

from models import inits
from models._options import READOUT, _choice, _Option
from models.errors import InvalidOptionError
from models.maps import cayley, expm_skew, rotation_blocks, skew
from models.rnn import _ModReLURNN

__all__ = ["ExpRNN", "ScoRNN"]


def _check_rho(name: str, value: Any, sizes: Mapping[str, int]) -> int:
    n = sizes["hidden_size"]
    if value is None:
        return n // 2
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= n:
        raise InvalidOptionError(
            f"rho must be an integer in [0, hidden_size={n}] (number of -1 entries of D), "
            f"got {value!r}"
        )
    return int(value)


class _OrthogonalRNN(_ModReLURNN):
    """Shared parts of scoRNN and expRNN: ``A``, ``U``, ``modrelu_bias``, ``readout``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        H, F = self.hidden_size, self.input_size
        g = self._generator()
        if self._options["init"] == "henaff":
            A0 = self._henaff_skew(H, g)
        else:
            A0 = inits.cayley_skew(H, generator=g)
        self.A = nn.Parameter(torch.triu(A0, diagonal=1))
        self.U = nn.Parameter(self._input_init(H, F, g))
        self._init_modrelu_bias(H, g)
        self.readout = self._make_readout(g)

    @classmethod
    def _cell_shapes(cls, F: int, H: int, options: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
        return {"A": (H, H), "U": (H, F), "modrelu_bias": (H,)}

    def _henaff_skew(self, n: int, g: torch.Generator) -> torch.Tensor:
        return inits.henaff_skew(n, generator=g)

    def _input_init(self, H: int, F: int, g: torch.Generator) -> torch.Tensor:
        raise NotImplementedError

    def skew_matrix(self) -> torch.Tensor:
        r"""Skew-symmetric :math:`A = \operatorname{triu}(X, 1) - \operatorname{triu}(X, 1)^T`.

        Returns
        -------
        (H, H) torch.Tensor
            Detached float32 copy.

        Examples
        --------
        >>> import models, torch
        >>> A = models.build("exprnn", input_size=1, hidden_size=4, output_size=1).skew_matrix()
        >>> bool(torch.equal(A, -A.T))
        True
        """
        with torch.no_grad():
            return skew(self.A.detach()).float().clone()

    def orthogonal_parameters(self) -> list[nn.Parameter]:
        """See :meth:`models.RecurrentModel.orthogonal_parameters`."""
        return [self.A]


class ScoRNN(_OrthogonalRNN):
    r"""scoRNN (Helfrich, Willmott & Ye, 2018): :math:`W = (I + A)^{-1}(I - A) D`.

    ``D`` is a fixed diagonal buffer with ``rho`` entries equal to -1 placed last (default
    ``hidden_size // 2``) and the rest +1. Options: ``rho``, ``init`` (``"cayley"``: blocks
    :math:`-\tan(\theta/2)`, :math:`\theta \sim U[0, \pi/2]`, so the Cayley transform rotates
    by :math:`\theta`; ``"henaff"``: the same with :math:`\theta \sim U[-\pi, \pi]`, kept
    within :math:`10^{-3}` of :math:`\pm\pi`), ``readout``. ``U`` is uniform in
    :math:`[-0.01, 0.01]` as in the scoRNN code.

    Examples
    --------
    >>> import models, torch
    >>> model = models.build("scornn", input_size=1, hidden_size=4, output_size=1, rho=1)
    >>> model.D
    tensor([ 1.,  1.,  1., -1.])
    """

    kind: ClassVar[str] = "scornn"
    OPTIONS: ClassVar[dict[str, _Option]] = {
        "rho": _Option(None, _check_rho),
        "init": _Option("cayley", _choice("cayley", "henaff")),
        "readout": READOUT,
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        H, rho = self.hidden_size, self._options["rho"]
        D = torch.ones(H)
        D[H - rho :] = -1.0
        self.register_buffer("D", D)

    @classmethod
    def _cell_shapes(cls, F: int, H: int, options: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
        return {**super()._cell_shapes(F, H, options), "D": (H,)}

    def _henaff_skew(self, n: int, g: torch.Generator) -> torch.Tensor:
        limit = math.pi - 1e-3
        theta = (2.0 * torch.rand(n // 2, generator=g, dtype=torch.float64) - 1.0) * limit
        return rotation_blocks(-torch.tan(theta / 2), n).float()

    def _input_init(self, H: int, F: int, g: torch.Generator) -> torch.Tensor:
        return 0.02 * torch.rand(H, F, generator=g) - 0.01

    def _compute_recurrent(self) -> torch.Tensor:
        return cayley(skew(self.A), self.D)


class ExpRNN(_OrthogonalRNN):
    r"""expRNN (Lezcano-Casado & Martínez-Rubio, 2019): :math:`W = e^{A}`.

    Options: ``init`` (``"henaff"``, default: rotations by angles uniform in
    :math:`[-\pi, \pi]`; ``"cayley"``: scoRNN's skew matrix pushed through the exponential, so
    angles :math:`\tan(\theta/2) \in [0, 1]`), ``readout``. ``U`` is Kaiming normal
    (standard deviation :math:`\sqrt{2 / F}`) as in the expRNN code.

    Examples
    --------
    >>> import models, torch
    >>> W = models.build("exprnn", input_size=1, hidden_size=4, output_size=1).recurrent_matrix()
    >>> bool(torch.allclose(W.T @ W, torch.eye(4), atol=1e-5))
    True
    """

    kind: ClassVar[str] = "exprnn"
    OPTIONS: ClassVar[dict[str, _Option]] = {
        "init": _Option("henaff", _choice("henaff", "cayley")),
        "readout": READOUT,
    }

    def _input_init(self, H: int, F: int, g: torch.Generator) -> torch.Tensor:
        return math.sqrt(2.0 / F) * torch.randn(H, F, generator=g)

    def _compute_recurrent(self) -> torch.Tensor:
        return expm_skew(skew(self.A))
