r"""Smooth surrogate of modReLU cells for adaptive (BPDA-style) attacks.

modReLU :math:`\mathrm{sign}(z)\,\mathrm{relu}(|z| + b)` jumps by :math:`2b` at :math:`z = 0`
where :math:`b > 0`. The gradient is blind to the jump, so gradient attacks under-estimate how
easily a sample flips (gradient masking). For :math:`b > 0`, modReLU equals
:math:`z + b\,\mathrm{sign}(z)`; the surrogate replaces it by

.. math::

    z + b \tanh(z / \tau),

which tends to modReLU as :math:`\tau \to 0` and whose gradient sees the jump. Units with
:math:`b \le 0` keep the exact (continuous) modReLU. The adaptive attack differentiates the
surrogate with :math:`\tau` annealed geometrically from the median :math:`|z|` on the clean
inputs to 1/100 of it, and counts success on the real model.

The surrogate is rebuilt from ``model.lipschitz_parts()`` (``U``, ``W``, ``V``, modReLU
bias; :math:`h_0 = 0`, :math:`h_t = f(W h_{t-1} + U x_t)`, logits :math:`V h_T + c`) and is
used only when, with the exact modReLU, it reproduces the model's logits on the attacked batch.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from attacks.errors import UnsupportedModelError

__all__ = ["ModReLUSurrogate", "has_modrelu", "modrelu_surrogate"]


def _tensor(value: Any) -> torch.Tensor | None:
    if value is None:
        return None
    return torch.as_tensor(value).detach().to(torch.float64)


def has_modrelu(model: torch.nn.Module, *, positive_bias_only: bool = False) -> bool:
    """Whether ``model`` declares modReLU units through ``lipschitz_parts()``.

    Parameters
    ----------
    model : torch.nn.Module
        Any module.
    positive_bias_only : bool, default False
        Count only units with a positive bias (those that jump at 0).

    Returns
    -------
    bool
        ``True`` for vanilla modReLU cells (scoRNN, expRNN, nnRNN, rnn with modReLU).

    Raises
    ------
    UnsupportedModelError
        When ``model`` is not a :class:`torch.nn.Module`.

    Examples
    --------
    >>> import torch
    >>> has_modrelu(torch.nn.Linear(2, 2))
    False
    """
    if not isinstance(model, torch.nn.Module):
        raise UnsupportedModelError(f"expected a torch.nn.Module, got {type(model).__name__}")
    method = getattr(model, "lipschitz_parts", None)
    if not callable(method):
        return False
    try:
        parts = method()
    except Exception:  # models refuse unsupported kinds with their own exceptions
        return False
    bias = parts.get("modrelu_bias")
    if str(parts.get("nonlinearity")) != "modrelu" or bias is None:
        return False
    return bool((_tensor(bias) > 0).any()) if positive_bias_only else True


class ModReLUSurrogate(torch.nn.Module):
    """Vanilla modReLU classifier rebuilt from its parts, with a smooth activation.

    Parameters
    ----------
    U : (H, F) torch.Tensor
        Input matrix.
    W : (H, H) torch.Tensor
        Recurrent matrix.
    V : (C, H) torch.Tensor
        Readout matrix.
    c : (C,) torch.Tensor
        Readout bias.
    bias : (H,) torch.Tensor
        modReLU bias.
    dtype : torch.dtype
        Dtype of the computation.
    """

    def __init__(
        self,
        U: torch.Tensor,
        W: torch.Tensor,
        V: torch.Tensor,
        c: torch.Tensor,
        bias: torch.Tensor,
        dtype: torch.dtype,
    ) -> None:
        super().__init__()
        self.U, self.W, self.V = U.to(dtype), W.to(dtype), V.to(dtype)
        self.c, self.bias = c.to(dtype), bias.to(dtype)
        self.positive = self.bias > 0

    def forward(self, x: torch.Tensor, tau: float | None = None) -> torch.Tensor:
        """Logits with the surrogate at temperature ``tau`` (exact modReLU for ``None``)."""
        x = x.to(self.U.dtype)
        drive = x @ self.U.T
        h = x.new_zeros(x.shape[0], self.W.shape[0])
        for t in range(x.shape[1]):
            z = drive[:, t] + h @ self.W.T
            exact = torch.sign(z) * torch.relu(z.abs() + self.bias)
            if tau is None:
                h = exact
            else:
                smooth = z + self.bias * torch.tanh(z / tau)
                h = torch.where(self.positive, smooth, exact)
        return h @ self.V.T + self.c

    def preactivation_scale(self, x: torch.Tensor) -> float:
        """Median ``|z|`` over steps, units and samples of ``x`` (exact modReLU)."""
        with torch.no_grad():
            x = x.to(self.U.dtype)
            drive = x @ self.U.T
            h = x.new_zeros(x.shape[0], self.W.shape[0])
            values = []
            for t in range(x.shape[1]):
                z = drive[:, t] + h @ self.W.T
                values.append(z.abs().flatten())
                h = torch.sign(z) * torch.relu(z.abs() + self.bias)
            return float(torch.cat(values).median())


def modrelu_surrogate(
    model: torch.nn.Module, wrapped: torch.nn.Module, x: torch.Tensor, *, steps: int
) -> tuple[ModReLUSurrogate | None, Callable[[int], float] | None, str]:
    """Build the surrogate of a modReLU model and its temperature schedule.

    Parameters
    ----------
    model : torch.nn.Module
        The model with ``lipschitz_parts()``.
    wrapped : torch.nn.Module
        The same model returning ``(B, C)`` logits (attack mode).
    x : (B, T, F) torch.Tensor
        The attacked inputs (used to check the rebuild and scale the temperature).
    steps : int
        Iterations of the attack (length of the schedule).

    Returns
    -------
    surrogate : ModReLUSurrogate or None
        ``None`` when the model has no modReLU units or the rebuild does not reproduce it.
    tau : callable or None
        Temperature at each step.
    note : str
        Why the surrogate is missing, or how well it reproduces the model.

    Examples
    --------
    >>> import torch
    >>> modrelu_surrogate(torch.nn.Linear(2, 2), torch.nn.Linear(2, 2), torch.zeros(1, 1, 2),
    ...                   steps=5)[2]
    'no modReLU units'
    """
    if not has_modrelu(model):
        return None, None, "no modReLU units"
    parts = model.lipschitz_parts()
    U, W, V = _tensor(parts["U"]), _tensor(parts["W"]), _tensor(parts["V"])
    bias = _tensor(parts["modrelu_bias"])
    if U is None or W is None or V is None or bias is None:
        return None, None, "lipschitz_parts() lacks U, W, V or the modReLU bias"
    dtype = x.dtype if x.dtype == torch.float64 else torch.float32
    with torch.no_grad():
        target = wrapped(x).to(torch.float64)
        rebuilt = ModReLUSurrogate(U, W, V, torch.zeros(V.shape[0]), bias, torch.float64)
        try:
            plain = rebuilt(x.to(torch.float64))
        except RuntimeError as exc:
            return None, None, f"could not rebuild the cell from lipschitz_parts(): {exc}"
        c = (target - plain).mean(dim=0)
        error = float((plain + c - target).abs().max())
    scale = 1.0 + float(target.abs().max())
    if not math.isfinite(error) or error > 1e-3 * scale:
        return None, None, f"rebuilt cell differs from the model by {error:.3g} in the logits"
    surrogate = ModReLUSurrogate(U, W, V, c, bias, dtype)
    tau0 = max(surrogate.preactivation_scale(x), 1e-6)
    ratio = 0.01

    def tau(step: int) -> float:
        return tau0 * ratio ** (min(step, steps) / max(steps, 1))

    return surrogate, tau, f"rebuilt cell reproduces the logits within {error:.2g}"
