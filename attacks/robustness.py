"""Robust accuracy versus perturbation size under an ensemble of attacks."""

from __future__ import annotations

import logging
import math
import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from attacks._model import (
    check_bounds,
    check_in_bounds,
    check_model,
    clean_correct,
    prepare,
)
from attacks._records import Record
from attacks._validation import (
    BOUNDED_ATTACKS,
    MINIMAL_ATTACKS,
    check_attacks,
    check_epsilons,
    check_norm,
    check_positive_int,
    check_seed,
)
from attacks.curves import eps50, normalized_auc, provenance
from attacks.ensemble import BLACK_BOX, DEFAULT, ENSEMBLE_ATTACKS, run_member
from attacks.errors import AttackInputError
from attacks.intervals import bootstrap, wilson
from attacks.strength import check_strength
from attacks.surrogate import has_modrelu

__all__ = ["ATTACKS", "DEFAULT_ATTACKS", "RobustnessCurve", "adversarial", "default_attacks"]

logger = logging.getLogger(__name__)

ATTACKS: tuple[str, ...] = (*BOUNDED_ATTACKS, *MINIMAL_ATTACKS, *ENSEMBLE_ATTACKS)
"""Names accepted by :func:`adversarial` (and ``"default"`` for :data:`DEFAULT_ATTACKS`)."""

DEFAULT_ATTACKS: tuple[str, ...] = DEFAULT
"""The default ensemble: APGD-CE, APGD-DLR and Square (plus ``"adaptive"`` for modReLU)."""


def default_attacks(model: torch.nn.Module, *, black_box: bool = True) -> tuple[str, ...]:
    """Return the default ensemble for ``model`` (``"adaptive"`` joins for modReLU units).

    Parameters
    ----------
    model : torch.nn.Module
        The model to attack.
    black_box : bool, default True
        Include the Square attack.

    Returns
    -------
    tuple of str
        Attack names.

    Raises
    ------
    UnsupportedModelError
        When ``model`` is not a :class:`torch.nn.Module`.

    Examples
    --------
    >>> import torch
    >>> default_attacks(torch.nn.Linear(2, 2))
    ('apgd-ce', 'apgd-dlr', 'square')
    """
    names = DEFAULT if black_box else tuple(n for n in DEFAULT if n not in BLACK_BOX)
    return (*names, "adaptive") if has_modrelu(check_model(model)) else names


_RANDOM = frozenset({"pgd"})


@dataclass(frozen=True)
class RobustnessCurve(Record):
    """Robust accuracy at each perturbation size.

    A sample counts as robust at a size when it is classified correctly and
    every listed attack fails on it (per-sample worst case over the attacks
    and restarts).

    Attributes
    ----------
    norm : str
        ``"linf"`` or ``"l2"``; norms are over the flattened ``T * F`` entries.
    epsilons : tuple of float
        Perturbation sizes, in the order given.
    clean_accuracy : float
        Accuracy without perturbation.
    robust_accuracy : tuple of float
        Worst case over the attacks at each size.
    per_attack : dict of str to tuple of float
        Robust accuracy under each attack alone.
    auc : float
        Mean robust accuracy over the epsilon interval (see :mod:`attacks.curves`).
    eps50 : float or None
        Size at which robust accuracy falls to half the clean accuracy.
    n_samples : int
        Number of evaluated sequences.
    provenance : dict
        Library versions, settings, seed, data hash.
    strength : str or None
        Budget name of the ensemble members (``None`` when none ran).
    white_box : tuple of float or None
        Worst case over the gradient members only (every member but Square and the adaptive
        attack), for the masking checks.
    broken_at : (B,) tuple of float or None
        Per sample, the smallest size at which some attack broke it (0 for misclassified
        samples, ``inf`` when never broken on the grid).
    intervals : dict or None
        95 % intervals: ``clean`` and ``robust`` (one per size) and ``per_attack`` (Wilson),
        ``eps50`` (seeded bootstrap over samples; ``null`` ends are undefined).
    notes : dict of str to str
        Members that could not run, with the reason.
    """

    _kind = "adversarial"
    _nullable = ("eps50", "broken_at", "intervals")

    norm: str
    epsilons: tuple[float, ...]
    clean_accuracy: float
    robust_accuracy: tuple[float, ...]
    per_attack: dict[str, tuple[float, ...]]
    auc: float
    eps50: float | None
    n_samples: int
    provenance: dict[str, Any] = field(repr=False)
    strength: str | None = None
    white_box: tuple[float, ...] | None = None
    broken_at: tuple[float, ...] | None = None
    intervals: dict[str, Any] | None = None
    notes: dict[str, str] = field(default_factory=dict)


def _check_step_size(step_size: Any) -> float | None:
    if step_size is None:
        return None
    if (
        isinstance(step_size, bool)
        or not isinstance(step_size, numbers.Real)
        or not math.isfinite(float(step_size))
        or float(step_size) <= 0
    ):
        raise AttackInputError(f"step_size must be a finite number > 0 or None, got {step_size!r}")
    return float(step_size)


