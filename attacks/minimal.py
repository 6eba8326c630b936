"""Per-sample minimal adversarial perturbation from minimisation attacks."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
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
from attacks._records import to_json
from attacks._validation import (
    L2_ONLY,
    MINIMAL_ATTACKS,
    check_attacks,
    check_epsilons,
    check_norm,
    check_positive_int,
    check_seed,
)
from attacks.curves import provenance

__all__ = ["MinimalPerturbation", "minimal_perturbation", "perturbation_norms"]

logger = logging.getLogger(__name__)


def perturbation_norms(delta: torch.Tensor, norm: str) -> torch.Tensor:
    """Norm of each sequence's perturbation over its flattened entries.

    Parameters
    ----------
    delta : (B, T, F) torch.Tensor
        Perturbations.
    norm : {"linf", "l2"}
        Norm.

    Returns
    -------
    (B,) torch.Tensor
        ``float64`` norms.

    Examples
    --------
    >>> import torch
    >>> perturbation_norms(torch.full((1, 2, 2), 0.5), "l2")
    tensor([1.], dtype=torch.float64)
    """
    flat = delta.detach().flatten(1).to(torch.float64)
    if norm == "linf":
        return flat.abs().amax(dim=1)
    return torch.linalg.vector_norm(flat, dim=1)


def _quantiles(values: np.ndarray) -> tuple[float, float, float] | None:
    if values.size == 0:
        return None
    # numpy's linear interpolation gives inf * 0 = NaN at an exact order statistic next to an
    # unbroken (inf) sample; interpolate by hand so an exact position returns that value.
    v = np.sort(np.asarray(values, dtype=np.float64))
    out = []
    for p in (0.25, 0.5, 0.75):
        pos = p * (v.size - 1)
        lo, frac = int(np.floor(pos)), pos - np.floor(pos)
        if frac == 0:
            out.append(float(v[lo]))
        elif math.isinf(v[lo + 1]):
            out.append(math.inf)
        else:
            out.append(float(v[lo] + frac * (v[lo + 1] - v[lo])))
    return out[0], out[1], out[2]


@dataclass(frozen=True)
class MinimalPerturbation:
    """Smallest adversarial perturbation found for each sample.

    Attributes
    ----------
    norm : str
        ``"linf"`` or ``"l2"`` over the flattened ``T * F`` entries.
    attacks : tuple of str
        Attacks that ran.
    skipped : dict of str to str
        Requested attacks that were left out, with the reason.
    norms : (B,) tuple of float
        Minimum over the attacks; ``inf`` where no attack succeeded, ``0`` for
        samples misclassified without perturbation.
    per_attack : dict of str to tuple of float
        The same per attack.
    correct : (B,) tuple of bool
        Clean correctness of each sample.
    clean_accuracy : float
        Fraction of correct samples.
    success_rate : float or None
        Fraction of correct samples that some attack broke.
    q1, median, q3 : float or None
        Quartiles of ``norms`` over the correct samples (``inf`` when more than
        that fraction is unbroken; ``None`` without correct samples).
    n_samples : int
        Number of samples.
    provenance : dict
        Library versions, settings, seed, data hash.
    """

    norm: str
    attacks: tuple[str, ...]
    skipped: dict[str, str]
    norms: tuple[float, ...]
    per_attack: dict[str, tuple[float, ...]]
    correct: tuple[bool, ...]
    clean_accuracy: float
    success_rate: float | None
    q1: float | None
    median: float | None
    q3: float | None
    n_samples: int
    provenance: dict[str, Any] = field(repr=False)

    def accuracy_at(self, epsilons: Sequence[float]) -> tuple[float, ...]:
        """Robust accuracy implied by the minimal norms: fraction with norm > eps.

        Parameters
        ----------
        epsilons : sequence of float
            Perturbation sizes (>= 0).

        Returns
        -------
        tuple of float
            An upper bound on the true robust accuracy at each size.

        Raises
        ------
        AttackInputError
            For negative or non-finite sizes.

        Examples
        --------
        >>> m = MinimalPerturbation("l2", ("fmn",), {}, (0.0, 0.5, float("inf")), {},
        ...                         (False, True, True), 2 / 3, 0.5, None, None, None, 3, {})
        >>> m.accuracy_at([0.0, 1.0])
        (0.6666666666666666, 0.3333333333333333)
        """
        eps = check_epsilons(epsilons)
        norms = np.asarray(self.norms, dtype=np.float64)
        return tuple(float(np.mean(norms > e)) for e in eps)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary; infinite norms (unbroken samples) become ``null``.

        Returns
        -------
        dict
            Every field, with tuples as lists.

        Examples
        --------
        >>> m = MinimalPerturbation("l2", ("fmn",), {}, (float("inf"),), {},
        ...                         (True,), 1.0, 0.0, None, None, None, 1, {})
        >>> m.to_dict()["norms"]
        [None]
        """
        return to_json(
            self, "minimal_perturbation", nullable=("norms", "per_attack", "q1", "median", "q3")
        )


