"""Vanilla recurrent network :math:`h_t = f(W h_{t-1} + U x_t + b)` with named initialisations."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

import torch
from torch import nn

from models import inits
from models._options import READOUT, _choice, _Option, _real
from models.activations import NONLINEARITIES, activation
from models.base import RecurrentModel, _detached, _uniform_
from models.scan import recurrence

__all__ = ["INITS", "RNN"]

INITS: tuple[str, ...] = (
    "orthogonal",
    "identity",
    "chain",
    "fbchain",
    "henaff",
    "cayley",
    "glorot",
)


class RNN(RecurrentModel):
    r"""Vanilla RNN :math:`h_t = f(W h_{t-1} + U x_t + b)`, logits :math:`V h_t + c`.

    Build it with ``models.build("rnn", ...)``. Options:

    - ``nonlinearity``: ``tanh`` (default), ``relu``, ``elu`` or ``modrelu``
      (:math:`\operatorname{sign}(z)\operatorname{relu}(|z| + b_m)`, bias initialised to 0).
    - ``init``: initial ``W`` and ``U``. ``orthogonal`` (default, :math:`\lambda Q`, Q Haar),
      ``identity`` (:math:`\lambda I`), ``henaff`` / ``cayley`` (:math:`\lambda` times block
      rotations by angles in :math:`[-\pi, \pi]` / :math:`[0, \pi/2]`), ``glorot`` (normal with
      standard deviation :math:`\lambda / \sqrt{H}`): ``U`` normal with standard deviation
      :math:`0.9 / \sqrt{H}` (Orhan & Pitkow) or Glorot for ``glorot``.
      ``chain`` (:math:`W_{ij} = \alpha \delta_{j,i-1}`) and ``fbchain`` (plus
      :math:`\beta \delta_{j,i+1}`): ``U = 0.9 I`` (input j drives unit j).
    - ``scale`` (:math:`\lambda`, default 1), ``alpha`` (default 1), ``beta`` (default 0.05).
    - ``constrain``: ``None``, ``"radius"`` (after every optimizer step, divide ``W`` by its
      spectral radius when that exceeds 1; eigenvalues computed exactly in float64: the
      projection leaves several eigenvalues on the unit circle, where no power iteration
      converges, and :func:`spectra.power_method` then costs several times a training step;
      ``rnnscope analyze`` reports the power-method estimate beside the exact radius) or
      ``"norm"`` (clip singular values at 1: the Euclidean projection onto the unit
      spectral-norm ball).
    - ``readout``: ``"last"`` or ``"all"``.

    Parameters are ``W`` (H, H), ``U`` (H, F), ``bias`` (H,), ``modrelu_bias`` (H,) for modReLU,
    and ``readout`` (a linear layer).

    Examples
    --------
    >>> import models, torch
    >>> model = models.build("rnn", input_size=1, hidden_size=4, output_size=2, init="chain")
    >>> model.recurrent_matrix()[1, 0].item()
    1.0
    """

    kind: ClassVar[str] = "rnn"
    OPTIONS: ClassVar[dict[str, _Option]] = {
        "nonlinearity": _Option("tanh", _choice(*NONLINEARITIES)),
        "init": _Option("orthogonal", _choice(*INITS)),
        "scale": _Option(1.0, _real()),
        "alpha": _Option(1.0, _real()),
        "beta": _Option(0.05, _real()),
        "constrain": _Option(None, _choice(None, "radius", "norm")),
        "readout": READOUT,
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        o = self._options
        H, F = self.hidden_size, self.input_size
        g = self._generator()
        W, U = _initial(o["init"], H, F, scale=o["scale"], alpha=o["alpha"], beta=o["beta"], g=g)
        self.W = nn.Parameter(W)
        self.U = nn.Parameter(U)
        self.bias = nn.Parameter(torch.zeros(H))
        self.nonlinearity: str = o["nonlinearity"]
        if self.nonlinearity == "modrelu":
            self.modrelu_bias = nn.Parameter(torch.zeros(H))
        else:
            self.register_parameter("modrelu_bias", None)
        self.constrain: str | None = o["constrain"]
        self.readout = self._make_readout(g)

    @classmethod
    def _cell_shapes(cls, F: int, H: int, options: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
        shapes: dict[str, tuple[int, ...]] = {"W": (H, H), "U": (H, F), "bias": (H,)}
        if options.get("nonlinearity") == "modrelu":
            shapes["modrelu_bias"] = (H,)
        return shapes

    def _compute_recurrent(self) -> torch.Tensor:
        return self.W

    def _run(self, x: torch.Tensor, *, all_steps: bool) -> torch.Tensor:
        z = _drive(x, self.U, self.bias)
        hs = recurrence(z, self.recurrent_weight(), self.nonlinearity, self.modrelu_bias)
        return hs.transpose(0, 1) if all_steps else hs[-1]

    def _step(self, state: torch.Tensor, x_t: torch.Tensor) -> torch.Tensor:
        a = _preactivation(state, x_t, self.recurrent_weight(), self.U, self.bias)
        return _activate(a, self.nonlinearity, self.modrelu_bias)

    def _jacobian_factors(
        self, state: torch.Tensor, x_t: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return _vanilla_factors(self, state, x_t, self.bias, self.nonlinearity)[1:]

    def _step_with_factors(
        self, state: torch.Tensor, x_t: torch.Tensor
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        new, d, W = _vanilla_factors(self, state, x_t, self.bias, self.nonlinearity, step=True)
        return new, (d, W)

    def _step_jacobians(
        self, state: torch.Tensor, x_t: torch.Tensor, *, inputs: bool
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        return _vanilla_jacobians(*self._jacobian_factors(state, x_t), self.U, inputs=inputs)

    def after_step(self) -> None:
        """Project ``W`` onto the unit disk (``constrain="radius"``) or norm ball (``"norm"``).

        Examples
        --------
        >>> import models, torch
        >>> model = models.build("rnn", input_size=1, hidden_size=4, output_size=1,
        ...                      init="identity", scale=2.0, constrain="norm")
        >>> model.after_step()
        >>> bool(torch.linalg.matrix_norm(model.W.detach(), 2) <= 1 + 1e-6)
        True
        """
        if self.constrain is None:
            return
        with torch.no_grad():
            W = self.W.detach().double()
            if not bool(torch.isfinite(W).all()):
                return  # diverged: leave it to the training loop to report, not to LAPACK
            if self.constrain == "radius":
                rho = torch.linalg.eigvals(W).abs().max()
                if rho > 1.0:
                    self.W.copy_((W / rho).to(self.W.dtype))
            else:
                U, S, Vh = torch.linalg.svd(W)
                if S[0] > 1.0:
                    self.W.copy_(((U * S.clamp(max=1.0)) @ Vh).to(self.W.dtype))

    def lipschitz_parts(self) -> dict[str, Any]:
        """See :meth:`models.RecurrentModel.lipschitz_parts`."""
        return _vanilla_parts(self, self.nonlinearity, self.modrelu_bias)


class _ModReLURNN(RecurrentModel):
    r"""Vanilla modReLU cell :math:`h_t = \operatorname{modReLU}(W h_{t-1} + U x_t)`, no input bias.

    Shared by scoRNN, expRNN and nnRNN, which differ only in how ``W`` is computed.
    """

    U: nn.Parameter
    modrelu_bias: nn.Parameter

    def _init_modrelu_bias(self, H: int, g: torch.Generator) -> None:
        """Draw the modReLU bias uniformly in [-0.01, 0]: a 1-Lipschitz start."""
        self.modrelu_bias = nn.Parameter(torch.empty(H))
        _uniform_(self.modrelu_bias, 0.005, g)
        with torch.no_grad():
            self.modrelu_bias.sub_(0.005)

    def _run(self, x: torch.Tensor, *, all_steps: bool) -> torch.Tensor:
        z = _drive(x, self.U, None)
        hs = recurrence(z, self.recurrent_weight(), "modrelu", self.modrelu_bias)
        return hs.transpose(0, 1) if all_steps else hs[-1]

    def lipschitz_parts(self) -> dict[str, Any]:
        """See :meth:`models.RecurrentModel.lipschitz_parts`."""
        return _vanilla_parts(self, "modrelu", self.modrelu_bias)

    def _step(self, state: torch.Tensor, x_t: torch.Tensor) -> torch.Tensor:
        a = _preactivation(state, x_t, self.recurrent_weight(), self.U, None)
        return _activate(a, "modrelu", self.modrelu_bias)

    def _jacobian_factors(
        self, state: torch.Tensor, x_t: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return _vanilla_factors(self, state, x_t, None, "modrelu")[1:]

    def _step_with_factors(
        self, state: torch.Tensor, x_t: torch.Tensor
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        new, d, W = _vanilla_factors(self, state, x_t, None, "modrelu", step=True)
        return new, (d, W)

    def _step_jacobians(
        self, state: torch.Tensor, x_t: torch.Tensor, *, inputs: bool
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        return _vanilla_jacobians(*self._jacobian_factors(state, x_t), self.U, inputs=inputs)


def _vanilla_parts(
    model: RecurrentModel, nonlinearity: str, modrelu_bias: torch.Tensor | None
) -> dict[str, Any]:
    """Detached float32 ``U``, ``W``, ``V`` and the nonlinearity of a vanilla cell."""
    with torch.no_grad():
        return {
            "U": _detached(model.U),
            "W": _detached(model.recurrent_weight()),
            "V": _detached(model.readout.weight),
            "nonlinearity": nonlinearity,
            "modrelu_bias": None if modrelu_bias is None else _detached(modrelu_bias),
        }


def _preactivation(
    state: torch.Tensor,
    x_t: torch.Tensor,
    W: torch.Tensor,
    U: torch.Tensor,
    bias: torch.Tensor | None,
) -> torch.Tensor:
    """Return ``W h + U x + b`` with the same products, in the same order, as the scan."""
    z = x_t @ U.t() if bias is None else torch.addmm(bias, x_t, U.t())
    return torch.addmm(z, state, W.t())


def _activate(
    a: torch.Tensor, nonlinearity: str, modrelu_bias: torch.Tensor | None
) -> torch.Tensor:
    """Apply the cell's activation out of place (same values as the scan's in-place one)."""
    if nonlinearity == "modrelu":
        s = torch.sign(a.detach())
        return torch.addcmul(modrelu_bias, s, a).clamp(min=0) * s
    return activation(nonlinearity)(a)


def _slope(a: torch.Tensor, nonlinearity: str, modrelu_bias: torch.Tensor | None) -> torch.Tensor:
    """Return the derivative of the activation at ``a`` (1 where modReLU is active)."""
    if nonlinearity == "tanh":
        return 1.0 - torch.tanh(a) ** 2
    if nonlinearity == "relu":
        return (a > 0).to(a.dtype)
    if nonlinearity == "elu":
        return torch.where(a > 0, torch.ones_like(a), torch.exp(a))
    s = torch.sign(a)
    return ((s != 0) & (s * a + modrelu_bias > 0)).to(a.dtype)


def _vanilla_factors(
    model: RNN | _ModReLURNN,
    state: torch.Tensor,
    x_t: torch.Tensor,
    bias: torch.Tensor | None,
    nonlinearity: str,
    *,
    step: bool = False,
) -> tuple[Any, torch.Tensor, torch.Tensor]:
    """Return the next state (if ``step``, else ``None``), slopes ``d`` and ``W`` of diag(d) W.

    One pre-activation serves both; ``d`` and ``W`` are detached.
    """
    W = model.recurrent_weight()
    a = _preactivation(state, x_t, W, model.U, bias)
    new = _activate(a, nonlinearity, model.modrelu_bias) if step else None
    return new, _slope(a, nonlinearity, model.modrelu_bias).detach(), W.detach()


def _vanilla_jacobians(
    d: torch.Tensor, W: torch.Tensor, U: torch.Tensor, *, inputs: bool
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``diag(d) W`` and ``diag(d) U`` per batch row (``d`` and ``W`` detached)."""
    J = d[:, :, None] * W[None]
    return J, (d[:, :, None] * U.detach()[None]) if inputs else None


