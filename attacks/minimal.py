"""Per-sample minimal adversarial perturbation: the minimum over an ensemble of attacks.

Each attack gives, per sample, the norm of an adversarial input it found and checked (an upper
bound on the true minimal norm); the reported norm is the minimum over

* ``"deepfool"``, ``"fmn"``, ``"cw"`` (L2 only): foolbox minimisation attacks (``"fmn"`` with
  ``norm="l2"`` runs foolbox's L2 FMN with its projection corrected, see
  :mod:`attacks._foolbox`);
* ``"fmn-linf"`` (L2 only): the Linf FMN adversarial measured in the L2 norm;
* ``"bisection"``: a per-sample bisection over the budget with APGD (margin loss) at each
  point, started from the smallest norm found by the other attacks;
* ``"bounded"`` (when a :class:`~attacks.RobustnessCurve` is passed): the smallest grid size
  at which the curve's attacks broke the sample, so the minimal norm never exceeds it.
"""

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
from attacks._records import Record
from attacks._validation import (
    check_attacks,
    check_norm,
    check_positive_int,
    check_seed,
)
from attacks.curves import fraction_above, provenance
from attacks.errors import AttackInputError
from attacks.intervals import bootstrap
from attacks.strength import Strength, check_strength

__all__ = [
    "MINIMAL_ENSEMBLE",
    "MinimalPerturbation",
    "minimal_perturbation",
    "perturbation_norms",
]

logger = logging.getLogger(__name__)

MINIMAL_ENSEMBLE: tuple[str, ...] = ("deepfool", "fmn", "cw", "fmn-linf", "bisection")
"""Attacks of :func:`minimal_perturbation` (``"default"`` runs all that apply to the norm)."""

