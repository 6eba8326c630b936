"""Settings of every rnnscope command: the one place where defaults and their help live.

Each command's settings are a frozen dataclass; the command line reads every default and help
text from here (see :func:`default` and :func:`help_text`), so changing a default is one edit.

Examples
--------
>>> ReportSettings(samples=32).evaluation().samples
32
>>> default(AnalysisSettings, "grid"), eps_text(DEFAULT_EPS)
(100, '0.001,0.01,0.1')
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ATTACK_NAMES",
    "DEFAULT_EPS",
    "MODEL_KINDS",
    "TRANSIENT_STEPS",
    "AnalysisSettings",
    "AttackSettings",
    "DynamicsSettings",
    "EvaluationSettings",
    "ReportSettings",
    "TrainSettings",
    "default",
    "eps_text",
    "help_text",
]

#: The built-in model kinds, ``models.KINDS``, and the attack names that ``rnnscope attack
#: --attacks`` and a sweep SPEC accept (``attacks.ATTACKS`` and ``default``). Like the training
#: defaults below they are repeated here (a test keeps them equal), so that reading a sweep
#: SPEC does not import torch: ``rnnscope sweep`` starts its worker server as soon as the SPEC
#: has been read, and the server's imports then run beside this process's own.
MODEL_KINDS: tuple[str, ...] = ("rnn", "scornn", "exprnn", "nnrnn", "nru", "lstm", "gru")
ATTACK_NAMES: tuple[str, ...] = (
    "fgsm",
    "pgd",
    "bim",
    "deepfool",
    "fmn",
    "cw",
    "apgd-ce",
    "apgd-dlr",
    "square",
    "adaptive",
    "default",
)

#: Default perturbation sizes of the epsilon-pseudospectral radius and pseudospectrum contours.
DEFAULT_EPS: tuple[float, ...] = (1e-3, 1e-2, 1e-1)

#: Number of powers :math:`\|W^k\|_2`, k = 0..TRANSIENT_STEPS, behind ``max_transient_growth``.
TRANSIENT_STEPS = 100


def _setting(value: Any, help: str) -> Any:
    """Return a dataclass field with its default and its command-line help."""
    return field(default=value, metadata={"help": help})


def default(settings: type, name: str) -> Any:
    """Return the default of field `name` of a settings dataclass.

    Parameters
    ----------
    settings : type
        A settings dataclass, e.g. :class:`ReportSettings`.
    name : str
        Field name.

    Returns
    -------
    object
        The default value.

    Raises
    ------
    KeyError
        If the class has no such field.

    Examples
    --------
    >>> default(ReportSettings, "samples")
    128
    """
    return _field(settings, name).default


def help_text(settings: type, name: str) -> str:
    """Return the command-line help of field `name` of a settings dataclass.

    Parameters
    ----------
    settings : type
        A settings dataclass.
    name : str
        Field name.

    Returns
    -------
    str
        One sentence.

    Examples
    --------
    >>> help_text(ReportSettings, "grid")
    'Pseudospectrum grid points per axis.'
    """
    return str(_field(settings, name).metadata.get("help", ""))


def _field(settings: type, name: str) -> dataclasses.Field[Any]:
    for item in dataclasses.fields(settings):
        if item.name == name:
            return item
    raise KeyError(f"{settings.__name__} has no setting {name!r}")


def eps_text(values: Sequence[float]) -> str:
    """Return a sequence of numbers as the comma-separated text the command line parses.

    Parameters
    ----------
    values : sequence of float
        For example :data:`DEFAULT_EPS`.

    Returns
    -------
    str
        Shortest round-trip representations joined by commas.

    Examples
    --------
    >>> eps_text((0.01, 0.3))
    '0.01,0.3'
    """
    return ",".join(repr(float(v)) for v in values)


@dataclass(frozen=True)
class TrainSettings:
    """Defaults of ``rnnscope train``: the model size and the training loop.

    The loop's fields mirror the defaults of :class:`models.TrainConfig` (a test keeps them
    equal); they are repeated here so that the command line starts without importing torch.

    Attributes
    ----------
    hidden : int
        Hidden units.
    steps : int
        Optimizer steps.
    batch_size : int
        Batch size.
    lr : float
        Learning rate.
    lr_orth : float or None
        Learning rate of orthogonal parameters (default ``lr / 10``).
    seed : int
        Seed of the initial weights and of the batches.

    Examples
    --------
    >>> TrainSettings().hidden
    64
    """

    hidden: int = _setting(64, "Hidden units.")
    steps: int = _setting(1000, "Optimizer steps.")
    batch_size: int = _setting(32, "Batch size.")
    lr: float = _setting(1e-3, "Learning rate.")
    lr_orth: float | None = _setting(None, "Learning rate of orthogonal parameters.")
    seed: int = _setting(0, "Seed of weights and batches.")


@dataclass(frozen=True)
class AnalysisSettings:
    r"""What ``rnnscope analyze`` and ``rnnscope pseudospectrum`` compute.

    Attributes
    ----------
    eps : tuple of float
        Perturbation sizes of the :math:`\varepsilon`-pseudospectral radius (and contours).
    grid : int
        Pseudospectrum grid points per axis.
    transient_steps : int
        ``max_transient_growth`` is :math:`\max_{0 \le k \le K} \|W^k\|_2` with K this value.

    Examples
    --------
    >>> AnalysisSettings().eps == DEFAULT_EPS
    True
    """

    eps: tuple[float, ...] = _setting(
        DEFAULT_EPS, "Comma-separated epsilons of the pseudospectral radius."
    )
    grid: int = _setting(100, "Grid points per axis.")
    transient_steps: int = _setting(TRANSIENT_STEPS, "Largest power k of ‖W^k‖₂.")


@dataclass(frozen=True)
class DynamicsSettings:
    """What ``rnnscope dynamics`` (and a sweep's ``[dynamics]`` table) computes.

    Attributes
    ----------
    lyapunov : int
        Number of leading Lyapunov exponents (0: none).
    fixed_points : bool
        Search fixed points at zero input.
    samples : int
        Input sequences driving the network.
    seed : int
        Seed of every random choice.

    Examples
    --------
    >>> DynamicsSettings().lyapunov
    10
    """

    lyapunov: int = _setting(10, "Number of leading Lyapunov exponents (0: none).")
    fixed_points: bool = _setting(False, "Search fixed points at zero input.")
    samples: int = _setting(32, "Input sequences.")
    seed: int = _setting(0, "Seed of every random choice.")


@dataclass(frozen=True)
class AttackSettings:
    """What ``rnnscope attack`` runs.

    Attributes
    ----------
    norm : {"linf", "l2"}
        Threat model.
    linf_eps, l2_eps : tuple of float
        Default budgets of each threat model (inputs lie in [0, 1]).
    attacks : tuple of str
        Input attacks.
    samples : int
        Test sequences attacked.
    steps : int
        Iterations of the iterative attacks.
    seed : int
        Seed of the random starts.
    strength : {"quick", "standard", "thorough"}
        Budgets of the default ensemble.

    Examples
    --------
    >>> AttackSettings().budgets("l2")
    (0.1, 0.3, 1.0)
    """

    norm: str = _setting("linf", "linf or l2.")
    linf_eps: tuple[float, ...] = _setting((0.01, 0.03, 0.1), "L∞ budgets.")
    l2_eps: tuple[float, ...] = _setting((0.1, 0.3, 1.0), "L2 budgets.")
    attacks: tuple[str, ...] = _setting(
        ("default",),
        "Comma-separated attacks, e.g. default (APGD-CE, APGD-DLR, Square, adaptive for "
        "modReLU) or pgd,fgsm.",
    )
    samples: int = _setting(256, "Test samples attacked.")
    steps: int = _setting(50, "Iterations of PGD.")
    seed: int = _setting(0, "Seed of the attacks.")
    strength: str = _setting(
        "standard", "Budgets of the default ensemble: quick, standard, thorough."
    )

    def budgets(self, norm: str | None = None) -> tuple[float, ...]:
        """Return the budgets of a norm (default: :attr:`norm`).

        Parameters
        ----------
        norm : {"linf", "l2"}, optional
            Threat model.

        Returns
        -------
        tuple of float
            The budgets.

        Examples
        --------
        >>> AttackSettings().budgets()
        (0.01, 0.03, 0.1)
        """
        return self.l2_eps if (norm or self.norm) == "l2" else self.linf_eps


@dataclass(frozen=True)
class EvaluationSettings:
    r"""What :func:`rnnscope.evaluation.evaluate_model` runs.

    Attributes
    ----------
    samples : int
        Test sequences attacked.
    linf_eps, l2_eps : tuple of float
        Budgets of the two threat models.
    weight_eps : tuple of float
        Relative weight-noise sizes :math:`\|E\|_2 / \|W\|_2`.
    attacks : tuple of str
        Bounded input attacks.
    minimal_attacks : tuple of str
        Minimisation attacks for the minimal perturbation.
    steps : int
        Iterations of the iterative attacks.
    minimal_steps : int
        Iterations of the minimisation attacks.
    noise_draws : int
        Random draws per sample of the noise curves.
    weight_draws : int
        Random matrices per size of the weight-noise curve.
    seed : int
        Seed of every random choice.
    strength : {"quick", "standard", "thorough"}
        Budgets of the default attack ensemble and the minimal-norm bisection.

    Examples
    --------
    >>> EvaluationSettings(samples=16).samples
    16
    """

    samples: int = _setting(128, "Test samples attacked.")
    linf_eps: tuple[float, ...] = _setting((0.01, 0.03, 0.1, 0.3), "L∞ budgets.")
    l2_eps: tuple[float, ...] = _setting((0.1, 0.3, 1.0, 3.0), "L2 budgets.")
    weight_eps: tuple[float, ...] = _setting(
        (0.01, 0.03, 0.1, 0.3), "Relative weight-noise sizes ‖E‖₂/‖W‖₂."
    )
    attacks: tuple[str, ...] = _setting(("default", "fgsm"), "Bounded input attacks.")
    minimal_attacks: tuple[str, ...] = _setting(
        ("deepfool", "fmn", "fmn-linf", "bisection"),
        "Minimisation attacks of the minimal perturbation.",
    )
    steps: int = _setting(20, "Iterations of PGD.")
    minimal_steps: int = _setting(50, "Iterations of the minimisation attacks.")
    noise_draws: int = _setting(10, "Random draws per sample of the noise curves.")
    weight_draws: int = _setting(5, "Random matrices per size of the weight-noise curve.")
    seed: int = _setting(0, "Seed of every random choice.")
    strength: str = _setting(
        "standard", "Budgets of the default ensemble: quick, standard, thorough."
    )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings.

        Returns
        -------
        dict
            Every setting, tuples as lists.

        Examples
        --------
        >>> EvaluationSettings().to_dict()["samples"]
        128
        """
        return {item.name: _plain(getattr(self, item.name)) for item in dataclasses.fields(self)}


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple | list) else value


