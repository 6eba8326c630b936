"""Sanity checks that flag weak attacks, gradient masking and unsound certificates.

Each check passes, fails, or is skipped (``passed=None``) when its inputs are
missing; a failing check is reported with its numbers, never dropped.

============================  ===========================================================
check                         passes when
============================  ===========================================================
``gradients``                 every sample has a finite, non-zero input gradient of the loss
``deterministic``             two forward passes give identical logits
``logits``                    outputs are not rows of probabilities
``large_eps``                 PGD at a size covering the whole input box leaves 0 % robust
``pgd_le_fgsm``               PGD robust accuracy <= FGSM at every size
``monotone``                  every adversarial robust-accuracy curve is non-increasing
``adversarial_le_noise``      adversarial robust accuracy <= worst-of-draws noise accuracy
``certified_le_minimal``      certified radius <= minimal adversarial norm, every sample
                              (skipped when the certificate does not apply)
``black_box_le_white_box``    Square does not beat the gradient attacks (masking)
``adaptive_le_plain``         the adaptive (surrogate) attack is at least as strong as the
                              plain gradient attacks (skipped without modReLU units)
``minimal_matches_curve``     accuracy implied by the minimal norms lies in the curve's
                              95 % Wilson interval at every size
============================  ===========================================================

``adversarial_le_noise`` compares with every noise curve given or computed: uniform noise and
sign noise (random corners of the Linf box), the stronger random baseline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from attacks._consistency import adaptive_le_plain, black_box_le_white_box, minimal_matches_curve
from attacks._model import (
    attack_mode,
    check_bounds,
    check_in_bounds,
    check_labels_match,
    check_model,
    logits_of,
    prepare,
)
from attacks._validation import check_norm, check_positive_int, check_seed
from attacks.certify import CertifiedRadius
from attacks.errors import AttackInputError
from attacks.minimal import MinimalPerturbation
from attacks.random_noise import NoiseCurve, noise
from attacks.robustness import RobustnessCurve, adversarial

__all__ = ["Check", "SanityReport", "sanity"]


@dataclass(frozen=True)
class Check:
    """Outcome of one sanity check.

    Attributes
    ----------
    name : str
        Check name (see the module docstring).
    passed : bool or None
        ``None`` when the check could not run.
    detail : str
        The numbers behind the outcome, or why it was skipped.
    """

    name: str
    passed: bool | None
    detail: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary.

        Returns
        -------
        dict
            ``name``, ``passed``, ``detail``.

        Examples
        --------
        >>> Check("monotone", True, "ok").to_dict()
        {'name': 'monotone', 'passed': True, 'detail': 'ok'}
        """
        return {"name": self.name, "passed": self.passed, "detail": self.detail}