def adversarial(
    model: torch.nn.Module,
    x: Any,
    y: Any,
    *,
    norm: str = "linf",
    epsilons: Any,
    attacks: Any = "default",
    steps: int = 50,
    restarts: int = 1,
    bounds: tuple[float, float] = (0.0, 1.0),
    seed: int = 0,
    step_size: float | None = None,
    random_start: bool = True,
    strength: Any = "standard",
) -> RobustnessCurve:
    """Robust accuracy versus epsilon, worst case per sample over attacks.

    Every attack runs on the whole ``(B, T, F)`` sequence, and success is decided on every
    input an attack queries inside the ball and the box, not only on its final iterate.

    * ``"default"``: the ensemble :data:`DEFAULT_ATTACKS` (APGD-CE, APGD-DLR, Square), plus
      ``"adaptive"`` when the model has modReLU units (:func:`default_attacks`).
    * ``"apgd-ce"``, ``"apgd-dlr"``: Auto-PGD (Croce & Hein 2020) on the cross-entropy or the
      DLR loss (the margin loss for 2 classes), with the iterations and restarts of
      ``strength``.
    * ``"square"``: the Square random search (forward passes only), the black-box control.
    * ``"adaptive"``: APGD through a smooth surrogate of modReLU (:mod:`attacks.surrogate`),
      success counted on the real model; noted and skipped for other models.
    * ``"fgsm"``: one signed-gradient step (for ``norm="l2"``: FGM), through foolbox.
    * ``"pgd"``: projected gradient descent through foolbox, ``steps`` steps of absolute size
      ``step_size`` (default ``2.5 * eps / steps``) from a uniform random start
      (``random_start=True``); restart ``r`` uses seed ``seed + r``.
    * ``"bim"``: the same iteration without random start.
    * ``"deepfool"``, ``"fmn"``, ``"cw"`` (L2 only): minimisation attacks run once with
      ``steps`` iterations (C&W: 5 binary-search steps); their adversarials are clipped to
      each epsilon.

    Parameters
    ----------
    model : torch.nn.Module
        Maps ``(B, T, F)`` to logits ``(B, C)``, or ``(B, T, C)`` whose last
        step is used.
    x : (B, T, F) array_like
        Inputs within ``bounds``; numpy arrays and float64 are converted.
    y : (B,) array_like of int
        Class labels.
    norm : {"linf", "l2"}, default "linf"
        Threat model.
    epsilons : float or sequence of float
        Perturbation sizes (>= 0) in input units.
    attacks : str or sequence of str, default "default"
        Attack names from :data:`ATTACKS`, or ``"default"`` (may appear in a list).
    steps : int, default 50
        Iterations of the foolbox iterative attacks.
    restarts : int, default 1
        Random restarts of ``"pgd"``.
    bounds : tuple of float, default (0.0, 1.0)
        Input domain; adversarial inputs are clipped to it.
    seed : int, default 0
        Seed of the random starts and searches.
    step_size : float, optional
        Absolute PGD/BIM step for every epsilon.
    random_start : bool, default True
        Random start of ``"pgd"``.
    strength : {"quick", "standard", "thorough"} or Strength, default "standard"
        Budgets of the ensemble members (:mod:`attacks.strength`).

    Returns
    -------
    RobustnessCurve
        Clean and robust accuracy with intervals, per-attack accuracy, AUC and eps50.

    Raises
    ------
    AttackInputError
        For inputs that are not 3-D, out of bounds or non-finite; labels that
        do not match the batch or the classes; bad epsilons or settings.
    UnknownAttackError
        For unknown attack or norm names, or ``"cw"`` with ``norm="linf"``.
    UnsupportedModelError
        When ``model`` is not a module returning a logits tensor.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(6, 3))
    >>> x, y = torch.rand(8, 3, 2), torch.randint(0, 3, (8,))
    >>> curve = adversarial(net, x, y, epsilons=[0.0, 0.1], strength="quick")
    >>> curve.robust_accuracy[0] == curve.clean_accuracy
    True
    >>> sorted(curve.per_attack)
    ['apgd-ce', 'apgd-dlr', 'square']
    """
    model = check_model(model)
    norm = check_norm(norm)
    eps = check_epsilons(epsilons)
    names = check_attacks(_expand(attacks, model), norm, allowed=ATTACKS)
    steps = check_positive_int(steps, "steps")
    restarts = check_positive_int(restarts, "restarts")
    bounds = check_bounds(bounds)
    seed = check_seed(seed)
    step_size = _check_step_size(step_size)
    budget = check_strength(strength)
    batch = prepare(model, x, y)
    check_in_bounds(batch.x, bounds)

    from attacks import _foolbox  # foolbox takes a second to import: load it on first use

    per_attack: dict[str, tuple[float, ...]] = {}
    notes: dict[str, str] = {}
    with _foolbox.session(model, bounds=bounds, seed=seed) as session:
        correct = clean_correct(session.wrapped, batch)
        robust = correct.unsqueeze(0).expand(len(eps), -1).clone()
        white = robust.clone()
        for name in names:
            if name in ENSEMBLE_ATTACKS:
                run = run_member(
                    name,
                    model,
                    session.wrapped,
                    batch.x,
                    batch.y,
                    correct,
                    eps,
                    norm=norm,
                    strength=budget,
                    seed=seed,
                    bounds=bounds,
                )
                if run.note is not None:
                    notes[name] = run.note
                    logger.info("%s skipped: %s", name, run.note)
                    continue
                broken = run.broken
            elif name in MINIMAL_ATTACKS:
                broken = session.clipped(
                    name, norm, batch.x, batch.y, eps, steps=steps, binary_search_steps=5, seed=seed
                )
            else:
                runs = restarts if (name in _RANDOM and random_start) else 1
                broken = torch.zeros_like(robust)
                for r in range(runs):
                    broken |= session.bounded(
                        name,
                        norm,
                        batch.x,
                        batch.y,
                        eps,
                        steps=steps,
                        step_size=step_size,
                        random_start=random_start,
                        seed=seed + r,
                    )
            alive = correct.unsqueeze(0) & ~broken
            per_attack[name] = tuple(float(v) for v in alive.double().mean(dim=1).cpu())
            robust &= alive
            if name not in BLACK_BOX and name != "adaptive":
                white &= alive
            logger.debug("%s %s: %s", name, norm, per_attack[name])

    clean_accuracy = float(correct.double().mean())
    robust_accuracy = tuple(float(v) for v in robust.double().mean(dim=1).cpu())
    ensemble = [n for n in names if n in ENSEMBLE_ATTACKS and n not in notes]
    settings = {
        "norm": norm,
        "epsilons": list(eps),
        "attacks": list(names),
        "steps": steps,
        "restarts": restarts,
        "bounds": list(bounds),
        "step_size": step_size if step_size is not None else "2.5*eps/steps",
        "step_sizes": [step_size if step_size is not None else 2.5 * e / steps for e in eps],
        "random_start": bool(random_start),
        "cw_binary_search_steps": 5 if "cw" in names else None,
        "strength": budget.to_dict() if ensemble else None,
    }
    return RobustnessCurve(
        norm=norm,
        epsilons=eps,
        clean_accuracy=clean_accuracy,
        robust_accuracy=robust_accuracy,
        per_attack=per_attack,
        auc=normalized_auc(eps, robust_accuracy),
        eps50=eps50(eps, robust_accuracy, clean_accuracy),
        n_samples=batch.n,
        provenance=provenance("adversarial", model, batch.x, batch.y, settings=settings, seed=seed),
        strength=budget.name if ensemble else None,
        white_box=tuple(float(v) for v in white.double().mean(dim=1).cpu()),
        broken_at=_broken_at(eps, correct, robust),
        intervals=_intervals(eps, correct, robust, per_attack, seed),
        notes=notes,
    )


