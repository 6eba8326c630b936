"""Accuracy under random input perturbations of a given size."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch

from attacks._model import (
    attack_mode,
    check_bounds,
    check_in_bounds,
    check_model,
    clean_correct,
    logits_of,
    prepare,
)
from attacks._records import Record
from attacks._validation import (
    check_epsilons,
    check_norm,
    check_positive_int,
    check_seed,
)
from attacks.curves import eps50, normalized_auc, provenance
from attacks.errors import UnknownAttackError
from attacks.intervals import wilson

DISTRIBUTIONS: tuple[str, ...] = ("uniform", "sign")
"""Noise distributions of :func:`noise`: uniform in the ball, or random corners of the Linf box."""

__all__ = ["DISTRIBUTIONS", "NoiseCurve", "noise", "unit_noise"]


def unit_noise(
    shape: tuple[int, ...], norm: str, generator: torch.Generator, *, distribution: str = "uniform"
) -> torch.Tensor:
    """Random directions of unit size, one per sequence.

    For ``"linf"`` every entry is uniform in ``[-1, 1]`` (uniform in the unit
    box); for ``"l2"`` each sequence is uniform on the unit sphere of
    ``R^(T*F)`` (a normalised Gaussian). With ``distribution="sign"`` every entry is
    ``+-1`` (a random corner of the Linf box; scaled to unit L2 norm for ``"l2"``), a much
    stronger random baseline than uniform noise.

    Parameters
    ----------
    shape : tuple of int
        ``(B, T, F)``.
    norm : {"linf", "l2"}
        Ball shape.
    generator : torch.Generator
        CPU generator.
    distribution : {"uniform", "sign"}, default "uniform"
        Random directions.

    Returns
    -------
    (B, T, F) torch.Tensor
        ``float64`` on the CPU.

    Examples
    --------
    >>> import torch
    >>> u = unit_noise((2, 3, 4), "l2", torch.Generator().manual_seed(0))
    >>> torch.allclose(u.flatten(1).norm(dim=1), torch.ones(2, dtype=torch.float64))
    True
    """
    if distribution == "sign":
        signs = torch.randint(0, 2, shape, generator=generator).to(torch.float64) * 2 - 1
        if norm == "linf":
            return signs
        return signs / math.sqrt(math.prod(shape[1:]))
    if norm == "linf":
        return torch.rand(shape, generator=generator, dtype=torch.float64) * 2 - 1
    gauss = torch.randn(shape, generator=generator, dtype=torch.float64)
    size = torch.linalg.vector_norm(gauss.flatten(1), dim=1).clamp_min(1e-300)
    return gauss / size.view(-1, *([1] * (len(shape) - 1)))


@dataclass(frozen=True)
class NoiseCurve(Record):
    """Accuracy under random perturbations at each size.

    Attributes
    ----------
    norm : str
        ``"linf"`` (uniform in the box) or ``"l2"`` (uniform on the sphere).
    epsilons : tuple of float
        Perturbation sizes.
    draws : int
        Random perturbations per sample and size.
    clean_accuracy : float
        Accuracy without perturbation.
    mean_accuracy : tuple of float
        Accuracy averaged over the draws (can exceed the clean accuracy).
    std_accuracy : tuple of float
        Standard deviation of the accuracy over the draws.
    robust_accuracy : tuple of float
        Worst of the draws, per sample: correct without noise and under every
        draw.
    auc : float
        Mean ``robust_accuracy`` over the epsilon interval.
    eps50 : float or None
        Size at which ``robust_accuracy`` falls to half the clean accuracy.
    n_samples : int
        Number of samples.
    provenance : dict
        Library versions, settings, seed, data hash.
    distribution : str
        ``"uniform"`` or ``"sign"``.
    intervals : dict or None
        95 % Wilson intervals of ``clean`` and ``robust`` (one per size).
    """

    _kind = "noise"
    _nullable = ("eps50",)

    norm: str
    epsilons: tuple[float, ...]
    draws: int
    clean_accuracy: float
    mean_accuracy: tuple[float, ...]
    std_accuracy: tuple[float, ...]
    robust_accuracy: tuple[float, ...]
    auc: float
    eps50: float | None
    n_samples: int
    provenance: dict[str, Any] = field(repr=False)
    distribution: str = "uniform"
    intervals: dict[str, Any] | None = None


def noise(
    model: torch.nn.Module,
    x: Any,
    y: Any,
    *,
    norm: str,
    epsilons: Any,
    draws: int = 20,
    bounds: tuple[float, float] = (0.0, 1.0),
    seed: int = 0,
    distribution: str = "uniform",
) -> NoiseCurve:
    """Accuracy under random perturbations: the control for adversarial curves.

    Draw ``d`` gives every sequence a random direction ``u`` of unit size
    (:func:`unit_noise`: uniform in the Linf box or on the L2 sphere); at size
    ``eps`` the input is ``clip(x + eps * u, lo, hi)``. The same directions are
    used at every size.

    Parameters
    ----------
    model : torch.nn.Module
        Maps ``(B, T, F)`` to logits ``(B, C)`` or ``(B, T, C)``.
    x : (B, T, F) array_like
        Inputs within ``bounds``.
    y : (B,) array_like of int
        Class labels.
    norm : {"linf", "l2"}
        Ball shape.
    epsilons : float or sequence of float
        Perturbation sizes (>= 0).
    draws : int, default 20
        Random perturbations per sample and size.
    bounds : tuple of float, default (0.0, 1.0)
        Input domain; perturbed inputs are clipped to it.
    seed : int, default 0
        Seed of the draws.
    distribution : {"uniform", "sign"}, default "uniform"
        Directions of :func:`unit_noise`; ``"sign"`` draws corners of the Linf box.

    Returns
    -------
    NoiseCurve
        Mean and worst-of-draws accuracy per size.

    Raises
    ------
    AttackInputError
        For bad inputs, labels, bounds, sizes or settings.
    UnknownAttackError
        For an unknown norm name.
    UnsupportedModelError
        When ``model`` is not a module returning a logits tensor.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(6, 3))
    >>> x, y = torch.rand(8, 3, 2), torch.randint(0, 3, (8,))
    >>> curve = noise(net, x, y, norm="linf", epsilons=[0.0, 0.1], draws=3)
    >>> curve.robust_accuracy[0] == curve.clean_accuracy
    True
    """
    model = check_model(model)
    norm = check_norm(norm)
    eps = check_epsilons(epsilons)
    draws = check_positive_int(draws, "draws")
    bounds = check_bounds(bounds)
    seed = check_seed(seed)
    if distribution not in DISTRIBUTIONS:
        raise UnknownAttackError(
            f"unknown noise distribution {distribution!r}; available: {', '.join(DISTRIBUTIONS)}"
        )
    batch = prepare(model, x, y)
    check_in_bounds(batch.x, bounds)
    generator = torch.Generator().manual_seed(seed)
    lo, hi = bounds

    with attack_mode(model, seed=seed) as wrapped:
        correct = clean_correct(wrapped, batch)
        robust = correct.unsqueeze(0).expand(len(eps), -1).clone()
        accuracy = torch.zeros(len(eps), draws, dtype=torch.float64)
        for d in range(draws):
            unit = unit_noise(tuple(batch.x.shape), norm, generator, distribution=distribution)
            unit = unit.to(device=batch.x.device, dtype=batch.x.dtype)
            for k, e in enumerate(eps):
                noisy = (batch.x + e * unit).clamp(lo, hi)
                hit = logits_of(wrapped, noisy).argmax(dim=-1) == batch.y
                accuracy[k, d] = hit.double().mean().cpu()
                robust[k] &= hit

    clean_accuracy = float(correct.double().mean())
    robust_accuracy = tuple(float(v) for v in robust.double().mean(dim=1).cpu())
    std = accuracy.std(dim=1, correction=0)
    settings = {"norm": norm, "epsilons": list(eps), "draws": draws, "bounds": list(bounds)}
    if distribution != "uniform":
        settings["distribution"] = distribution
    n = batch.n
    return NoiseCurve(
        norm=norm,
        epsilons=eps,
        draws=draws,
        clean_accuracy=clean_accuracy,
        mean_accuracy=tuple(float(v) for v in accuracy.mean(dim=1)),
        std_accuracy=tuple(float(v) for v in std),
        robust_accuracy=robust_accuracy,
        auc=normalized_auc(eps, robust_accuracy),
        eps50=eps50(eps, robust_accuracy, clean_accuracy),
        n_samples=batch.n,
        provenance=provenance("noise", model, batch.x, batch.y, settings=settings, seed=seed),
        distribution=distribution,
        intervals={
            "level": 0.95,
            "clean": list(wilson(clean_accuracy * n, n)),
            "robust": [list(wilson(a * n, n)) for a in robust_accuracy],
        },
    )
