"""Robustness of a trained checkpoint on its task: attacks, noise, certificates, weight noise.

This module joins :mod:`models` (checkpoint, task and its test split) and :mod:`attacks`
(perturbations); it is the only place where both meet. Every step is seeded, and the samples are
the first ``samples`` sequences of the task's fixed, seeded test split. Results are the typed
objects of :mod:`rnnscope.robustness`.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from rnnscope.attack import attack_checkpoint, default_eps, known_attacks
from rnnscope.robustness import (
    NormRobustness,
    Robustness,
    Sanity,
    SanityCheck,
    SanityStatus,
    WeightNoise,
)
from rnnscope.settings import EvaluationSettings
from rnnscope.taskdata import evaluation_samples, task_of

if TYPE_CHECKING:
    import torch

__all__ = [
    "EvaluationSettings",
    "attack_checkpoint",
    "default_eps",
    "evaluate_model",
    "evaluation_samples",
    "known_attacks",
    "norm_robustness",
    "robustness_blocks",
    "sanity_checks",
    "task_of",
    "weight_noise",
]

logger = logging.getLogger(__name__)


def __getattr__(name: str) -> Any:
    if name == "DEFAULT_EPS":
        warnings.warn(
            "rnnscope.evaluation.DEFAULT_EPS is deprecated; use rnnscope.settings.AttackSettings",
            DeprecationWarning,
            stacklevel=2,
        )
        return {norm: default_eps(norm) for norm in ("linf", "l2")}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _timed(timings: dict[str, float] | None, key: str, func: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    try:
        return func()
    finally:
        if timings is not None:
            timings[key] = round(time.perf_counter() - start, 3)


def _bounds(task: Any) -> tuple[float, float]:
    return float(task.bounds[0]), float(task.bounds[1])


def norm_robustness(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    norm: str,
    eps: Sequence[float],
    bounds: tuple[float, float],
    settings: EvaluationSettings,
    timings: dict[str, float] | None = None,
) -> NormRobustness:
    """Adversarial, noise, minimal-perturbation and certified results for one norm.

    Parameters
    ----------
    model : torch.nn.Module
        Classifier in evaluation mode.
    x, y : torch.Tensor
        Inputs ``(B, T, F)`` and labels ``(B,)``.
    norm : {"linf", "l2"}
        Threat model.
    eps : sequence of float
        Budgets.
    bounds : (float, float)
        Input range.
    settings : EvaluationSettings
        Attacks, steps, draws and seed.
    timings : dict, optional
        Filled with wall-clock seconds per measurement.

    Returns
    -------
    rnnscope.robustness.NormRobustness
        The four results.

    Raises
    ------
    attacks.errors.AttacksError
        If the model and the inputs do not fit.

    Examples
    --------
    >>> import models
    >>> task = models.tasks.get("digits")
    >>> net = models.build("rnn", input_size=1, hidden_size=4, output_size=10, seed=0)
    >>> x, y = evaluation_samples(task, 4)
    >>> fast = EvaluationSettings(steps=1, minimal_steps=2, noise_draws=1)
    >>> block = norm_robustness(net.eval(), x, y, norm="l2", eps=[0.5], bounds=(0.0, 1.0),
    ...                         settings=fast)
    >>> block.to_dict()["certified"]["supported"]
    True
    """
    import attacks

    seed = settings.seed
    curve = _timed(
        timings,
        f"adversarial_{norm}",
        lambda: attacks.adversarial(
            model,
            x,
            y,
            norm=norm,
            epsilons=list(eps),
            attacks=settings.attacks,
            steps=settings.steps,
            bounds=bounds,
            seed=seed,
            strength=settings.strength,
        ),
    )
    noise = _timed(
        timings,
        f"noise_{norm}",
        lambda: attacks.noise(
            model,
            x,
            y,
            norm=norm,
            epsilons=list(eps),
            draws=settings.noise_draws,
            bounds=bounds,
            seed=seed,
        ),
    )
    minimal = _timed(
        timings,
        f"minimal_{norm}",
        lambda: attacks.minimal_perturbation(
            model,
            x,
            y,
            norm=norm,
            attacks=settings.minimal_attacks,
            steps=settings.minimal_steps,
            bounds=bounds,
            seed=seed,
            curve=curve,
            strength=settings.strength,
        ),
    )
    certified = None
    reason = None
    try:
        certified = _timed(
            timings,
            f"certified_{norm}",
            lambda: attacks.certified_radius(
                model, x, y, norm=norm, bounds=bounds, minimal=minimal
            ),
        )
        if not certified.certified:
            reason = str(certified.reason or "certificate does not apply")
    except attacks.errors.UnsupportedModelError as exc:
        reason = str(exc)
    return NormRobustness(
        norm=norm,
        eps=tuple(float(e) for e in eps),
        adversarial=curve,
        noise=noise,
        minimal=minimal,
        certified=certified,
        certified_reason=reason,
    )


def weight_noise(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    settings: EvaluationSettings,
    *,
    timings: dict[str, float] | None = None,
) -> WeightNoise:
    r"""Accuracy with the recurrent matrix replaced by :math:`W + E` of relative sizes.

    Parameters
    ----------
    model : torch.nn.Module
        Classifier in evaluation mode.
    x, y : torch.Tensor
        Inputs and labels.
    settings : EvaluationSettings
        ``weight_eps``, ``weight_draws`` and ``seed``.
    timings : dict, optional
        Filled with ``weight_noise`` seconds.

    Returns
    -------
    rnnscope.robustness.WeightNoise
        The run, with the eigenvalues of every perturbed matrix.

    Raises
    ------
    attacks.errors.AttacksError
        If the model has no recurrent matrix to perturb.

    Examples
    --------
    >>> import models
    >>> net = models.build("rnn", input_size=1, hidden_size=4, output_size=10, seed=0)
    >>> x, y = evaluation_samples(models.tasks.get("digits"), 4)
    >>> run = weight_noise(net.eval(), x, y, EvaluationSettings(weight_eps=(0.1,), weight_draws=2))
    >>> run.to_dict()["eps"], run.eigenvalues.shape
    ([0.1], (8,))
    """
    import attacks

    result = _timed(
        timings,
        "weight_noise",
        lambda: attacks.weight_noise(
            model,
            x,
            y,
            epsilons=list(settings.weight_eps),
            draws=settings.weight_draws,
            relative=True,
            seed=settings.seed,
        ),
    )
    return WeightNoise(result)


_MODEL_CHECKS = frozenset({"gradients", "deterministic", "logits"})


def sanity_checks(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    blocks: Sequence[NormRobustness],
    *,
    bounds: tuple[float, float],
    settings: EvaluationSettings,
    timings: dict[str, float] | None = None,
) -> Sanity:
    """Run :func:`attacks.sanity` on the results of each norm; model-level checks appear once.

    Parameters
    ----------
    model : torch.nn.Module
        Classifier in evaluation mode.
    x, y : torch.Tensor
        Inputs and labels the results were computed on.
    blocks : sequence of NormRobustness
        Results per norm.
    bounds : (float, float)
        Input range.
    settings : EvaluationSettings
        Steps and seed.
    timings : dict, optional
        Filled with ``sanity`` seconds.

    Returns
    -------
    rnnscope.robustness.Sanity
        Checks that depend on the norm are named ``"check (norm)"``.

    Raises
    ------
    attacks.errors.AttacksError
        If the model and the inputs do not fit.

    Examples
    --------
    >>> import models
    >>> net = models.build("rnn", input_size=1, hidden_size=4, output_size=10, seed=0)
    >>> x, y = evaluation_samples(models.tasks.get("digits"), 4)
    >>> fast = EvaluationSettings(steps=1, minimal_steps=2, noise_draws=1)
    >>> block = norm_robustness(net.eval(), x, y, norm="l2", eps=[0.5], bounds=(0.0, 1.0),
    ...                         settings=fast)
    >>> result = sanity_checks(net, x, y, [block], bounds=(0.0, 1.0), settings=fast)
    >>> all(isinstance(c.status, SanityStatus) for c in result.checks)
    True
    """
    import attacks

    def run() -> Sanity:
        checks: list[SanityCheck] = []
        seen: set[tuple[str, bool | None, str]] = set()
        for block in blocks:
            sign = attacks.noise(
                model,
                x,
                y,
                norm=block.norm,
                epsilons=list(block.eps),
                draws=settings.noise_draws,
                bounds=bounds,
                seed=settings.seed,
                distribution="sign",
            )
            report = attacks.sanity(
                model,
                x,
                y,
                norm=block.norm,
                curve=block.adversarial,
                noise_curve=block.noise,
                noise_curves=(sign,),
                minimal=block.minimal,
                certified=block.certified,
                steps=settings.steps,
                bounds=bounds,
                seed=settings.seed,
            )
            for check in report.checks:
                key = (check.name, check.passed, str(check.detail or ""))
                if key in seen:  # model-level checks give the same result for both norms
                    continue
                seen.add(key)
                name = check.name if check.name in _MODEL_CHECKS else f"{check.name} ({block.norm})"
                checks.append(
                    SanityCheck(
                        name, SanityStatus.from_passed(check.passed), str(check.detail or "")
                    )
                )
        return Sanity(tuple(checks))

    return _timed(timings, "sanity", run)


def robustness_blocks(
    model: torch.nn.Module,
    task: Any,
    settings: EvaluationSettings,
    *,
    timings: dict[str, float] | None = None,
) -> Robustness:
    """Measure both threat models as :func:`evaluate_model` does, without weight noise or sanity.

    Parameters
    ----------
    model : torch.nn.Module
        Trained model (evaluation mode is set here).
    task : models.tasks.Task
        Its task; the first ``settings.samples`` test sequences are used.
    settings : EvaluationSettings
        Budgets, attacks, steps and seed.
    timings : dict, optional
        Filled with wall-clock seconds per measurement.

    Returns
    -------
    rnnscope.robustness.Robustness
        ``weight_noise`` and ``sanity`` are ``None``.

    Raises
    ------
    attacks.errors.AttacksError
        If the model and the task's inputs do not fit.
    """
    model.eval()
    x, y = evaluation_samples(task, settings.samples)
    bounds = _bounds(task)
    linf, l2 = (
        norm_robustness(
            model, x, y, norm=norm, eps=eps, bounds=bounds, settings=settings, timings=timings
        )
        for norm, eps in (("linf", settings.linf_eps), ("l2", settings.l2_eps))
    )
    return Robustness(samples=int(x.shape[0]), linf=linf, l2=l2)


def evaluate_model(
    model: torch.nn.Module,
    task: Any,
    settings: EvaluationSettings,
    *,
    timings: dict[str, float] | None = None,
) -> Robustness:
    """Run every robustness measurement of the report on one model.

    Parameters
    ----------
    model : models.RecurrentModel
        Trained model (evaluation mode is set here).
    task : models.tasks.Task
        Its task; the first ``settings.samples`` test sequences are used.
    settings : EvaluationSettings
        Budgets, attacks, steps and seed.
    timings : dict, optional
        Filled with wall-clock seconds per measurement.

    Returns
    -------
    rnnscope.robustness.Robustness
        Both threat models, the weight-noise run and the sanity checks; ``to_dict()`` gives
        the ``robustness`` block of ``report.json``.

    Raises
    ------
    attacks.errors.AttacksError
        If the model and the task's inputs do not fit.

    Examples
    --------
    >>> import models
    >>> net = models.build("rnn", input_size=1, hidden_size=4, output_size=10, seed=0)
    >>> fast = EvaluationSettings(samples=4, linf_eps=(0.1,), l2_eps=(0.5,), steps=1,
    ...                           minimal_steps=2, noise_draws=1, weight_eps=(0.1,),
    ...                           weight_draws=1)
    >>> result = evaluate_model(net, models.tasks.get("digits"), fast)
    >>> sorted(result.to_dict()), result.sanity.status in SanityStatus
    (['clean_accuracy', 'l2', 'linf', 'samples', 'sanity', 'weight_noise'], True)
    """
    import dataclasses

    timings = {} if timings is None else timings
    blocks = robustness_blocks(model, task, settings, timings=timings)
    x, y = evaluation_samples(task, settings.samples)
    weights = weight_noise(model, x, y, settings, timings=timings)
    sanity = sanity_checks(
        model, x, y, blocks.norms(), bounds=_bounds(task), settings=settings, timings=timings
    )
    return dataclasses.replace(blocks, weight_noise=weights, sanity=sanity)