def _expand(attacks: Any, model: torch.nn.Module) -> list[Any]:
    names = [attacks] if isinstance(attacks, str) else list(attacks)
    out: list[Any] = []
    for name in names:
        if isinstance(name, str) and name.lower() == "default":
            out.extend(default_attacks(model))
        else:
            out.append(name)
    return out


def _broken_at(
    eps: tuple[float, ...], correct: torch.Tensor, robust: torch.Tensor
) -> tuple[float, ...]:
    grid = torch.tensor(eps, dtype=torch.float64).view(-1, 1).expand(-1, robust.shape[1])
    broken = ~robust.cpu()
    sizes = torch.where(broken, grid, torch.full_like(grid, math.inf)).amin(dim=0)
    sizes = torch.where(correct.cpu(), sizes, torch.zeros_like(sizes))
    return tuple(float(v) for v in sizes)


def _intervals(
    eps: tuple[float, ...],
    correct: torch.Tensor,
    robust: torch.Tensor,
    per_attack: dict[str, tuple[float, ...]],
    seed: int,
) -> dict[str, Any]:
    n = int(correct.shape[0])
    clean = float(correct.double().sum())
    rows = robust.cpu().numpy().T.astype(np.float64)  # (B, K)
    ok = correct.cpu().numpy().astype(np.float64)

    seen: dict[tuple[float, ...], float | None] = {}

    def eps50_of(means: np.ndarray) -> float | None:
        key = tuple(means.tolist())  # replicates repeat: each distinct curve is solved once
        if key not in seen:
            seen[key] = eps50(eps, key[1:], key[0])
        return seen[key]

    both = np.concatenate([ok[:, None], rows], axis=1)
    return {
        "level": 0.95,
        "clean": list(wilson(clean, n)),
        "robust": [list(wilson(float(r.sum()), n)) for r in robust.cpu().double()],
        "per_attack": {
            name: [list(wilson(a * n, n)) for a in values] for name, values in per_attack.items()
        },
        "eps50": _pair(bootstrap(both, eps50_of, seed=seed, of_means=True)),
    }


def _pair(interval: tuple[float, float] | None) -> list[float] | None:
    return None if interval is None else [interval[0], interval[1]]
