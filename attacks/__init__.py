"""Adversarial, random and weight perturbations of recurrent classifiers.

Every function takes a :class:`torch.nn.Module` mapping ``(B, T, F)`` inputs to
logits (``(B, C)``, or ``(B, T, C)`` whose last step is used), inputs ``x``,
integer labels ``y`` and keyword-only options, and returns a frozen dataclass
with a JSON-ready ``to_dict()`` that records library versions, settings, seed
and sample count.

* :func:`adversarial` -- robust accuracy versus epsilon, worst case per sample over
  an ensemble: by default APGD-CE, APGD-DLR and Square (plus an adaptive attack through a
  smooth surrogate for modReLU models) at a ``strength`` (:data:`STRENGTHS`); FGSM, PGD,
  BIM, DeepFool, FMN and C&W through foolbox on request.
* :func:`minimal_perturbation` -- per-sample minimal adversarial norm, minimum over
  DeepFool, FMN, C&W, Linf FMN and an APGD bisection, capped by a curve's breaks.
* :func:`noise` -- accuracy under random (uniform or sign) perturbations of the same sizes.
* :func:`weight_noise` -- accuracy and spectrum with ``W + E``.
* :func:`certified_radius` -- spectral-norm Lipschitz certificate.
* :func:`sanity` -- checks for weak attacks, gradient masking, unsound bounds.
* :func:`time_windows`, :func:`transfer` -- where in time a sequence is fragile, and how
  adversarials carry over between models.
* :func:`hidden_state` -- accuracy when the hidden state after one step is moved by a
  relative size delta (random and adversarial directions).
* :func:`wilson` -- the 95 % interval attached to every accuracy.
"""

from attacks.certify import CertifiedRadius, certified_radius
from attacks.checks import Check, SanityReport, sanity
from attacks.errors import (
    AttackInputError,
    AttacksError,
    UnknownAttackError,
    UnsupportedModelError,
)
from attacks.hidden import HiddenStateCurve, hidden_state
from attacks.intervals import bootstrap, wilson
from attacks.minimal import MINIMAL_ENSEMBLE, MinimalPerturbation, minimal_perturbation
from attacks.random_noise import DISTRIBUTIONS, NoiseCurve, noise
from attacks.robustness import (
    ATTACKS,
    DEFAULT_ATTACKS,
    RobustnessCurve,
    adversarial,
    default_attacks,
)
from attacks.strength import STRENGTHS, Strength
from attacks.surrogate import has_modrelu
from attacks.temporal import TimeWindows, TransferMatrix, time_windows, transfer
from attacks.weights import WeightNoiseResult, weight_noise

__all__ = [
    "ATTACKS",
    "DEFAULT_ATTACKS",
    "DISTRIBUTIONS",
    "MINIMAL_ENSEMBLE",
    "STRENGTHS",
    "AttackInputError",
    "AttacksError",
    "CertifiedRadius",
    "Check",
    "HiddenStateCurve",
    "MinimalPerturbation",
    "NoiseCurve",
    "RobustnessCurve",
    "SanityReport",
    "Strength",
    "TimeWindows",
    "TransferMatrix",
    "UnknownAttackError",
    "UnsupportedModelError",
    "WeightNoiseResult",
    "adversarial",
    "bootstrap",
    "certified_radius",
    "default_attacks",
    "has_modrelu",
    "hidden_state",
    "minimal_perturbation",
    "noise",
    "sanity",
    "time_windows",
    "transfer",
    "weight_noise",
    "wilson",
]
