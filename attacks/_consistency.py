"""Consistency checks between attack results: masking and minimal-norm agreement (private).

Each function returns ``(passed, detail)`` with ``passed=None`` when the inputs do not allow the
check; :mod:`attacks.checks` turns them into :class:`~attacks.Check` objects.

* ``black_box_le_white_box`` -- Square (forward passes only) must not beat the gradient
  attacks: robust accuracy under Square >= the worst case over the white-box members, minus
  the tolerance, at every size. When it fails, gradients hide adversarials (masking).
* ``adaptive_le_plain`` -- the adaptive attack through the modReLU surrogate must be at least
  as strong as the plain gradient attacks; a much stronger adaptive attack (or a weaker one)
  is reported as a failure with the numbers, since then the plain numbers are not to be trusted
  (or the surrogate does not fit).
* ``minimal_matches_curve`` -- the accuracy implied by the minimal norms (fraction of samples
  whose minimal norm exceeds each size) must lie inside the 95 % Wilson interval of the
  curve's robust accuracy at every size of the curve.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from attacks.intervals import wilson

__all__ = ["adaptive_le_plain", "black_box_le_white_box", "minimal_matches_curve"]


def _fmt(values: Any) -> str:
    return "[" + ", ".join(f"{float(v):.4g}" for v in values) + "]"


def black_box_le_white_box(curve: Any, tol: float) -> tuple[bool | None, str]:
    """Check that Square does not beat the white-box attacks (see the module docstring)."""
    if curve is None or "square" not in curve.per_attack or curve.white_box is None:
        return None, "needs a curve with 'square' and white-box members"
    white_members = [n for n in curve.per_attack if n not in ("square", "adaptive")]
    if not white_members:
        return None, "needs at least one white-box member next to 'square'"
    black = np.asarray(curve.per_attack["square"])
    white = np.asarray(curve.white_box)
    bad = np.flatnonzero(black < white - tol)
    detail = (
        f"square {_fmt(black)} vs white-box worst case {_fmt(white)} "
        f"({', '.join(white_members)}) at eps {_fmt(curve.epsilons)}"
    )
    if bad.size:
        detail = (
            f"GRADIENT MASKING: the black-box attack beats the gradient attacks at eps "
            f"{_fmt(np.asarray(curve.epsilons)[bad])}; " + detail
        )
    return bad.size == 0, detail


def adaptive_le_plain(curve: Any, tol: float) -> tuple[bool | None, str]:
    """Check that the adaptive attack is at least as strong as the plain white-box attacks."""
    if curve is None:
        return None, "needs a robustness curve"
    notes = getattr(curve, "notes", {}) or {}
    if "adaptive" not in curve.per_attack:
        why = notes.get("adaptive", "the curve has no 'adaptive' member")
        return None, f"adaptive attack not run: {why}"
    if curve.white_box is None:
        return None, "needs the white-box worst case of the curve"
    adaptive = np.asarray(curve.per_attack["adaptive"])
    plain = np.asarray(curve.white_box)
    weaker = np.flatnonzero(adaptive > plain + tol)
    detail = f"adaptive {_fmt(adaptive)} vs plain white-box {_fmt(plain)} at eps "
    detail += _fmt(curve.epsilons)
    gap = float(np.max(plain - adaptive)) if adaptive.size else 0.0
    if gap > tol:
        detail += f"; the adaptive attack breaks up to {gap:.4g} more: gradients were masked"
    if weaker.size:
        detail = (
            f"the adaptive attack is weaker than the plain attacks at eps "
            f"{_fmt(np.asarray(curve.epsilons)[weaker])}; " + detail
        )
    return weaker.size == 0, detail


def minimal_matches_curve(curve: Any, minimal: Any) -> tuple[bool | None, str]:
    """Check the accuracy implied by minimal norms against the curve's Wilson intervals."""
    if curve is None or minimal is None:
        return None, "needs a robustness curve and minimal perturbations"
    if curve.norm != minimal.norm or curve.n_samples != minimal.n_samples:
        return None, (
            f"results differ in norm or size: {curve.norm}/{curve.n_samples} vs "
            f"{minimal.norm}/{minimal.n_samples}"
        )
    implied = np.asarray(minimal.accuracy_at(curve.epsilons))
    robust = np.asarray(curve.robust_accuracy)
    n = curve.n_samples
    bands = [wilson(a * n, n) for a in robust]
    bad = [
        k for k, (v, (lo, hi)) in enumerate(zip(implied, bands, strict=True)) if not lo <= v <= hi
    ]
    detail = (
        f"implied by minimal norms {_fmt(implied)} vs attack curve {_fmt(robust)} "
        f"(95 % intervals {', '.join(f'[{lo:.3g}, {hi:.3g}]' for lo, hi in bands)}) at eps "
        f"{_fmt(curve.epsilons)}"
    )
    if bad:
        detail = (
            f"minimal norms disagree with the curve at eps "
            f"{_fmt(np.asarray(curve.epsilons)[bad])}; " + detail
        )
    return not bad, detail