@dataclass(frozen=True)
class ReportSettings(EvaluationSettings):
    """Settings of a report: the robustness settings plus the spectral ones.

    Attributes
    ----------
    samples : int
        Test sequences attacked per model.
    linf_eps, l2_eps : tuple of float
        Budgets of the two threat models (input units).
    weight_eps : tuple of float
        Relative weight-noise sizes.
    attacks : tuple of str
        Bounded input attacks.
    minimal_attacks : tuple of str
        Minimisation attacks.
    steps : int
        Iterations of the bounded iterative attacks.
    minimal_steps : int
        Iterations of the minimisation attacks.
    noise_draws, weight_draws : int
        Random draws of the input-noise and weight-noise curves.
    seed : int
        Seed of every random choice.
    strength : {"quick", "standard", "thorough"}
        Budgets of the default attack ensemble.
    pseudo_eps : tuple of float
        Perturbation sizes of the pseudospectral radius and the pseudospectrum contours.
    grid : int
        Pseudospectrum grid points per axis.

    Examples
    --------
    >>> ReportSettings(samples=32).evaluation().samples
    32
    """

    pseudo_eps: tuple[float, ...] = _setting(DEFAULT_EPS, "Pseudospectral epsilons.")
    grid: int = _setting(80, "Pseudospectrum grid points per axis.")

    def evaluation(self) -> EvaluationSettings:
        """Return the robustness part of the settings.

        Returns
        -------
        EvaluationSettings
            Samples, budgets, attacks, steps, draws and seed.

        Examples
        --------
        >>> ReportSettings(seed=3).evaluation().seed
        3
        """
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(EvaluationSettings)}
        return EvaluationSettings(
            **{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
        )
