"""Typed robustness results of one model: what the report's robustness sections carry.

Each object holds the :mod:`attacks` result objects it was computed from and serialises once,
with ``to_dict()``, to the fields of ``report.json`` (a flat, JSON-ready subset: the full
provenance of every attack result stays available through the objects).

Examples
--------
>>> check = SanityCheck("logits", SanityStatus.FAIL, "constant")
>>> Sanity((check,)).failed, Sanity((check,)).summary()
(('logits',), 'FAIL: logits')
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import attacks

__all__ = [
    "AttackRun",
    "NormRobustness",
    "Robustness",
    "Sanity",
    "SanityCheck",
    "SanityStatus",
    "WeightNoise",
]


def _floats(values: Sequence[Any]) -> list[float]:
    return [float(v) for v in values]


def _finite(value: Any) -> Any:
    """Copy of nested lists and dicts with non-finite floats as ``None``."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _median_on(values: Sequence[float], correct: Sequence[bool]) -> float | None:
    kept = [float(v) for v, ok in zip(values, correct, strict=True) if ok]
    return float(np.median(kept)) if kept else None


@dataclass(frozen=True, eq=False)
class NormRobustness:
    """Adversarial, noise, minimal-perturbation and certified results for one threat model.

    Attributes
    ----------
    norm : {"linf", "l2"}
        Threat model.
    eps : tuple of float
        Budgets.
    adversarial : attacks.RobustnessCurve
        Worst-case and per-attack robust accuracy.
    noise : attacks.NoiseCurve
        Accuracy under random noise of the same sizes.
    minimal : attacks.MinimalPerturbation
        Per-sample minimal adversarial norms.
    certified : attacks.CertifiedRadius or None
        Lipschitz certificate; ``None`` when the model is not supported.
    certified_reason : str or None
        Why there is no certificate (unsupported model, or the certificate does not apply).
    """

    norm: str
    eps: tuple[float, ...]
    adversarial: attacks.RobustnessCurve = field(repr=False)
    noise: attacks.NoiseCurve = field(repr=False)
    minimal: attacks.MinimalPerturbation = field(repr=False)
    certified: attacks.CertifiedRadius | None = field(repr=False)
    certified_reason: str | None = None

    @property
    def clean_accuracy(self) -> float:
        """Accuracy on the unperturbed samples."""
        return float(self.adversarial.clean_accuracy)

    @property
    def certified_median(self) -> float | None:
        """Median certified radius, ``None`` without a certificate."""
        if self.certified is None or not self.certified.certified:
            return None
        return self.certified.median

    def certified_accuracy(self) -> list[float] | None:
        """Certified accuracy at each budget, ``None`` without a certificate.

        Returns
        -------
        list of float or None
            One value per budget.
        """
        if self.certified is None or not self.certified.certified:
            return None
        return _floats(self.certified.certified_accuracy(list(self.eps)))

    def curves(self) -> list[tuple[str, list[float]]]:
        """Accuracy curves as drawn and tabulated: per attack, worst case, noise, certified.

        Returns
        -------
        list of (str, list of float)
            Label and one value per budget.
        """
        out = [(name, _floats(v)) for name, v in self.adversarial.per_attack.items()]
        out.append(("worst case", _floats(self.adversarial.robust_accuracy)))
        out.append(("random noise", _floats(self.noise.robust_accuracy)))
        certified = self.certified_accuracy()
        if certified is not None:
            out.append(("certified", certified))
        return out

    def bands(self) -> dict[str, list[tuple[float, float]]]:
        """95 % Wilson intervals of the drawn curves (worst case and random noise), per budget.

        Returns
        -------
        dict of str to list of (float, float)
            Keyed by the labels of :meth:`curves`; a curve without intervals is left out.
        """
        out = {}
        for label, result in (("worst case", self.adversarial), ("random noise", self.noise)):
            robust = (getattr(result, "intervals", None) or {}).get("robust")
            if robust:
                out[label] = [(float(lo), float(hi)) for lo, hi in robust]
        return out

    def clean_band(self) -> tuple[float, float] | None:
        """95 % Wilson interval of the clean accuracy, ``None`` when not computed.

        Returns
        -------
        (float, float) or None
            ``(lo, hi)``.
        """
        band = (getattr(self.adversarial, "intervals", None) or {}).get("clean")
        return None if not band else (float(band[0]), float(band[1]))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready block of ``report.json`` (``robustness.linf`` or ``robustness.l2``).

        Returns
        -------
        dict
            ``eps``, ``clean_accuracy``, ``adversarial``, ``noise``, ``minimal``, ``certified``.
        """
        minimal = self.minimal
        if self.certified is not None and self.certified.certified:
            cert = self.certified
            lipschitz = float(cert.lipschitz)
            certified: dict[str, Any] = {
                "supported": True,
                "median": cert.median,
                "certified_accuracy": self.certified_accuracy(),
                "lipschitz": lipschitz if np.isfinite(lipschitz) else None,
                "status": cert.status,
                "vacuous": [bool(v) for v in (cert.vacuous or ())],
                "bound": list(cert.bound or ()),
                "median_by_bound": {
                    name: _median_on(values, cert.correct)
                    for name, values in cert.per_bound.items()
                },
                "resolution": cert.resolution,
            }
        else:
            certified = {
                "supported": False,
                "reason": str(self.certified_reason or ""),
                "status": "skipped",
            }
        return {
            "eps": _floats(self.eps),
            "clean_accuracy": self.clean_accuracy,
            "adversarial": {
                "robust_accuracy": _floats(self.adversarial.robust_accuracy),
                "per_attack": {k: _floats(v) for k, v in self.adversarial.per_attack.items()},
                "eps50": self.adversarial.eps50,
                "auc": float(self.adversarial.auc),
                "strength": getattr(self.adversarial, "strength", None),
                "intervals": _finite(getattr(self.adversarial, "intervals", None)),
                "white_box": _floats(self.adversarial.white_box or ()),
                "notes": dict(getattr(self.adversarial, "notes", {}) or {}),
            },
            "noise": {
                "accuracy": _floats(self.noise.robust_accuracy),
                "mean_accuracy": _floats(self.noise.mean_accuracy),
                "draws": int(self.noise.draws),
                "eps50": self.noise.eps50,
                "intervals": _finite(getattr(self.noise, "intervals", None)),
            },
            "minimal": {
                "attacks": list(minimal.attacks),
                "median": minimal.median,
                "q1": minimal.q1,
                "q3": minimal.q3,
                "success_rate": minimal.success_rate,
                "accuracy_at_eps": _floats(minimal.accuracy_at(list(self.eps))),
                "intervals": _finite(getattr(minimal, "intervals", None)),
            },
            "certified": certified,
        }


@dataclass(frozen=True, eq=False)
class WeightNoise:
    r"""Accuracy and spectrum with the recurrent matrix replaced by :math:`W + E`.

    Attributes
    ----------
    result : attacks.WeightNoiseResult
        The weight-noise run (its ``eigenvalues`` are those of every perturbed matrix).
    """

    result: attacks.WeightNoiseResult = field(repr=False)

    @property
    def eigenvalues(self) -> np.ndarray:
        """Eigenvalues of every perturbed matrix, flattened (for the pseudospectrum figure)."""
        return np.asarray(self.result.eigenvalues, dtype=complex).ravel()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready ``robustness.weight_noise`` block of ``report.json``.

        Returns
        -------
        dict
            ``target``, ``eps``, ``mean``, ``std``, ``intervals`` (the 95 % Wilson interval
            ``[lo, hi]`` of each mean over the evaluated samples), ``spectral_radius_mean``
            and ``spectral_radius_w``.
        """
        weight = self.result
        return {
            "target": str(weight.target),
            "eps": _floats(weight.epsilons),
            "mean": _floats(weight.mean_accuracy),
            "std": _floats(weight.std_accuracy),
            "intervals": [_floats(band) for band in weight.intervals],
            "spectral_radius_mean": _floats(
                np.asarray(weight.spectral_radius, dtype=float).mean(axis=1)
            ),
            "spectral_radius_w": float(weight.spectral_radius_w),
        }


