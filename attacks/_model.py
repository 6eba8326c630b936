"""Model handling shared by every attack: input conversion, logits and attack mode.

Attacks treat a model as a black box mapping ``(B, T, F)`` inputs to logits
``(B, C)``; per-step outputs ``(B, T, C)`` are reduced to the last step. While
an attack runs, :func:`attack_mode` puts the model in evaluation mode, freezes
its parameters, enters its parametrization cache and restores all of it on exit.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from attacks.errors import AttackInputError, UnsupportedModelError

__all__ = [
    "Batch",
    "LastStep",
    "attack_mode",
    "check_bounds",
    "check_in_bounds",
    "check_labels_match",
    "check_model",
    "clean_correct",
    "logits_of",
    "model_device_dtype",
    "prepare",
    "reseed",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Batch:
    """Validated inputs and labels on the model's device.

    Attributes
    ----------
    x : (B, T, F) torch.Tensor
        Inputs in the model's floating dtype.
    y : (B,) torch.Tensor
        Labels as ``int64``.
    """

    x: torch.Tensor
    y: torch.Tensor

    @property
    def n(self) -> int:
        """Number of samples ``B``."""
        return int(self.x.shape[0])

    @property
    def dim(self) -> int:
        """Input dimension ``T * F`` of one sequence."""
        return int(self.x.shape[1] * self.x.shape[2])


class LastStep(torch.nn.Module):
    """Wrap a sequence model so that it returns the logits of the last step.

    Parameters
    ----------
    model : torch.nn.Module
        Maps ``(B, T, F)`` to ``(B, C)`` or ``(B, T, C)`` logits.

    Raises
    ------
    UnsupportedModelError
        When the model returns something other than a 2-D or 3-D tensor.

    Examples
    --------
    >>> import torch
    >>> net = LastStep(torch.nn.Linear(3, 2))
    >>> net(torch.zeros(4, 5, 3)).shape
    torch.Size([4, 2])
    """

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``(B, C)`` logits for ``(B, T, F)`` inputs."""
        out = self.model(x)
        if not isinstance(out, torch.Tensor):
            raise UnsupportedModelError(
                f"expected the model {type(self.model).__name__} to return a logits tensor, "
                f"got {type(out).__name__}; wrap it so that forward returns logits"
            )
        if out.dim() == 3:
            return out[:, -1]
        if out.dim() != 2:
            raise UnsupportedModelError(
                f"expected logits of shape (B, C) or (B, T, C) from "
                f"{type(self.model).__name__}, got shape {tuple(out.shape)}"
            )
        return out


def check_model(model: Any) -> torch.nn.Module:
    """Return ``model`` if it is a :class:`torch.nn.Module`.

    Parameters
    ----------
    model : object
        Candidate model.

    Returns
    -------
    torch.nn.Module
        The same object.

    Raises
    ------
    UnsupportedModelError
        When ``model`` is not a torch module.

    Examples
    --------
    >>> import torch
    >>> check_model(torch.nn.Identity())
    Identity()
    """
    if not isinstance(model, torch.nn.Module):
        raise UnsupportedModelError(
            f"expected a torch.nn.Module mapping (B, T, F) to logits, got {type(model).__name__}"
        )
    return model


def model_device_dtype(model: torch.nn.Module) -> tuple[torch.device, torch.dtype]:
    """Device and floating dtype of a model's first parameter (or buffer).

    Parameters
    ----------
    model : torch.nn.Module
        Any module.

    Returns
    -------
    device : torch.device
        ``cpu`` when the module holds no tensors.
    dtype : torch.dtype
        The first floating parameter's dtype, else the default dtype.

    Examples
    --------
    >>> import torch
    >>> model_device_dtype(torch.nn.Linear(2, 2).double())
    (device(type='cpu'), torch.float64)
    """
    tensors = [*model.parameters(), *model.buffers()]
    device = tensors[0].device if tensors else torch.device("cpu")
    dtype = next((t.dtype for t in tensors if t.is_floating_point()), torch.get_default_dtype())
    return device, dtype


