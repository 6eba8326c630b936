r"""Accuracy and spectrum under random perturbations of the recurrent matrix.

For :math:`\|E\|_2 \le \epsilon` every eigenvalue of :math:`W + E` lies in the
:math:`\epsilon`-pseudospectrum :math:`\Lambda_\epsilon(W) = \{z : \sigma_{min}(zI - W)
\le \epsilon\}`, so the eigenvalues returned here can be drawn over a
pseudospectrum plot of :math:`W` and must stay inside the matching level curve.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from attacks._model import (
    attack_mode,
    check_model,
    clean_correct,
    logits_of,
    model_device_dtype,
    prepare,
)
from attacks._records import Record
from attacks._validation import check_epsilons, check_positive_int, check_seed
from attacks.curves import provenance
from attacks.errors import UnsupportedModelError
from attacks.intervals import wilson

__all__ = ["WeightNoiseResult", "recurrent_target", "weight_noise"]

_GATES = {torch.nn.RNN: 1, torch.nn.GRU: 3, torch.nn.LSTM: 4}
_PRINCIPAL_GATE = {torch.nn.RNN: 0, torch.nn.GRU: 2, torch.nn.LSTM: 2}


@dataclass(frozen=True)
class _Target:
    name: str
    W: torch.Tensor
    override: Callable[[torch.Tensor], contextlib.AbstractContextManager[Any]]


@contextlib.contextmanager
def _in_place(weight: torch.Tensor, rows: slice, W: torch.Tensor) -> Iterator[None]:
    saved = weight.detach().clone()
    try:
        with torch.no_grad():
            weight[rows].copy_(W.to(device=weight.device, dtype=weight.dtype))
        yield
    finally:
        with torch.no_grad():
            weight.copy_(saved)


def recurrent_target(model: torch.nn.Module) -> tuple[str, torch.Tensor]:
    """Name and value of the matrix that :func:`weight_noise` perturbs.

    Models with ``override_recurrent`` and ``recurrent_matrix`` methods use
    their principal recurrent matrix. Other modules use the first
    ``torch.nn.RNN`` / ``GRU`` / ``LSTM`` inside them: the whole
    ``weight_hh_l0`` of an RNN, the candidate block (rows ``2H:3H``: ``n`` of a
    GRU, ``g`` of an LSTM) otherwise. Only layer 0, forward direction.

    Parameters
    ----------
    model : torch.nn.Module
        The model.

    Returns
    -------
    name : str
        Description of the matrix.
    W : (H, H) torch.Tensor
        Detached copy (column convention: ``h_t = f(W h_{t-1} + ...)``).

    Raises
    ------
    UnsupportedModelError
        When the model has neither form, or the recurrent layer uses projections.

    Examples
    --------
    >>> import torch
    >>> name, W = recurrent_target(torch.nn.GRU(2, 3, batch_first=True))
    >>> name, tuple(W.shape)
    ('weight_hh_l0[6:9] (GRU candidate block n)', (3, 3))
    """
    target = _target(check_model(model))
    return target.name, target.W.clone()


def _target(model: torch.nn.Module) -> _Target:
    override = getattr(model, "override_recurrent", None)
    principal = getattr(model, "recurrent_matrix", None)
    if callable(override) and callable(principal):
        W = principal().detach().clone()
        kind = getattr(model, "kind", type(model).__name__)
        return _Target(f"principal recurrent matrix of {kind}", W, override)
    for prefix, module in model.named_modules():
        cls = type(module)
        if cls not in _GATES:
            continue
        if module.proj_size > 0:
            raise UnsupportedModelError(
                f"weight_noise does not support {cls.__name__} with proj_size="
                f"{module.proj_size}: its weight_hh_l0 is not square"
            )
        weight = module.weight_hh_l0
        if not isinstance(weight, torch.nn.Parameter):
            raise UnsupportedModelError(
                f"weight_noise needs {prefix or cls.__name__}.weight_hh_l0 to be a plain "
                "Parameter (it is parametrized)"
            )
        H = module.hidden_size
        gate = _PRINCIPAL_GATE[cls]
        rows = slice(gate * H, (gate + 1) * H)
        block = {torch.nn.RNN: "", torch.nn.GRU: " (GRU candidate block n)"}.get(
            cls, " (LSTM candidate block g)"
        )
        dotted = f"{prefix}.weight_hh_l0" if prefix else "weight_hh_l0"
        name = f"{dotted}[{rows.start}:{rows.stop}]{block}" if _GATES[cls] > 1 else dotted
        W = weight.detach()[rows].clone()
        return _Target(name, W, functools.partial(_in_place, weight, rows))
    raise UnsupportedModelError(
        f"weight_noise needs a model with override_recurrent() and recurrent_matrix(), or one "
        f"containing a torch.nn.RNN/GRU/LSTM; got {type(model).__name__}"
    )


@dataclass(frozen=True, eq=False)
class WeightNoiseResult(Record):
    r"""Accuracy and spectrum of the model with :math:`W + E`, :math:`\|E\|_2` fixed.

    Attributes
    ----------
    target : str
        Which matrix was perturbed.
    epsilons : tuple of float
        Requested sizes (relative to :math:`\|W\|_2` when ``relative``).
    relative : bool
        Whether sizes are relative.
    draws : int
        Random directions per size.
    perturbation_norms : tuple of float
        :math:`\|E\|_2` at each size.
    norm_w : float
        :math:`\|W\|_2`.
    spectral_radius_w : float
        :math:`\rho(W)`.
    eigenvalues_w : (H,) numpy.ndarray of complex
        Eigenvalues of :math:`W`.
    clean_accuracy : float
        Accuracy of the unperturbed model.
    accuracy : (K, draws) numpy.ndarray
        Accuracy for each size and draw.
    mean_accuracy, std_accuracy : tuple of float
        Mean and standard deviation over the draws.
    spectral_radius : (K, draws) numpy.ndarray
        :math:`\rho(W + E)`.
    eigenvalues : (K, draws, H) numpy.ndarray of complex
        Eigenvalues of every :math:`W + E`.
    n_samples : int
        Number of evaluated sequences.
    intervals : tuple of (float, float)
        95 % Wilson interval of the mean accuracy at each size. The draws share the
        samples, so the interval counts ``n_samples`` trials, not samples times draws: it
        is the sampling uncertainty of the evaluated sequences (conservative), while
        ``std_accuracy`` is the spread over directions.
    provenance : dict
        Library versions, settings, seed, data hash.
    """

    _kind = "weight_noise"

    target: str
    epsilons: tuple[float, ...]
    relative: bool
    draws: int
    perturbation_norms: tuple[float, ...]
    norm_w: float
    spectral_radius_w: float
    eigenvalues_w: np.ndarray
    clean_accuracy: float
    accuracy: np.ndarray
    mean_accuracy: tuple[float, ...]
    std_accuracy: tuple[float, ...]
    spectral_radius: np.ndarray
    eigenvalues: np.ndarray
    n_samples: int
    intervals: tuple[tuple[float, float], ...]
    provenance: dict[str, Any] = field(repr=False)


def weight_noise(
    model: torch.nn.Module,
    x: Any,
    y: Any,
    *,
    epsilons: Any,
    draws: int = 10,
    relative: bool = True,
    seed: int = 0,
) -> WeightNoiseResult:
    r"""Accuracy when the recurrent matrix :math:`W` becomes :math:`W + E`.

    Draw ``d`` takes a Gaussian matrix :math:`G_d` and uses the direction
    :math:`G_d / \|G_d\|_2` at every size, scaled to :math:`\|E\|_2 = \epsilon`
    (times :math:`\|W\|_2` when ``relative``). The matrix is chosen by
    :func:`recurrent_target`; models with ``override_recurrent`` are evaluated
    inside it, plain ``torch.nn.RNN``/``GRU``/``LSTM`` weights are changed in
    place and copied back, so the model is bit-identical afterwards.

    Parameters
    ----------
    model : torch.nn.Module
        Maps ``(B, T, F)`` to logits ``(B, C)`` or ``(B, T, C)``.
    x : (B, T, F) array_like
        Inputs.
    y : (B,) array_like of int
        Class labels.
    epsilons : float or sequence of float
        Sizes of :math:`E` (>= 0).
    draws : int, default 10
        Random directions.
    relative : bool, default True
        Scale sizes by :math:`\|W\|_2`.
    seed : int, default 0
        Seed of the directions.

    Returns
    -------
    WeightNoiseResult
        Accuracy per size and draw, spectral radii and eigenvalues of each
        :math:`W + E`.

    Raises
    ------
    AttackInputError
        For bad inputs, labels, sizes or settings.
    UnsupportedModelError
        When the model exposes no recurrent matrix (see :func:`recurrent_target`).

    Examples
    --------
    >>> import torch
    >>> class Net(torch.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.rnn = torch.nn.RNN(2, 4, batch_first=True)
    ...         self.out = torch.nn.Linear(4, 3)
    ...     def forward(self, x):
    ...         return self.out(self.rnn(x)[0][:, -1])
    >>> result = weight_noise(Net(), torch.rand(8, 5, 2), torch.randint(0, 3, (8,)),
    ...                       epsilons=[0.0, 0.1], draws=2)
    >>> result.eigenvalues.shape
    (2, 2, 4)
    """
    model = check_model(model)
    eps = check_epsilons(epsilons)
    draws = check_positive_int(draws, "draws")
    seed = check_seed(seed)
    relative = bool(relative)
    batch = prepare(model, x, y)
    target = _target(model)
    _, dtype = model_device_dtype(model)
    W = target.W.detach().to("cpu", torch.float64)
    norm_w = float(torch.linalg.matrix_norm(W, ord=2))
    scale = norm_w if relative else 1.0
    sizes = tuple(e * scale for e in eps)
    generator = torch.Generator().manual_seed(seed)
    directions = []
    for _ in range(draws):
        G = torch.randn(W.shape, generator=generator, dtype=torch.float64)
        directions.append(G / torch.linalg.matrix_norm(G, ord=2))

    accuracy = np.zeros((len(eps), draws))
    radius = np.zeros((len(eps), draws))
    n = W.shape[0]
    eigenvalues = np.zeros((len(eps), draws, n), dtype=np.complex128)
    with attack_mode(model) as wrapped:
        clean_accuracy = float(clean_correct(wrapped, batch).double().mean())
        for k, size in enumerate(sizes):
            for d, direction in enumerate(directions):
                perturbed = W + size * direction
                values = np.linalg.eigvals(perturbed.numpy())
                eigenvalues[k, d] = values
                radius[k, d] = float(np.abs(values).max())
                M = perturbed.to(device=target.W.device, dtype=dtype)
                with target.override(M):
                    pred = logits_of(wrapped, batch.x).argmax(dim=-1)
                accuracy[k, d] = float((pred == batch.y).double().mean())

    eig_w = np.linalg.eigvals(W.numpy())
    settings = {"epsilons": list(eps), "draws": draws, "relative": relative, "target": target.name}
    mean = accuracy.mean(axis=1)
    return WeightNoiseResult(
        target=target.name,
        epsilons=eps,
        relative=relative,
        draws=draws,
        perturbation_norms=sizes,
        norm_w=norm_w,
        spectral_radius_w=float(np.abs(eig_w).max()),
        eigenvalues_w=eig_w.astype(np.complex128),
        clean_accuracy=clean_accuracy,
        accuracy=accuracy,
        mean_accuracy=tuple(float(v) for v in mean),
        std_accuracy=tuple(float(v) for v in accuracy.std(axis=1)),
        spectral_radius=radius,
        eigenvalues=eigenvalues,
        n_samples=batch.n,
        intervals=tuple(wilson(float(a) * batch.n, batch.n) for a in mean),
        provenance=provenance(
            "weight_noise", model, batch.x, batch.y, settings=settings, seed=seed
        ),
    )
