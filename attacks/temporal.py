"""Where in time a sequence is fragile, and how adversarials transfer between models.

* :func:`time_windows` -- robust accuracy when the attack may only change the steps of one of
  ``windows`` consecutive, equal windows of the sequence (APGD-CE and APGD-DLR, per-sample
  worst case, at the budgets and iterations of a strength).
* :func:`transfer` -- adversarials crafted on each source model (APGD-CE, the smallest
  adversarial found per sample) evaluated on every target model: a matrix of accuracies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

from attacks._apgd import Best, apgd
from attacks._model import attack_mode, check_bounds, check_in_bounds, check_model, prepare
from attacks._records import Record
from attacks._validation import check_norm, check_positive_int, check_seed
from attacks.curves import provenance
from attacks.errors import AttackInputError
from attacks.intervals import wilson
from attacks.strength import check_strength

__all__ = ["TimeWindows", "TransferMatrix", "time_windows", "transfer"]


def _check_eps(eps: Any) -> float:
    try:
        value = float(eps)
    except (TypeError, ValueError):
        raise AttackInputError(f"eps must be a number > 0, got {eps!r}") from None
    if not value > 0 or value == float("inf"):
        raise AttackInputError(f"eps must be finite and > 0, got {eps!r}")
    return value


@dataclass(frozen=True)
class TimeWindows(Record):
    """Robust accuracy with the perturbation confined to one window of time steps.

    Attributes
    ----------
    norm : str
        ``"linf"`` or ``"l2"``.
    eps : float
        Budget (over the whole sequence; only the window's entries change).
    windows : tuple of tuple of int
        ``(start, stop)`` steps of each window.
    clean_accuracy : float
        Accuracy without perturbation.
    robust_accuracy : tuple of float
        Worst case over APGD-CE and APGD-DLR, per window.
    intervals : tuple of tuple of float
        95 % Wilson interval of each window's robust accuracy.
    strength : str
        Budget name.
    n_samples : int
        Number of samples.
    provenance : dict
        Versions, settings, seed, data hash.
    """

    _kind = "time_windows"

    norm: str
    eps: float
    windows: tuple[tuple[int, int], ...]
    clean_accuracy: float
    robust_accuracy: tuple[float, ...]
    intervals: tuple[tuple[float, float], ...]
    strength: str
    n_samples: int
    provenance: dict[str, Any] = field(repr=False)


def time_windows(
    model: torch.nn.Module,
    x: Any,
    y: Any,
    *,
    norm: str = "linf",
    eps: float,
    windows: int = 4,
    strength: Any = "quick",
    bounds: tuple[float, float] = (0.0, 1.0),
    seed: int = 0,
) -> TimeWindows:
    """Robust accuracy when only one window of time steps may be perturbed.

    Parameters
    ----------
    model : torch.nn.Module
        Maps ``(B, T, F)`` to logits ``(B, C)`` or ``(B, T, C)``.
    x : (B, T, F) array_like
        Inputs within ``bounds``.
    y : (B,) array_like of int
        Labels.
    norm : {"linf", "l2"}, default "linf"
        Threat model.
    eps : float
        Budget (> 0).
    windows : int, default 4
        Number of consecutive windows (at most ``T``); the last one takes the remainder.
    strength : {"quick", "standard", "thorough"} or Strength, default "quick"
        APGD iterations and restarts.
    bounds : tuple of float, default (0.0, 1.0)
        Input domain.
    seed : int, default 0
        Seed of the random starts.

    Returns
    -------
    TimeWindows
        Robust accuracy per window with intervals.

    Raises
    ------
    AttackInputError
        For bad inputs, budgets or a window count above ``T``.
    UnknownAttackError
        For an unknown norm.
    UnsupportedModelError
        When ``model`` is not a module returning logits.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(8, 3))
    >>> x, y = torch.rand(6, 4, 2), torch.randint(0, 3, (6,))
    >>> result = time_windows(net, x, y, eps=0.1, windows=2)
    >>> result.windows
    ((0, 2), (2, 4))
    """
    model = check_model(model)
    norm = check_norm(norm)
    eps = _check_eps(eps)
    windows = check_positive_int(windows, "windows")
    budget = check_strength(strength)
    bounds = check_bounds(bounds)
    seed = check_seed(seed)
    batch = prepare(model, x, y)
    check_in_bounds(batch.x, bounds)
    T = int(batch.x.shape[1])
    if windows > T:
        raise AttackInputError(f"windows must be at most T={T}, got {windows}")
    edges = [round(k * T / windows) for k in range(windows + 1)]
    spans = tuple((edges[k], edges[k + 1]) for k in range(windows))
    robust: list[float] = []
    with attack_mode(model, seed=seed) as wrapped:
        with torch.no_grad():
            correct = wrapped(batch.x).argmax(dim=1) == batch.y
        for start, stop in spans:
            mask = torch.zeros(1, T, 1, dtype=batch.x.dtype, device=batch.x.device)
            mask[:, start:stop] = 1
            best = Best(batch.x, norm)
            size = torch.where(correct, torch.full((batch.n,), eps), torch.zeros(batch.n))
            for k, loss in enumerate(("ce", "dlr")):
                apgd(wrapped, batch.x, batch.y, size, norm=norm, loss=loss,
                     steps=budget.apgd_steps, restarts=budget.restarts, seed=seed + 1000 * k,
                     bounds=bounds, best=best, mask=mask)  # fmt: skip
            robust.append(float((correct & ~best.found).double().mean()))
    n = batch.n
    settings = {"norm": norm, "eps": eps, "windows": [list(w) for w in spans],
                "strength": budget.to_dict(), "bounds": list(bounds)}  # fmt: skip
    return TimeWindows(
        norm=norm,
        eps=eps,
        windows=spans,
        clean_accuracy=float(correct.double().mean()),
        robust_accuracy=tuple(robust),
        intervals=tuple(wilson(a * n, n) for a in robust),
        strength=budget.name,
        n_samples=n,
        provenance=provenance(
            "time_windows", model, batch.x, batch.y, settings=settings, seed=seed
        ),
    )


@dataclass(frozen=True)
class TransferMatrix(Record):
    """Accuracy of each target model on adversarials crafted on each source model.

    Attributes
    ----------
    names : tuple of str
        Model names, in the order of the rows and columns.
    norm : str
        ``"linf"`` or ``"l2"``.
    eps : float
        Budget.
    accuracy : tuple of tuple of float
        ``accuracy[i][j]``: accuracy of model ``j`` on the adversarials of model ``i`` (the
        clean input where model ``i``'s attack found none); the diagonal is model ``i``'s
        robust accuracy.
    clean_accuracy : tuple of float
        Clean accuracy of each model.
    strength : str
        Budget name of the crafting attack.
    n_samples : int
        Number of samples.
    """

    _kind = "transfer"

    names: tuple[str, ...]
    norm: str
    eps: float
    accuracy: tuple[tuple[float, ...], ...]
    clean_accuracy: tuple[float, ...]
    strength: str
    n_samples: int


def transfer(
    models: Mapping[str, torch.nn.Module],
    x: Any,
    y: Any,
    *,
    norm: str = "linf",
    eps: float,
    strength: Any = "quick",
    bounds: tuple[float, float] = (0.0, 1.0),
    seed: int = 0,
) -> TransferMatrix:
    """Transfer matrix: adversarials of each model evaluated on every model.

    Parameters
    ----------
    models : mapping of str to torch.nn.Module
        Named models taking the same inputs.
    x : (B, T, F) array_like
        Inputs within ``bounds``.
    y : (B,) array_like of int
        Labels.
    norm : {"linf", "l2"}, default "linf"
        Threat model.
    eps : float
        Budget (> 0).
    strength : {"quick", "standard", "thorough"} or Strength, default "quick"
        APGD-CE iterations and restarts on each source.
    bounds : tuple of float, default (0.0, 1.0)
        Input domain.
    seed : int, default 0
        Seed of the random starts.

    Returns
    -------
    TransferMatrix
        Accuracies of every (source, target) pair.

    Raises
    ------
    AttackInputError
        For no models, bad inputs or budgets.
    UnknownAttackError
        For an unknown norm.
    UnsupportedModelError
        When a model is not a module returning logits.

    Examples
    --------
    >>> import torch
    >>> nets = {k: torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(8, 3)) for k in "ab"}
    >>> x, y = torch.rand(6, 4, 2), torch.randint(0, 3, (6,))
    >>> len(transfer(nets, x, y, eps=0.1).accuracy)
    2
    """
    if not models:
        raise AttackInputError("transfer needs at least one model")
    names = tuple(str(k) for k in models)
    nets = [check_model(m) for m in models.values()]
    norm = check_norm(norm)
    eps = _check_eps(eps)
    budget = check_strength(strength)
    bounds = check_bounds(bounds)
    seed = check_seed(seed)
    batch = prepare(nets[0], x, y)
    check_in_bounds(batch.x, bounds)
    crafted = []
    for net in nets:
        with attack_mode(net, seed=seed) as wrapped:
            best = apgd(wrapped, batch.x, batch.y, torch.full((batch.n,), eps), norm=norm,
                        loss="ce", steps=budget.apgd_steps, restarts=budget.restarts, seed=seed,
                        bounds=bounds)  # fmt: skip
            crafted.append(best.adversarial)
    rows = []
    clean = []
    for net in nets:
        with attack_mode(net) as wrapped, torch.no_grad():
            clean.append(float((wrapped(batch.x).argmax(1) == batch.y).double().mean()))
    for adv in crafted:
        row = []
        for net in nets:
            with attack_mode(net) as wrapped, torch.no_grad():
                row.append(float((wrapped(adv).argmax(1) == batch.y).double().mean()))
        rows.append(tuple(row))
    return TransferMatrix(
        names=names,
        norm=norm,
        eps=eps,
        accuracy=tuple(rows),
        clean_accuracy=tuple(clean),
        strength=budget.name,
        n_samples=batch.n,
    )