def check_bounds(bounds: Any) -> tuple[float, float]:
    """Validate input bounds ``(lo, hi)``.

    Parameters
    ----------
    bounds : tuple of two floats
        Finite lower and upper bound with ``lo < hi``.

    Returns
    -------
    tuple of float
        ``(lo, hi)`` as Python floats.

    Raises
    ------
    AttackInputError
        When the bounds are not two finite numbers with ``lo < hi``.

    Examples
    --------
    >>> check_bounds((0, 1))
    (0.0, 1.0)
    """
    try:
        lo, hi = (float(b) for b in bounds)
    except (TypeError, ValueError):
        raise AttackInputError(f"expected bounds as two numbers (lo, hi), got {bounds!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise AttackInputError(f"expected finite bounds with lo < hi, got ({lo}, {hi})")
    return lo, hi


def _as_tensor(value: Any, name: str) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value.detach()
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise AttackInputError(f"could not convert {name} to an array: {exc}") from None
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_
    ):
        raise AttackInputError(f"expected numeric {name}, got an array of dtype {array.dtype}")
    return torch.from_numpy(np.ascontiguousarray(array))


def prepare(model: torch.nn.Module, x: Any, y: Any) -> Batch:
    """Convert and check inputs and labels for ``model``.

    numpy arrays and lists become tensors, inputs take the model's floating dtype
    and device, and labels become ``int64``.

    Parameters
    ----------
    model : torch.nn.Module
        The model that will be attacked.
    x : (B, T, F) array_like
        Input sequences.
    y : (B,) array_like of int
        Class labels.

    Returns
    -------
    Batch
        The converted tensors.

    Raises
    ------
    AttackInputError
        When ``x`` is not 3-D, empty or non-finite, or ``y`` is not a 1-D integer
        array of length ``B``.

    Examples
    --------
    >>> import numpy as np, torch
    >>> b = prepare(torch.nn.Linear(3, 2), np.zeros((4, 5, 3)), np.zeros(4, dtype=np.int32))
    >>> b.x.dtype, b.y.dtype
    (torch.float32, torch.int64)
    """
    device, dtype = model_device_dtype(model)
    xt = _as_tensor(x, "x")
    if xt.dim() != 3:
        raise AttackInputError(
            f"expected x with 3 dimensions (B, T, F), got shape {tuple(xt.shape)}"
        )
    if xt.numel() == 0:
        raise AttackInputError(f"expected a non-empty x, got shape {tuple(xt.shape)}")
    if xt.is_complex():
        raise AttackInputError(f"expected real inputs, got dtype {xt.dtype}")
    xt = xt.to(device=device, dtype=dtype)
    if not bool(torch.isfinite(xt).all()):
        raise AttackInputError("x contains NaN or infinite values")
    yt = _as_tensor(y, "y")
    if yt.is_floating_point() or yt.is_complex() or yt.dtype == torch.bool:
        raise AttackInputError(f"expected integer class labels, got dtype {yt.dtype}")
    if yt.dim() != 1 or yt.shape[0] != xt.shape[0]:
        raise AttackInputError(
            f"expected labels of shape ({xt.shape[0]},) to match the batch of x "
            f"{tuple(xt.shape)}, got shape {tuple(yt.shape)}"
        )
    return Batch(x=xt.contiguous(), y=yt.to(device=device, dtype=torch.int64))


def check_in_bounds(x: torch.Tensor, bounds: tuple[float, float]) -> None:
    """Raise unless every entry of ``x`` lies in ``[lo, hi]``.

    Parameters
    ----------
    x : torch.Tensor
        Inputs.
    bounds : tuple of float
        ``(lo, hi)``.

    Raises
    ------
    AttackInputError
        Naming the smallest and largest entry when one lies outside.

    Examples
    --------
    >>> import torch
    >>> check_in_bounds(torch.full((1, 2, 2), 0.5), (0.0, 1.0))
    """
    lo, hi = bounds
    xmin, xmax = float(x.min()), float(x.max())
    if xmin < lo or xmax > hi:
        raise AttackInputError(
            f"inputs must lie within bounds [{lo}, {hi}], got values in [{xmin}, {xmax}]; "
            "pass the data's bounds=(lo, hi)"
        )


def check_labels_match(y: torch.Tensor, n_classes: int) -> None:
    """Raise unless every label indexes one of ``n_classes`` logits.

    Parameters
    ----------
    y : (B,) torch.Tensor
        Integer labels.
    n_classes : int
        Number of logits ``C`` the model returns.

    Raises
    ------
    AttackInputError
        When a label is negative or ``>= n_classes``, or the model has fewer than
        two classes.

    Examples
    --------
    >>> import torch
    >>> check_labels_match(torch.tensor([0, 2]), 3)
    """
    if n_classes < 2:
        raise AttackInputError(f"expected a classifier with at least 2 logits, got {n_classes}")
    lo, hi = int(y.min()), int(y.max())
    if lo < 0 or hi >= n_classes:
        raise AttackInputError(
            f"labels must lie in [0, {n_classes - 1}] for a model with {n_classes} classes, "
            f"got labels in [{lo}, {hi}]"
        )


