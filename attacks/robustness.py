"""Robust accuracy versus perturbation size under an ensemble of attacks."""

from __future__ import annotations

import logging
import math
import numbers
from dataclasses import dataclass, field
from typing import Any

import torch

from attacks._model import (
    check_bounds,
    check_in_bounds,
    check_model,
    clean_correct,
    prepare,
)
from attacks._records import to_json
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
from attacks.errors import AttackInputError

__all__ = ["ATTACKS", "RobustnessCurve", "adversarial"]

logger = logging.getLogger(__name__)

ATTACKS: tuple[str, ...] = (*BOUNDED_ATTACKS, *MINIMAL_ATTACKS)
"""Names accepted by :func:`adversarial`."""

_RANDOM = frozenset({"pgd"})


@dataclass(frozen=True)
class RobustnessCurve:
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
    """

    norm: str
    epsilons: tuple[float, ...]
    clean_accuracy: float
    robust_accuracy: tuple[float, ...]
    per_attack: dict[str, tuple[float, ...]]
    auc: float
    eps50: float | None
    n_samples: int
    provenance: dict[str, Any] = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (``eps50`` is ``null`` when undefined).

        Returns
        -------
        dict
            Every field, with tuples as lists.

        Examples
        --------
        >>> curve = RobustnessCurve("linf", (0.0,), 1.0, (1.0,), {"pgd": (1.0,)}, 1.0,
        ...                         None, 4, {})
        >>> curve.to_dict()["eps50"] is None
        True
        """
        return to_json(self, "adversarial", nullable=("eps50",))


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
    attacks: Any = ("fgsm", "pgd"),
    steps: int = 50,
    restarts: int = 1,
    bounds: tuple[float, float] = (0.0, 1.0),
    seed: int = 0,
    step_size: float | None = None,
    random_start: bool = True,
) -> RobustnessCurve:
    """Robust accuracy versus epsilon, worst case per sample over attacks.

    Attacks run through foolbox 3.3.4 on the whole ``(B, T, F)`` sequence.

    * ``"fgsm"``: one signed-gradient step (for ``norm="l2"``: FGM, one
      normalised-gradient step), deterministic.
    * ``"pgd"``: projected gradient descent with ``steps`` steps of absolute
      size ``step_size`` (default ``2.5 * eps / steps``) from a uniform random
      start in the ball (``random_start=True``); restart ``r`` uses seed
      ``seed + r`` and a sample falls if any restart breaks it.
    * ``"bim"``: the same iteration without random start.
    * ``"deepfool"``, ``"fmn"``, ``"cw"`` (L2 only): minimisation attacks run
      once with ``steps`` iterations (C&W: 5 binary-search steps of ``steps``
      iterations); their adversarials are clipped to each epsilon.

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
    attacks : sequence of str, default ("fgsm", "pgd")
        Attack names from :data:`ATTACKS`.
    steps : int, default 50
        Iterations of the iterative attacks.
    restarts : int, default 1
        Random restarts of ``"pgd"``.
    bounds : tuple of float, default (0.0, 1.0)
        Input domain; adversarial inputs are clipped to it.
    seed : int, default 0
        Seed of the random starts.
    step_size : float, optional
        Absolute PGD/BIM step for every epsilon.
    random_start : bool, default True
        Random start of ``"pgd"``.

    Returns
    -------
    RobustnessCurve
        Clean and robust accuracy, per-attack accuracy, AUC and eps50.

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
    >>> curve = adversarial(net, x, y, epsilons=[0.0, 0.1], steps=5)
    >>> curve.robust_accuracy[0] == curve.clean_accuracy
    True
    """
    model = check_model(model)
    norm = check_norm(norm)
    eps = check_epsilons(epsilons)
    names = check_attacks(attacks, norm, allowed=ATTACKS)
    steps = check_positive_int(steps, "steps")
    restarts = check_positive_int(restarts, "restarts")
    bounds = check_bounds(bounds)
    seed = check_seed(seed)
    step_size = _check_step_size(step_size)
    batch = prepare(model, x, y)
    check_in_bounds(batch.x, bounds)

    from attacks import _foolbox  # foolbox takes a second to import: load it on first use

    per_attack: dict[str, tuple[float, ...]] = {}
    with _foolbox.session(model, bounds=bounds, seed=seed) as session:
        correct = clean_correct(session.wrapped, batch)
        robust = correct.unsqueeze(0).expand(len(eps), -1).clone()
        for name in names:
            if name in MINIMAL_ATTACKS:
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
            logger.debug("%s %s: %s", name, norm, per_attack[name])

    clean_accuracy = float(correct.double().mean())
    robust_accuracy = tuple(float(v) for v in robust.double().mean(dim=1).cpu())
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
    )
