"""What every point of a sweep runs: its ``[train]``, ``[analyze]``, ``[attack]``, ``[dynamics]``.

Each table is a frozen dataclass whose defaults come from :mod:`rnnscope.settings` (the defaults
of ``rnnscope train``, ``analyze``, ``report`` and ``dynamics``), and a function that checks the
table of a parsed SPEC.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from rnnscope.settings import (
    ATTACK_NAMES,
    AnalysisSettings,
    DynamicsSettings,
    EvaluationSettings,
    TrainSettings,
)
from rnnscope.sweep._values import (
    Where,
    check_keys,
    integer,
    names,
    numbers,
    positive,
    show,
    table,
)

__all__ = [
    "NORMS",
    "AnalyzeSettings",
    "AttackSettings",
    "DynamicsBudget",
    "TrainBudget",
    "parse_analyze",
    "parse_attack",
    "parse_dynamics",
    "parse_train",
]

#: Threat models a sweep can attack in.
NORMS = ("linf", "l2")


@dataclass(frozen=True)
class TrainBudget:
    """Training settings shared by every point (defaults: those of ``rnnscope train``).

    Attributes
    ----------
    steps : int
        Optimizer steps.
    batch_size : int
        Sequences per batch.
    clip : float or None
        Gradient-norm clipping.
    lr_orth : float or None
        Learning rate of orthogonal parameters (default: a tenth of ``lr``).

    Examples
    --------
    >>> TrainBudget().steps == TrainSettings().steps
    True
    """

    steps: int = TrainSettings.steps
    batch_size: int = TrainSettings.batch_size
    clip: float | None = None
    lr_orth: float | None = TrainSettings.lr_orth

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings.

        Returns
        -------
        dict
            ``{"steps", "batch_size", "clip", "lr_orth"}``.
        """
        return asdict(self)


@dataclass(frozen=True)
class AnalyzeSettings:
    """What the analysis of every point computes (defaults: those of ``rnnscope analyze``).

    Attributes
    ----------
    eps : tuple of float
        Perturbation sizes of the pseudospectral radius.

    Examples
    --------
    >>> AnalyzeSettings().eps
    (0.001, 0.01, 0.1)
    """

    eps: tuple[float, ...] = AnalysisSettings.eps

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings.

        Returns
        -------
        dict
            ``{"eps"}``.
        """
        return {"eps": list(self.eps)}


@dataclass(frozen=True)
class AttackSettings:
    """What the attack of every point runs (see :func:`rnnscope.attack.attack_checkpoint`).

    The defaults are those of the robustness part of ``rnnscope report``.

    Attributes
    ----------
    norms : tuple of str
        Threat models, ``"linf"`` and/or ``"l2"``.
    eps : dict
        Budgets per norm.
    attacks : tuple of str
        Attack names.
    samples : int
        Test sequences attacked.
    steps : int
        Iterations of the iterative attacks.
    seed : int
        Seed of the random starts.

    Examples
    --------
    >>> AttackSettings().norms
    ('linf', 'l2')
    """

    norms: tuple[str, ...] = NORMS
    eps: dict[str, tuple[float, ...]] = field(
        default_factory=lambda: {
            "linf": tuple(EvaluationSettings.linf_eps),
            "l2": tuple(EvaluationSettings.l2_eps),
        }
    )
    attacks: tuple[str, ...] = EvaluationSettings.attacks
    samples: int = EvaluationSettings.samples
    steps: int = EvaluationSettings.steps
    seed: int = EvaluationSettings.seed

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings.

        Returns
        -------
        dict
            ``{"norms", "eps": {norm: [...]}, "attacks", "samples", "steps", "seed"}``.
        """
        return {
            "norms": list(self.norms),
            "eps": {norm: list(self.eps[norm]) for norm in self.norms},
            "attacks": list(self.attacks),
            "samples": self.samples,
            "steps": self.steps,
            "seed": self.seed,
        }