def reseed(device: torch.device, seed: int) -> None:
    """Seed the global generator that draws random tensors on ``device``.

    Parameters
    ----------
    device : torch.device
        Device of the model.
    seed : int
        Seed.

    Examples
    --------
    >>> import torch
    >>> reseed(torch.device("cpu"), 0)
    """
    torch.random.default_generator.manual_seed(seed)
    if device.type == "cuda":
        with torch.cuda.device(device):
            torch.cuda.manual_seed(seed)


@contextlib.contextmanager
def attack_mode(model: torch.nn.Module, *, seed: int | None = None) -> Iterator[LastStep]:
    """Prepare ``model`` for attacks and restore it afterwards.

    Inside the context every submodule is in evaluation mode, every parameter
    has ``requires_grad=False`` (so input-gradient computations never fill
    ``.grad``), ``torch.nn.utils.parametrize.cached()`` and the model's own
    ``parametrization_cache()`` (if it has one) are active, and cuDNN is off for
    CUDA models (cuDNN RNNs cannot back-propagate in evaluation mode). With a
    ``seed``, the global torch generators are forked and seeded, so the caller's
    random state is unchanged afterwards. On exit, training flags and
    ``requires_grad`` flags are restored exactly.

    Parameters
    ----------
    model : torch.nn.Module
        The model to attack.
    seed : int, optional
        Seed for the random draws inside the context.

    Yields
    ------
    LastStep
        The model wrapped to return ``(B, C)`` logits.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Linear(3, 2)
    >>> with attack_mode(net) as wrapped:
    ...     wrapped.model.weight.requires_grad
    False
    >>> net.weight.requires_grad, net.training
    (True, True)
    """
    flags = [(module, module.training) for module in model.modules()]
    grads = [(param, param.requires_grad) for param in model.parameters()]
    device, _ = model_device_dtype(model)
    try:
        model.eval()
        for param, _ in grads:
            param.requires_grad_(False)
        with contextlib.ExitStack() as stack:
            if seed is not None:
                devices = [device.index or 0] if device.type == "cuda" else []
                stack.enter_context(torch.random.fork_rng(devices=devices))
                reseed(device, seed)
            if device.type == "cuda":
                stack.enter_context(torch.backends.cudnn.flags(enabled=False))
            stack.enter_context(torch.nn.utils.parametrize.cached())
            cache = getattr(model, "parametrization_cache", None)
            if callable(cache):
                stack.enter_context(cache())
            wrapped = LastStep(model)
            wrapped.training = False
            yield wrapped
    finally:
        for param, requires_grad in grads:
            param.requires_grad_(requires_grad)
        for module, training in flags:
            module.training = training


def logits_of(wrapped: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Logits of ``x`` without building a graph.

    Parameters
    ----------
    wrapped : torch.nn.Module
        A model returning ``(B, C)`` logits (e.g. from :func:`attack_mode`).
    x : (B, T, F) torch.Tensor
        Inputs.

    Returns
    -------
    (B, C) torch.Tensor
        Detached logits.

    Raises
    ------
    AttackInputError
        When the model returns a batch of another size.

    Examples
    --------
    >>> import torch
    >>> logits_of(LastStep(torch.nn.Linear(3, 2)), torch.zeros(4, 5, 3)).shape
    torch.Size([4, 2])
    """
    with torch.no_grad():
        out = wrapped(x)
    if out.shape[0] != x.shape[0]:
        raise AttackInputError(
            f"the model returned logits of shape {tuple(out.shape)} for a batch of {x.shape[0]}"
        )
    return out.detach()


def clean_correct(wrapped: torch.nn.Module, batch: Batch) -> torch.Tensor:
    """Check the labels against the model's logits and say which samples it classifies right.

    Parameters
    ----------
    wrapped : torch.nn.Module
        A model returning ``(B, C)`` logits (e.g. from :func:`attack_mode`).
    batch : Batch
        Inputs and labels from :func:`prepare`.

    Returns
    -------
    (B,) torch.Tensor of bool
        ``True`` where the unperturbed input is classified correctly.

    Raises
    ------
    AttackInputError
        When a label does not index a logit, or the model returns a batch of another size.

    Examples
    --------
    >>> import torch
    >>> batch = Batch(torch.zeros(2, 1, 3), torch.tensor([0, 1]))
    >>> clean_correct(LastStep(torch.nn.Linear(3, 2)), batch).shape
    torch.Size([2])
    """
    clean = logits_of(wrapped, batch.x)
    check_labels_match(batch.y, int(clean.shape[-1]))
    return clean.argmax(dim=-1) == batch.y