class SanityStatus(enum.Enum):
    """Outcome of one sanity check.

    Examples
    --------
    >>> SanityStatus.from_passed(None)
    <SanityStatus.SKIPPED: 'skipped'>
    """

    PASS = "pass"
    FAIL = "fail"
    SKIPPED = "skipped"

    @classmethod
    def from_passed(cls, passed: bool | None) -> SanityStatus:
        """Map ``attacks.Check.passed`` (``True``, ``False`` or ``None``) to a status.

        Parameters
        ----------
        passed : bool or None
            The check's outcome (``None``: it could not run).

        Returns
        -------
        SanityStatus
            The status.
        """
        if passed is None:
            return cls.SKIPPED
        return cls.PASS if passed else cls.FAIL

    @property
    def passed(self) -> bool | None:
        """``True``, ``False``, or ``None`` for a skipped check (the JSON field)."""
        return None if self is SanityStatus.SKIPPED else self is SanityStatus.PASS


@dataclass(frozen=True)
class SanityCheck:
    """One sanity check of the attacks.

    Attributes
    ----------
    name : str
        Check name; checks that depend on the threat model carry it, e.g. ``"monotone (l2)"``.
    status : SanityStatus
        Pass, fail or skipped.
    detail : str
        The numbers behind the outcome, or why it was skipped.
    """

    name: str
    status: SanityStatus
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready entry of ``robustness.sanity``.

        Returns
        -------
        dict
            ``name``, ``passed`` (``null`` when skipped) and ``detail``.

        Examples
        --------
        >>> SanityCheck("x", SanityStatus.SKIPPED, "n/a").to_dict()
        {'name': 'x', 'passed': None, 'detail': 'n/a'}
        """
        return {"name": self.name, "passed": self.status.passed, "detail": self.detail}


@dataclass(frozen=True)
class Sanity:
    """The sanity checks of one model.

    Attributes
    ----------
    checks : tuple of SanityCheck
        In the order they ran.
    """

    checks: tuple[SanityCheck, ...]

    @property
    def failed(self) -> tuple[str, ...]:
        """Names of the failed checks."""
        return tuple(c.name for c in self.checks if c.status is SanityStatus.FAIL)

    @property
    def status(self) -> SanityStatus:
        """``FAIL`` if any check failed, else ``PASS``."""
        return SanityStatus.FAIL if self.failed else SanityStatus.PASS

    def summary(self) -> str:
        """Return the comparison-table value of ``report.json``: ``"ok"`` or ``"FAIL: a; b"``.

        Returns
        -------
        str
            Written to JSON only; tables use :attr:`failed` and :attr:`status`.
        """
        return "FAIL: " + "; ".join(self.failed) if self.failed else "ok"

    def to_dict(self) -> list[dict[str, Any]]:
        """JSON-ready ``robustness.sanity`` list.

        Returns
        -------
        list of dict
            One entry per check.
        """
        return [check.to_dict() for check in self.checks]


@dataclass(frozen=True, eq=False)
class Robustness:
    """Every robustness measurement of one model.

    Attributes
    ----------
    samples : int
        Test sequences evaluated.
    linf, l2 : NormRobustness
        Results per threat model.
    weight_noise : WeightNoise or None
        Weight-noise run (``None`` when not measured).
    sanity : Sanity or None
        Sanity checks (``None`` when not run).
    """

    samples: int
    linf: NormRobustness
    l2: NormRobustness
    weight_noise: WeightNoise | None = None
    sanity: Sanity | None = None

    @property
    def clean_accuracy(self) -> float:
        """Accuracy on the unperturbed samples."""
        return self.linf.clean_accuracy

    def norms(self) -> tuple[NormRobustness, NormRobustness]:
        """Return the two threat models, L-infinity first.

        Returns
        -------
        tuple of NormRobustness
            ``(linf, l2)``.
        """
        return self.linf, self.l2

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready ``robustness`` block of ``report.json``.

        Returns
        -------
        dict
            ``samples``, ``clean_accuracy``, ``linf``, ``l2`` and, when measured,
            ``weight_noise`` and ``sanity``.
        """
        out: dict[str, Any] = {
            "samples": int(self.samples),
            "clean_accuracy": self.clean_accuracy,
            "linf": self.linf.to_dict(),
            "l2": self.l2.to_dict(),
        }
        if self.weight_noise is not None:
            out["weight_noise"] = self.weight_noise.to_dict()
        if self.sanity is not None:
            out["sanity"] = self.sanity.to_dict()
        return out