_L2_ONLY = frozenset({"cw", "fmn-linf"})


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
class MinimalPerturbation(Record):
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
    intervals : dict or None
        Seeded bootstrap 95 % intervals of ``q1``, ``median`` and ``q3`` over the correct
        samples (``null`` ends are infinite: too many unbroken samples).
    """

    _kind = "minimal_perturbation"
    _nullable = ("norms", "per_attack", "q1", "median", "q3", "intervals")

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
    intervals: dict[str, Any] | None = None

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
        return fraction_above(self.norms, epsilons)


def minimal_perturbation(
    model: torch.nn.Module,
    x: Any,
    y: Any,
    *,
    norm: str,
    attacks: Any = "default",
    steps: int = 100,
    binary_search_steps: int = 5,
    bounds: tuple[float, float] = (0.0, 1.0),
    seed: int = 0,
    curve: Any = None,
    strength: Any = "standard",
) -> MinimalPerturbation:
    """Per-sample minimal adversarial norm, minimum over an ensemble of attacks.

    DeepFool alone overestimates the minimal norm on recurrent models, so the
    minimum over several attacks is reported (module docstring). L2-only attacks
    asked for with ``norm="linf"`` are left out and named in ``skipped``. Each value is an
    upper bound on the true minimal norm (an adversarial input of that norm was found and
    checked, or the curve's attacks broke the sample at that size).

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
    attacks : str or sequence of str, default "default"
        Names from :data:`MINIMAL_ENSEMBLE`; ``"default"`` runs every one that applies.
    steps : int, default 100
        Iterations of the foolbox attacks (C&W: per binary-search step).
    binary_search_steps : int, default 5
        Binary-search steps over the C&W constant.
    bounds : tuple of float, default (0.0, 1.0)
        Input domain.
    seed : int, default 0
        Seed of any random choice inside the attacks.
    curve : RobustnessCurve, optional
        Result of :func:`attacks.adversarial` on the same inputs and norm; each sample's
        norm is capped by the smallest size at which it was broken there (``"bounded"``).
    strength : {"quick", "standard", "thorough"} or Strength, default "standard"
        Budgets of the bisection.

    Returns
    -------
    MinimalPerturbation
        Per-sample norms, per-attack norms, quartiles over correct samples with intervals.

    Raises
    ------
    AttackInputError
        For bad inputs, labels, bounds or settings, or a curve of other inputs or norm.
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
    if any(isinstance(a, str) and a.lower() == "default" for a in requested):
        requested = [a for a in requested if not (isinstance(a, str) and a.lower() == "default")]
        requested += [a for a in MINIMAL_ENSEMBLE if a not in requested]
    skipped: dict[str, str] = {}
    if norm == "linf":
        for name in list(requested):
            if str(name).lower() in _L2_ONLY:
                skipped[str(name).lower()] = (
                    "no Linf version of this attack"
                    if str(name).lower() == "cw"
                    else "the same as 'fmn' for norm='linf'"
                )
                requested.remove(name)
    names = check_attacks(requested, "l2", allowed=MINIMAL_ENSEMBLE)
    steps = check_positive_int(steps, "steps")
    binary_search_steps = check_positive_int(binary_search_steps, "binary_search_steps")
    bounds = check_bounds(bounds)
    seed = check_seed(seed)
    budget = check_strength(strength)
    batch = prepare(model, x, y)
    check_in_bounds(batch.x, bounds)
    cap = _cap_from(curve, norm, batch) if curve is not None else None

    from attacks import _foolbox  # foolbox takes a second to import: load it on first use

    per_attack: dict[str, tuple[float, ...]] = {}
    with _foolbox.session(model, bounds=bounds, seed=seed) as session:
        correct = clean_correct(session.wrapped, batch).cpu()
        best = torch.full((batch.n,), float("inf"), dtype=torch.float64)
        if cap is not None:
            best = torch.minimum(best, cap)
        for name in names:
            if name == "bisection":
                continue
            attack_norm = "linf" if name == "fmn-linf" else norm
            foolbox_name = "fmn" if name == "fmn-linf" else name
            adversarial, success = session.minimal(
                foolbox_name,
                attack_norm,
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
        if "bisection" in names:
            found = _bisection(
                session.wrapped, batch, correct, best, norm=norm, bounds=bounds, seed=seed,
                strength=budget,
            )  # fmt: skip
            per_attack["bisection"] = tuple(float(v) for v in found)
            best = torch.minimum(best, found)
    if cap is not None:
        per_attack["bounded"] = tuple(float(v) for v in cap)

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
        "strength": budget.to_dict() if "bisection" in names else None,
        "capped_by_curve": cap is not None,
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
        intervals=_quartile_intervals(on_correct, seed),
    )


def _cap_from(curve: Any, norm: str, batch: Any) -> torch.Tensor:
    broken_at = getattr(curve, "broken_at", None)
    if broken_at is None or getattr(curve, "norm", None) != norm:
        raise AttackInputError(
            f"curve must be a RobustnessCurve of norm {norm!r} with per-sample results, got "
            f"{type(curve).__name__} of norm {getattr(curve, 'norm', None)!r}"
        )
    if len(broken_at) != batch.n:
        raise AttackInputError(
            f"curve has {len(broken_at)} samples but x has {batch.n}: pass the same inputs"
        )
    mine = provenance("minimal_perturbation", torch.nn.Identity(), batch.x, batch.y,
                      settings={}, seed=None)["data_sha256"]  # fmt: skip
    theirs = curve.provenance.get("data_sha256") if isinstance(curve.provenance, dict) else None
    if theirs is not None and theirs != mine:
        raise AttackInputError("curve was computed on other inputs or labels than x and y")
    return torch.tensor(
        [math.inf if v is None else float(v) for v in broken_at], dtype=torch.float64
    )


def _bisection(
    wrapped: torch.nn.Module,
    batch: Any,
    correct: torch.Tensor,
    known: torch.Tensor,
    *,
    norm: str,
    bounds: tuple[float, float],
    seed: int,
    strength: Strength,
) -> torch.Tensor:
    """Per-sample bisection over the budget with APGD; returns found norms (inf: none)."""
    from attacks._apgd import Best, apgd

    lo_b, hi_b = bounds
    cover = (hi_b - lo_b) * (1.0 if norm == "linf" else math.sqrt(batch.dim))
    device = batch.x.device
    ok = correct.to(device)
    hi = torch.where(torch.isfinite(known), known, torch.full_like(known, cover)).to(device)
    lo = torch.zeros_like(hi)
    found = torch.full_like(hi, math.inf)
    record = Best(batch.x, norm)
    apgd(wrapped, batch.x, batch.y, torch.where(ok, hi, torch.zeros_like(hi)), norm=norm,
         loss="margin", steps=strength.bisection_apgd_steps, restarts=1, seed=seed,
         bounds=bounds, best=record)  # fmt: skip
    found = torch.minimum(found, record.size)
    hi = torch.where(record.found, record.size, hi)
    for k in range(strength.bisection_steps):
        mid = (lo + hi) / 2
        record = Best(batch.x, norm)
        apgd(wrapped, batch.x, batch.y, torch.where(ok, mid, torch.zeros_like(mid)), norm=norm,
             loss="margin", steps=strength.bisection_apgd_steps, restarts=1,
             seed=seed + 1 + k, bounds=bounds, best=record)  # fmt: skip
        found = torch.minimum(found, record.size)
        hi = torch.where(record.found, torch.minimum(hi, record.size), hi)
        lo = torch.where(record.found, lo, mid)
    found = torch.where(ok, found, torch.zeros_like(found))
    return found.cpu()


def _quartile_intervals(on_correct: np.ndarray, seed: int) -> dict[str, Any] | None:
    if on_correct.size == 0:
        return None
    out: dict[str, Any] = {"level": 0.95}
    for i, key in enumerate(("q1", "median", "q3")):

        def stat(sample: np.ndarray, i: int = i) -> float:
            q = _quantiles(sample)
            return math.inf if q is None else q[i]

        interval = bootstrap(on_correct, stat, seed=seed)
        out[key] = None if interval is None else [interval[0], interval[1]]
    return out
