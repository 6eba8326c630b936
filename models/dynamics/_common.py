"""Shared helpers of :mod:`models.dynamics`: input checks and a frozen, float64 view of a model."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import torch

from models.errors import InputShapeError, UnsupportedModelError


class Dynamical(Protocol):
    """What :mod:`models.dynamics` needs of a model (every kind, and :class:`TorchStack`)."""

    input_size: int
    hidden_size: int

    @property
    def state_size(self) -> int: ...

    def initial_state(self, batch_size: int) -> torch.Tensor: ...

    def step(self, state: torch.Tensor, x_t: torch.Tensor) -> torch.Tensor: ...

    def step_jacobian(self, state: torch.Tensor, x_t: torch.Tensor) -> torch.Tensor: ...


def check_model(model: Any) -> None:
    """Raise :class:`UnsupportedModelError` unless ``model`` has a one-step map."""
    for name in ("state_size", "initial_state", "step", "step_jacobian", "input_size"):
        if not hasattr(model, name):
            raise UnsupportedModelError(
                f"expected a model with a one-step map (models.build or "
                f"models.dynamics.from_torch), got {type(model).__name__}"
            )


def as_float64(model: Any) -> Any:
    """Return a float64 copy of ``model`` in eval mode (the original is left untouched)."""
    clone = copy.deepcopy(model)
    clone.double()
    for module in clone.modules():  # an active override_recurrent matrix is not a buffer
        if getattr(module, "_override", None) is not None:
            module._override = module._override.double()
    clone.eval()
    for p in clone.parameters():
        p.requires_grad_(False)
    return clone


@contextmanager
def frozen(model: Any) -> Iterator[None]:
    """Compute a parametrised recurrent matrix once (outside any ``torch.func`` transform)."""
    cache = getattr(model, "parametrization_cache", None)
    if cache is None:
        yield
        return
    with cache():
        with torch.no_grad():
            if hasattr(model, "recurrent_weight"):
                model.recurrent_weight()
        yield


def check_inputs(model: Any, x: Any, *, name: str = "x") -> torch.Tensor:
    """``x`` as a float64 ``(B, T, F)`` tensor, or raise :class:`InputShapeError`."""
    F = model.input_size
    if not isinstance(x, torch.Tensor) or x.dim() != 3 or x.shape[-1] != F:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise InputShapeError(f"expected {name} of shape (batch, time, {F}), got {shape}")
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise InputShapeError(f"expected a non-empty {name}, got shape {tuple(x.shape)}")
    if not x.dtype.is_floating_point:
        raise InputShapeError(f"expected floating-point {name}, got dtype {x.dtype}")
    x = x.detach().to(torch.float64)
    if not bool(torch.isfinite(x).all()):
        raise InputShapeError(f"{name} has NaN or infinite entries")
    return x


def check_state0(model: Any, state0: Any, batch: int) -> torch.Tensor:
    """Return initial full states ``(B, S)`` in float64 (zeros when ``state0`` is None)."""
    S = model.state_size
    if state0 is None:
        return torch.zeros(batch, S, dtype=torch.float64)
    if not isinstance(state0, torch.Tensor) or tuple(state0.shape) not in ((batch, S), (S,)):
        shape = tuple(state0.shape) if isinstance(state0, torch.Tensor) else type(state0).__name__
        raise InputShapeError(f"expected state0 of shape ({batch}, {S}) or ({S},), got {shape}")
    state0 = state0.detach().to(torch.float64)
    return state0.expand(batch, S).clone() if state0.dim() == 1 else state0.clone()