@dataclass(frozen=True)
class DynamicsBudget:
    """What the dynamics of every point computes (defaults: those of ``rnnscope dynamics``).

    Attributes
    ----------
    lyapunov : int
        Number of leading Lyapunov exponents (at least 1).
    fixed_points : bool
        Search fixed points at zero input.
    samples : int
        Test sequences driving the network.
    seed : int
        Seed of every random choice.

    Examples
    --------
    >>> DynamicsBudget().lyapunov == DynamicsSettings().lyapunov
    True
    """

    lyapunov: int = DynamicsSettings.lyapunov
    fixed_points: bool = DynamicsSettings.fixed_points
    samples: int = DynamicsSettings.samples
    seed: int = DynamicsSettings.seed

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings.

        Returns
        -------
        dict
            ``{"lyapunov", "fixed_points", "samples", "seed"}``.
        """
        return asdict(self)


def parse_train(doc: Mapping[str, Any], where: Where) -> TrainBudget:
    """Check the ``[train]`` table of a SPEC.

    Parameters
    ----------
    doc : mapping
        The parsed TOML document.
    where : Where
        The SPEC, for messages.

    Returns
    -------
    TrainBudget
        Its settings, defaults for the keys not given.
    """
    given = table(doc, "train", where)
    check_keys(given, ("steps", "batch_size", "clip", "lr_orth"), where.at("train"))
    default = TrainBudget()
    return TrainBudget(
        steps=integer(given.get("steps", default.steps), where.at("train.steps"), low=1),
        batch_size=integer(
            given.get("batch_size", default.batch_size), where.at("train.batch_size"), low=1
        ),
        clip=_optional_positive(given, "clip", where.at("train.clip")),
        lr_orth=_optional_positive(given, "lr_orth", where.at("train.lr_orth")),
    )


def _optional_positive(given: Mapping[str, Any], key: str, where: Where) -> float | None:
    return None if key not in given else positive(given[key], where)


def parse_analyze(doc: Mapping[str, Any], where: Where) -> AnalyzeSettings | None:
    """Check the ``[analyze]`` table of a SPEC.

    Parameters
    ----------
    doc : mapping
        The parsed TOML document.
    where : Where
        The SPEC, for messages.

    Returns
    -------
    AnalyzeSettings or None
        Its settings, or ``None`` when the SPEC has no such table.
    """
    if "analyze" not in doc:
        return None
    given = table(doc, "analyze", where)
    check_keys(given, ("eps",), where.at("analyze"))
    if "eps" not in given:
        return AnalyzeSettings()
    return AnalyzeSettings(eps=numbers(given["eps"], where.at("analyze.eps")))


def parse_attack(doc: Mapping[str, Any], where: Where) -> AttackSettings | None:
    """Check the ``[attack]`` table of a SPEC.

    Parameters
    ----------
    doc : mapping
        The parsed TOML document.
    where : Where
        The SPEC, for messages.

    Returns
    -------
    AttackSettings or None
        Its settings, or ``None`` when the SPEC has no such table.
    """
    if "attack" not in doc:
        return None
    given = table(doc, "attack", where)
    allowed = ("norms", "linf_eps", "l2_eps", "attacks", "samples", "steps", "seed")
    check_keys(given, allowed, where.at("attack"))
    default = AttackSettings()
    norms = default.norms
    if "norms" in given:
        norms = names(given["norms"], where.at("attack.norms"), NORMS)
    eps = {
        norm: (
            numbers(given[f"{norm}_eps"], where.at(f"attack.{norm}_eps"))
            if f"{norm}_eps" in given
            else default.eps[norm]
        )
        for norm in norms
    }
    attacks = default.attacks
    if "attacks" in given:
        attacks = names(given["attacks"], where.at("attack.attacks"), ATTACK_NAMES)
    return AttackSettings(
        norms=norms,
        eps=eps,
        attacks=attacks,
        samples=integer(given.get("samples", default.samples), where.at("attack.samples"), low=1),
        steps=integer(given.get("steps", default.steps), where.at("attack.steps"), low=1),
        seed=integer(given.get("seed", default.seed), where.at("attack.seed"), low=0),
    )


def parse_dynamics(doc: Mapping[str, Any], where: Where) -> DynamicsBudget | None:
    """Check the ``[dynamics]`` table of a SPEC.

    Parameters
    ----------
    doc : mapping
        The parsed TOML document.
    where : Where
        The SPEC, for messages.

    Returns
    -------
    DynamicsBudget or None
        Its settings, or ``None`` when the SPEC has no such table.
    """
    if "dynamics" not in doc:
        return None
    given = table(doc, "dynamics", where)
    check_keys(given, ("lyapunov", "fixed_points", "samples", "seed"), where.at("dynamics"))
    default = DynamicsBudget()
    fixed_points = given.get("fixed_points", default.fixed_points)
    if not isinstance(fixed_points, bool):
        raise where.at("dynamics.fixed_points").error(
            f"must be true or false, got {show(fixed_points)}"
        )
    return DynamicsBudget(
        lyapunov=integer(
            given.get("lyapunov", default.lyapunov), where.at("dynamics.lyapunov"), low=1
        ),
        fixed_points=fixed_points,
        samples=integer(given.get("samples", default.samples), where.at("dynamics.samples"), low=1),
        seed=integer(given.get("seed", default.seed), where.at("dynamics.seed"), low=0),
    )