@dataclass(frozen=True)
class SanityReport:
    """All sanity checks of one evaluation.

    Attributes
    ----------
    checks : tuple of Check
        In a fixed order.
    """

    checks: tuple[Check, ...]

    @property
    def passed(self) -> bool:
        """Whether no check failed (skipped checks do not count).

        Examples
        --------
        >>> SanityReport((Check("a", True, ""), Check("b", None, ""))).passed
        True
        """
        return all(check.passed is not False for check in self.checks)

    @property
    def failed(self) -> tuple[str, ...]:
        """Names of the failed checks.

        Examples
        --------
        >>> SanityReport((Check("a", False, "x"),)).failed
        ('a',)
        """
        return tuple(check.name for check in self.checks if check.passed is False)

    def __getitem__(self, name: str) -> Check:
        """Return the check called ``name``.

        Raises
        ------
        KeyError
            When there is no such check.
        """
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary.

        Returns
        -------
        dict
            ``passed``, ``failed`` and every check.

        Examples
        --------
        >>> SanityReport((Check("a", False, "x"),)).to_dict()["failed"]
        ['a']
        """
        return {
            "kind": "sanity",
            "passed": self.passed,
            "failed": list(self.failed),
            "checks": [check.to_dict() for check in self.checks],
        }


def _fmt(values: Any) -> str:
    return "[" + ", ".join(f"{float(v):.4g}" for v in values) + "]"


def _gradients(wrapped: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> Check:
    with torch.enable_grad():
        xg = x.detach().clone().requires_grad_(True)
        loss = torch.nn.functional.cross_entropy(wrapped(xg), y, reduction="sum")
        (grad,) = torch.autograd.grad(loss, xg)
    flat = grad.flatten(1)
    finite = torch.isfinite(flat).all(dim=1)
    zero = (flat == 0).all(dim=1) & finite
    n_bad, n_zero = int((~finite).sum()), int(zero.sum())
    detail = (
        f"{n_zero} of {x.shape[0]} samples have an all-zero input gradient, "
        f"{n_bad} a non-finite one"
    )
    return Check("gradients", n_bad == 0 and n_zero == 0, detail)


def _deterministic(wrapped: torch.nn.Module, x: torch.Tensor, first: torch.Tensor) -> Check:
    second = logits_of(wrapped, x)
    diff = float((first - second).abs().max())
    return Check(
        "deterministic", diff == 0.0, f"max |logits difference| over two passes {diff:.3g}"
    )


def _logits(first: torch.Tensor) -> Check:
    rows = first.double()
    in_unit = bool(((rows >= 0) & (rows <= 1)).all())
    sums_one = bool(torch.allclose(rows.sum(dim=-1), torch.ones_like(rows[:, 0]), atol=1e-4))
    looks = in_unit and sums_one
    detail = (
        "outputs are non-negative rows summing to 1: probabilities, which weaken gradient attacks"
        if looks
        else "outputs are not probability rows"
    )
    return Check("logits", not looks, detail)


def _pgd_le_fgsm(curve: RobustnessCurve | None, tol: float) -> Check:
    if curve is None or "pgd" not in curve.per_attack or "fgsm" not in curve.per_attack:
        return Check("pgd_le_fgsm", None, "needs a curve with both 'pgd' and 'fgsm'")
    pgd, fgsm = np.array(curve.per_attack["pgd"]), np.array(curve.per_attack["fgsm"])
    bad = np.flatnonzero(pgd > fgsm + tol)
    detail = f"pgd {_fmt(pgd)} vs fgsm {_fmt(fgsm)} at eps {_fmt(curve.epsilons)}"
    if bad.size:
        detail += f"; PGD is weaker at eps {_fmt(np.array(curve.epsilons)[bad])}"
    return Check("pgd_le_fgsm", bad.size == 0, detail)


def _monotone(curves: dict[str, tuple[tuple[float, ...], tuple[float, ...]]], tol: float) -> Check:
    if not curves:
        return Check("monotone", None, "needs a robustness curve")
    problems = []
    for name, (eps, acc) in curves.items():
        order = np.argsort(np.asarray(eps), kind="stable")
        values = np.asarray(acc)[order]
        rises = np.flatnonzero(np.diff(values) > tol)
        if rises.size:
            at = np.asarray(eps)[order][rises + 1]
            problems.append(f"{name} rises at eps {_fmt(at)}")
    detail = "; ".join(problems) if problems else f"non-increasing: {', '.join(curves)}"
    return Check("monotone", not problems, detail)


def _adv_le_noise(curve: RobustnessCurve | None, others: list[NoiseCurve], tol: float) -> Check:
    if curve is None or not others:
        return Check("adversarial_le_noise", None, "needs a robustness curve and a noise curve")
    if any(curve.norm != other.norm for other in others):
        norms = ", ".join(other.norm for other in others)
        return Check("adversarial_le_noise", None, f"norms differ: {curve.norm} vs {norms}")
    noise_at: dict[float, float] = {}
    for other in others:
        for e, a in zip(other.epsilons, other.robust_accuracy, strict=True):
            noise_at[e] = min(a, noise_at.get(e, a))
    pairs = [
        (e, a, noise_at[e])
        for e, a in zip(curve.epsilons, curve.robust_accuracy, strict=True)
        if e in noise_at
    ]
    if not pairs:
        return Check("adversarial_le_noise", None, "the curves share no epsilon")
    bad = [e for e, a, n in pairs if a > n + tol]
    detail = ", ".join(f"eps {e:.4g}: adversarial {a:.4g} vs noise {n:.4g}" for e, a, n in pairs)
    kinds = ", ".join(getattr(other, "distribution", "uniform") for other in others)
    detail += f" (worst of {kinds} noise)"
    if bad:
        detail = f"noise beats the attacks at eps {_fmt(bad)}; " + detail
    return Check("adversarial_le_noise", not bad, detail)


def _certified_le_minimal(
    certified: CertifiedRadius | None, minimal: MinimalPerturbation | None
) -> Check:
    if certified is None or minimal is None:
        return Check(
            "certified_le_minimal", None, "needs a certified radius and minimal perturbations"
        )
    if not certified.certified:
        return Check("certified_le_minimal", None, f"no certificate applies: {certified.reason}")
    if certified.norm != minimal.norm or len(certified.radius) != len(minimal.norms):
        return Check(
            "certified_le_minimal",
            None,
            f"results differ in norm or size: {certified.norm}/{len(certified.radius)} vs "
            f"{minimal.norm}/{len(minimal.norms)}",
        )
    radius, found = np.asarray(certified.radius), np.asarray(minimal.norms)
    bad = np.flatnonzero(radius > found * (1 + 1e-6) + 1e-12)
    detail = (
        f"median certified {np.median(radius):.4g} vs median minimal "
        f"{np.median(found):.4g} over {radius.size} samples"
    )
    if bad.size:
        detail = (
            f"{bad.size} samples have certified > minimal norm (first {int(bad[0])}); " + detail
        )
    return Check("certified_le_minimal", bad.size == 0, detail)


def sanity(
    model: torch.nn.Module,
    x: Any,
    y: Any,
    *,
    norm: str = "linf",
    epsilons: Any = None,
    curve: RobustnessCurve | None = None,
    noise_curve: NoiseCurve | None = None,
    noise_curves: Any = (),
    minimal: MinimalPerturbation | None = None,
    certified: CertifiedRadius | None = None,
    steps: int = 50,
    bounds: tuple[float, float] = (0.0, 1.0),
    seed: int = 0,
    tolerance: float = 0.0,
) -> SanityReport:
    """Run the sanity checks of an adversarial evaluation.

    The model-level checks (``gradients``, ``deterministic``, ``logits``,
    ``large_eps``) always run. With ``epsilons`` and no ``curve`` (or
    ``noise_curve``), an FGSM + PGD curve (or 20-draw uniform and sign noise curves) is
    computed first; curves and results passed in are checked as they are.

    Parameters
    ----------
    model : torch.nn.Module
        Maps ``(B, T, F)`` to logits ``(B, C)`` or ``(B, T, C)``.
    x : (B, T, F) array_like
        Inputs within ``bounds``.
    y : (B,) array_like of int
        Class labels.
    norm : {"linf", "l2"}, default "linf"
        Threat model (taken from ``curve`` when given).
    epsilons : float or sequence of float, optional
        Sizes for curves computed here.
    curve : RobustnessCurve, optional
        Result of :func:`attacks.adversarial`.
    noise_curve : NoiseCurve, optional
        Result of :func:`attacks.noise`.
    noise_curves : sequence of NoiseCurve, optional
        More noise curves (e.g. sign noise) checked the same way.
    minimal : MinimalPerturbation, optional
        Result of :func:`attacks.minimal_perturbation`.
    certified : CertifiedRadius, optional
        Result of :func:`attacks.certified_radius`.
    steps : int, default 50
        PGD steps for the checks computed here.
    bounds : tuple of float, default (0.0, 1.0)
        Input domain.
    seed : int, default 0
        Seed of the attacks and noise computed here.
    tolerance : float, default 0.0
        Slack, in accuracy units, of the curve comparisons.

    Returns
    -------
    SanityReport
        Every check with its outcome and numbers.

    Raises
    ------
    AttackInputError
        For bad inputs, labels, bounds or settings, or a curve of another norm.
    UnknownAttackError
        For an unknown norm.
    UnsupportedModelError
        When ``model`` is not a module returning a logits tensor.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(6, 3))
    >>> x, y = torch.rand(8, 3, 2), torch.randint(0, 3, (8,))
    >>> report = sanity(net, x, y, epsilons=[0.0, 0.1], steps=5)
    >>> report["gradients"].passed
    True
    """
    model = check_model(model)
    norm = check_norm(curve.norm if curve is not None else norm)
    if noise_curve is not None and noise_curve.norm != norm:
        raise AttackInputError(f"noise_curve has norm {noise_curve.norm!r}, expected {norm!r}")
    steps = check_positive_int(steps, "steps")
    bounds = check_bounds(bounds)
    seed = check_seed(seed)
    tol = float(tolerance)
    if not math.isfinite(tol) or tol < 0:
        raise AttackInputError(f"tolerance must be finite and >= 0, got {tolerance!r}")
    batch = prepare(model, x, y)
    check_in_bounds(batch.x, bounds)

    with attack_mode(model, seed=seed) as wrapped:
        first = logits_of(wrapped, batch.x)
        check_labels_match(batch.y, int(first.shape[-1]))
        checks = [
            _gradients(wrapped, batch.x, batch.y),
            _deterministic(wrapped, batch.x, first),
            _logits(first),
        ]

    lo, hi = bounds
    big = (hi - lo) * (1.0 if norm == "linf" else math.sqrt(batch.dim))
    wide = adversarial(
        model,
        batch.x,
        batch.y,
        norm=norm,
        epsilons=[big],
        attacks=("pgd",),
        steps=steps,
        bounds=bounds,
        seed=seed,
    )
    left = wide.robust_accuracy[0]
    checks.append(
        Check(
            "large_eps",
            left == 0.0,
            f"PGD ({steps} steps) at {norm} eps {big:.4g}, which covers the input box, "
            f"leaves {left:.4g} robust",
        )
    )

    if epsilons is not None and curve is None:
        curve = adversarial(
            model,
            batch.x,
            batch.y,
            norm=norm,
            epsilons=epsilons,
            attacks=("fgsm", "pgd"),
            steps=steps,
            bounds=bounds,
            seed=seed,
        )
    others = [c for c in (noise_curve, *noise_curves) if c is not None]
    if any(c.norm != norm for c in others):
        raise AttackInputError(f"noise curves must have norm {norm!r}")
    if epsilons is not None and noise_curve is None:
        others = [
            noise(
                model,
                batch.x,
                batch.y,
                norm=norm,
                epsilons=epsilons,
                bounds=bounds,
                seed=seed,
                distribution=kind,
            )
            for kind in ("uniform", "sign")
        ] + others

    curves: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {}
    if curve is not None:
        curves["worst case"] = (curve.epsilons, curve.robust_accuracy)
        for name, acc in curve.per_attack.items():
            curves[name] = (curve.epsilons, acc)
    checks += [
        _pgd_le_fgsm(curve, tol),
        _monotone(curves, tol),
        _adv_le_noise(curve, others, tol),
        _certified_le_minimal(certified, minimal),
        Check("black_box_le_white_box", *black_box_le_white_box(curve, tol)),
        Check("adaptive_le_plain", *adaptive_le_plain(curve, tol)),
        Check("minimal_matches_curve", *minimal_matches_curve(curve, minimal)),
    ]
    return SanityReport(tuple(checks))