@dataclass(frozen=True, eq=False)
class AttackRun:
    """Result of ``rnnscope attack``: robust accuracy of one checkpoint under input attacks.

    Attributes
    ----------
    source : str
        The checkpoint.
    task : str
        Task name.
    task_params : dict
        Task parameters.
    curve : attacks.RobustnessCurve
        Worst-case and per-attack robust accuracy.
    steps : int
        Iterations of the iterative attacks.
    seed : int
        Seed of the random starts.
    windows : attacks.TimeWindows or None
        Robust accuracy with the attack confined to windows of time steps (``--windows``).
    transfer : attacks.TransferMatrix or None
        Adversarials of this and the other checkpoints evaluated on each other
        (``--transfer``).
    hidden_state : attacks.HiddenStateCurve or None
        Accuracy with the hidden state perturbed at one step (``--hidden-state``).
    """

    source: str
    task: str
    task_params: dict[str, Any]
    curve: attacks.RobustnessCurve = field(repr=False)
    steps: int
    seed: int
    windows: attacks.TimeWindows | None = field(default=None, repr=False)
    transfer: attacks.TransferMatrix | None = field(default=None, repr=False)
    hidden_state: attacks.HiddenStateCurve | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready ``rnnscope attack --json`` object.

        Returns
        -------
        dict
            ``{"source", "task": {"name", "params"}, "norm", "eps", "samples", "steps",
            "seed", "clean_accuracy", "robust_accuracy": {attack or "worst": [...]}, "eps50",
            "auc", "strength", "intervals", "notes", "time_windows", "transfer",
            "hidden_state"}``.
        """
        curve = self.curve
        robust = {name: _floats(values) for name, values in curve.per_attack.items()}
        robust["worst"] = _floats(curve.robust_accuracy)
        return {
            "source": self.source,
            "task": {"name": self.task, "params": dict(self.task_params)},
            "norm": curve.norm,
            "eps": _floats(curve.epsilons),
            "samples": int(curve.n_samples),
            "steps": self.steps,
            "seed": self.seed,
            "clean_accuracy": float(curve.clean_accuracy),
            "robust_accuracy": robust,
            "eps50": curve.eps50,
            "auc": float(curve.auc),
            "strength": getattr(curve, "strength", None),
            "intervals": _finite(getattr(curve, "intervals", None)),
            "notes": dict(getattr(curve, "notes", {}) or {}),
            "time_windows": None if self.windows is None else _finite(self.windows.to_dict()),
            "transfer": None if self.transfer is None else self.transfer.to_dict(),
            "hidden_state": None if self.hidden_state is None else self.hidden_state.to_dict(),
        }