def minimal_perturbation(
    model: torch.nn.Module,
    x: Any,
    y: Any,
    *,
    norm: str,
    attacks: Any = ("deepfool", "fmn", "cw"),
    steps: int = 100,
    binary_search_steps: int = 5,
    bounds: tuple[float, float] = (0.0, 1.0),
    seed: int = 0,
) -> MinimalPerturbation:
    """Per-sample minimal adversarial norm, minimum over minimisation attacks.

    DeepFool alone overestimates the minimal norm on recurrent models, so the
    minimum over several attacks is reported. C&W has no Linf version: with
    ``norm="linf"`` it is left out and named in ``skipped``. Each value is an
    upper bound on the true minimal norm (an adversarial input of that norm was
    found and checked).

    Parameters
    ----------
    model : torch.nn.Module
        Maps ``(B, T, F)`` to logits ``(B, C)`` or ``(B, T, C)``.
    x : (B, T, F) array_like
        Inputs within ``bounds``.
    y : (B,) array_like of int
        Class labels.
    norm : {"linf", "l2"}
        Norm to minimise.
    attacks : sequence of str, default ("deepfool", "fmn", "cw")
        Attacks among ``"deepfool"``, ``"fmn"``, ``"cw"``.
    steps : int, default 100
        Iterations of each attack (C&W: per binary-search step).
    binary_search_steps : int, default 5
        Binary-search steps over the C&W constant.
    bounds : tuple of float, default (0.0, 1.0)
        Input domain.
    seed : int, default 0
        Seed of any random choice inside the attacks.

    Returns
    -------
    MinimalPerturbation
        Per-sample norms, per-attack norms, quartiles over correct samples.

    Raises
    ------
    AttackInputError
        For bad inputs, labels, bounds or settings.
    UnknownAttackError
        For unknown attack or norm names, or when nothing is left to run.
    UnsupportedModelError
        When ``model`` is not a module returning a logits tensor.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(6, 3))
    >>> x, y = torch.rand(8, 3, 2), torch.randint(0, 3, (8,))
    >>> result = minimal_perturbation(net, x, y, norm="l2", attacks=("deepfool",), steps=20)
    >>> len(result.norms)
    8
    """
    model = check_model(model)
    norm = check_norm(norm)
    requested = [attacks] if isinstance(attacks, str) else list(attacks)
    skipped: dict[str, str] = {}
    if norm == "linf":
        for name in list(requested):
            if str(name).lower() in L2_ONLY and str(name).lower() in MINIMAL_ATTACKS:
                skipped[str(name).lower()] = "no Linf version of this attack"
                requested.remove(name)
    names = check_attacks(requested, norm, allowed=MINIMAL_ATTACKS)
    steps = check_positive_int(steps, "steps")
    binary_search_steps = check_positive_int(binary_search_steps, "binary_search_steps")
    bounds = check_bounds(bounds)
    seed = check_seed(seed)
    batch = prepare(model, x, y)
    check_in_bounds(batch.x, bounds)

    from attacks import _foolbox  # foolbox takes a second to import: load it on first use

    per_attack: dict[str, tuple[float, ...]] = {}
    with _foolbox.session(model, bounds=bounds, seed=seed) as session:
        correct = clean_correct(session.wrapped, batch).cpu()
        best = torch.full((batch.n,), float("inf"), dtype=torch.float64)
        for name in names:
            adversarial, success = session.minimal(
                name,
                norm,
                batch.x,
                batch.y,
                steps=steps,
                binary_search_steps=binary_search_steps,
                seed=seed,
            )
            found = perturbation_norms(adversarial - batch.x, norm).cpu()
            found = torch.where(success.cpu(), found, torch.full_like(found, float("inf")))
            found = torch.where(correct, found, torch.zeros_like(found))
            per_attack[name] = tuple(float(v) for v in found)
            best = torch.minimum(best, found)

    norms = best.numpy()
    correct_np = correct.numpy()
    on_correct = norms[correct_np]
    quartiles = _quantiles(on_correct)
    settings = {
        "norm": norm,
        "attacks": list(names),
        "steps": steps,
        "binary_search_steps": binary_search_steps if "cw" in names else None,
        "bounds": list(bounds),
    }
    return MinimalPerturbation(
        norm=norm,
        attacks=names,
        skipped=skipped,
        norms=tuple(float(v) for v in norms),
        per_attack=per_attack,
        correct=tuple(bool(v) for v in correct_np),
        clean_accuracy=float(correct_np.mean()),
        success_rate=float(np.isfinite(on_correct).mean()) if on_correct.size else None,
        q1=quartiles[0] if quartiles else None,
        median=quartiles[1] if quartiles else None,
        q3=quartiles[2] if quartiles else None,
        n_samples=batch.n,
        provenance=provenance(
            "minimal_perturbation", model, batch.x, batch.y, settings=settings, seed=seed
        ),
    )