def _drive(x: torch.Tensor, U: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """Input drive ``U x_t (+ b)`` of every step in one product, time first: ``(T, B, H)``."""
    B, T, F = x.shape
    xt = x.transpose(0, 1).reshape(T * B, F)
    z = xt @ U.t() if bias is None else torch.addmm(bias, xt, U.t())
    return z.view(T, B, -1)


def _initial(
    init: str, H: int, F: int, *, scale: float, alpha: float, beta: float, g: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return the initial ``(W, U)`` of the named initialisation."""
    if init in ("chain", "fbchain"):
        W = (
            inits.chain(H, alpha=alpha)
            if init == "chain"
            else inits.fbchain(H, alpha=alpha, beta=beta)
        )
        return W, inits.chain_input(H, F)
    if init == "glorot":
        W = inits.glorot(H, scale=scale, generator=g)
        return W, inits.glorot(H, F, generator=g)
    if init == "identity":
        W = inits.identity(H, scale=scale)
    elif init == "orthogonal":
        W = inits.orthogonal(H, scale=scale, generator=g)
    elif init == "henaff":
        W = inits.henaff(H, scale=scale, generator=g)
    else:
        W = inits.cayley(H, scale=scale, generator=g)
    U = (0.9 / math.sqrt(H)) * torch.randn(H, F, generator=g)
    return W, U
