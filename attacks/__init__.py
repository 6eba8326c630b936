"""Adversarial, random and weight perturbations of recurrent classifiers.

Every function takes a :class:`torch.nn.Module` mapping ``(B, T, F)`` inputs to
logits (``(B, C)``, or ``(B, T, C)`` whose last step is used), inputs ``x``,
integer labels ``y`` and keyword-only options, and returns a frozen dataclass
with a JSON-ready ``to_dict()`` that records library versions, settings, seed
and sample count.

* :func:`adversarial` -- robust accuracy versus epsilon (FGSM, PGD, BIM,
  DeepFool, FMN, C&W through foolbox), worst case per sample.
* :func:`minimal_perturbation` -- per-sample minimal adversarial norm.
* :func:`noise` -- accuracy under random perturbations of the same sizes.
* :func:`weight_noise` -- accuracy and spectrum with ``W + E``.
* :func:`certified_radius` -- spectral-norm Lipschitz certificate.
* :func:`sanity` -- checks for weak attacks, gradient masking, unsound bounds.
"""

from attacks.certify import CertifiedRadius, certified_radius
from attacks.checks import Check, SanityReport, sanity
from attacks.errors import (
    AttackInputError,
    AttacksError,
    UnknownAttackError,
    UnsupportedModelError,
)
from attacks.minimal import MinimalPerturbation, minimal_perturbation
from attacks.random_noise import NoiseCurve, noise
from attacks.robustness import ATTACKS, RobustnessCurve, adversarial
from attacks.weights import WeightNoiseResult, weight_noise

__all__ = [
    "ATTACKS",
    "AttackInputError",
    "AttacksError",
    "CertifiedRadius",
    "Check",
    "MinimalPerturbation",
    "NoiseCurve",
    "RobustnessCurve",
    "SanityReport",
    "UnknownAttackError",
    "UnsupportedModelError",
    "WeightNoiseResult",
    "adversarial",
    "certified_radius",
    "minimal_perturbation",
    "noise",
    "sanity",
    "weight_noise",
]
