"""Robustness of a trained checkpoint on its task: attacks, noise, certificates, weight noise.

This module joins :mod:`models` (checkpoint, task and its test split) and :mod:`attacks`
(perturbations); it is the only place where both meet. Every step is seeded, and the samples are
the first ``samples`` sequences of the task's fixed, seeded test split.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnscope.errors import BadOptionError

__all__ = [
    "DEFAULT_EPS",
    "EvaluationSettings",
    "attack_checkpoint",
    "default_eps",
    "evaluate_model",
    "evaluation_samples",
    "known_attacks",
    "task_of",
]

logger = logging.getLogger(__name__)

#: Default budgets per norm, in input units (inputs lie in [0, 1]).
DEFAULT_EPS: dict[str, str] = {"linf": "0.01,0.03,0.1", "l2": "0.1,0.3,1.0"}


def default_eps(norm: str) -> str:
    """Return the default comma-separated budgets of a norm.

    Parameters
    ----------
    norm : {"linf", "l2"}
        Threat model.

    Returns
    -------
    str
        For example ``"0.01,0.03,0.1"``.

    Examples
    --------
    >>> default_eps("l2")
    '0.1,0.3,1.0'
    """
    return DEFAULT_EPS[norm]


def known_attacks() -> tuple[str, ...]:
    """Names of the input attacks that :func:`attacks.adversarial` accepts.

    Returns
    -------
    tuple of str
        For example ``("fgsm", "pgd", "bim", "deepfool", "fmn", "cw")``.

    Examples
    --------
    >>> "pgd" in known_attacks()
    True
    """
    import attacks

    return tuple(attacks.ATTACKS)


def task_of(checkpoint: Any, name: str | None = None) -> Any:
    """Return the task a checkpoint was trained on, or the task `name` with default parameters.

    Parameters
    ----------
    checkpoint : models.Checkpoint
        Loaded checkpoint; its config holds ``{"task": {"name", "params"}}`` when it was
        written by :func:`models.train`.
    name : str, optional
        Task name overriding the checkpoint's. The checkpoint's parameters are kept when the
        names agree.

    Returns
    -------
    models.tasks.Task
        The task.

    Raises
    ------
    rnnscope.errors.BadOptionError
        If no task is given and the checkpoint records none.
    models.errors.UnknownTaskError
        If the name is not a task.

    Examples
    --------
    >>> import types
    >>> task_of(types.SimpleNamespace(config={}), "digits").name
    'digits'
    """
    import models.tasks

    saved = (getattr(checkpoint, "config", None) or {}).get("task") or {}
    saved_name = saved.get("name") if isinstance(saved, Mapping) else None
    if name is None:
        if not saved_name:
            raise BadOptionError(
                f"{checkpoint.source} records no task; pass one with --task "
                f"({', '.join(models.tasks.TASKS)})"
            )
        name = str(saved_name)
    params = dict(saved.get("params") or {}) if name == saved_name else {}
    return models.tasks.get(name, **params)


def evaluation_samples(task: Any, samples: int) -> tuple[Any, Any]:
    """Return the first `samples` sequences of the task's fixed test split.

    Parameters
    ----------
    task : models.tasks.Task
        The task (its test split is seeded, so the samples are reproducible).
    samples : int
        Number of sequences (all of them when the split is smaller).

    Returns
    -------
    (x, y) : tuple of torch.Tensor
        Inputs ``(B, T, F)`` and labels ``(B,)``.

    Raises
    ------
    rnnscope.errors.BadOptionError
        If `samples` is not positive or the task is not a classification task.

    Examples
    --------
    >>> import models.tasks
    >>> x, y = evaluation_samples(models.tasks.get("digits"), 5)
    >>> tuple(x.shape)
    (5, 64, 1)
    """
    if samples < 1:
        raise BadOptionError(f"--samples must be positive, got {samples}")
    if not task.classification or task.readout != "last":
        raise BadOptionError(
            f"task {task.name!r} is not a last-step classification task; "
            "attacks need class labels (use digits or mnist1d)"
        )
    x, y = task.test_set()
    return x[:samples], y[:samples]


def _loaded_model(checkpoint: Any) -> Any:
    model = getattr(checkpoint, "model", None)
    if model is None:
        raise BadOptionError(
            f"{checkpoint.source} holds recurrent matrices only ({checkpoint.format} format); "
            "attacks need a full rnnscope checkpoint folder"
        )
    model.eval()
    return model


def attack_checkpoint(
    path: str | os.PathLike[str],
    *,
    task: str | None = None,
    norm: str = "linf",
    eps: Sequence[float] = (0.01, 0.03, 0.1),
    attacks: Sequence[str] = ("pgd", "fgsm"),
    samples: int = 256,
    steps: int = 50,
    seed: int = 0,
) -> dict[str, Any]:
    """Robust accuracy of a checkpoint under input attacks (``rnnscope attack``).

    Parameters
    ----------
    path : str or path-like
        Checkpoint folder written by :func:`models.train` or :func:`models.save`.
    task : str, optional
        Task name; default: the checkpoint's task.
    norm : {"linf", "l2"}, optional
        Threat model.
    eps : sequence of float, optional
        Budgets.
    attacks : sequence of str, optional
        Attack names (see :func:`known_attacks`).
    samples : int, optional
        Number of test sequences.
    steps : int, optional
        Iterations of the iterative attacks.
    seed : int, optional
        Seed of the random starts.

    Returns
    -------
    dict
        ``{"source", "task": {"name", "params"}, "norm", "eps", "samples", "clean_accuracy",
        "robust_accuracy": {attack or "worst": [...]}, "eps50", "auc"}``.

    Raises
    ------
    models.errors.ModelsError
        If the checkpoint cannot be loaded or the task is unknown.
    attacks.errors.AttacksError
        If the model does not fit the task's inputs.
    rnnscope.errors.BadOptionError
        If the checkpoint has no model or no task.

    Examples
    --------
    >>> attack_checkpoint("/no/such/run")  # doctest: +SKIP
    """
    import attacks as attacks_lib
    import models

    checkpoint = models.load(path)
    model = _loaded_model(checkpoint)
    task_obj = task_of(checkpoint, task)
    x, y = evaluation_samples(task_obj, samples)
    curve = attacks_lib.adversarial(
        model,
        x,
        y,
        norm=norm,
        epsilons=list(eps),
        attacks=tuple(attacks),
        steps=steps,
        bounds=tuple(task_obj.bounds),
        seed=seed,
    )
    robust = {name: list(values) for name, values in curve.per_attack.items()}
    robust["worst"] = list(curve.robust_accuracy)
    return {
        "source": str(checkpoint.source),
        "task": {"name": task_obj.name, "params": dict(task_obj.params)},
        "norm": norm,
        "eps": [float(e) for e in curve.epsilons],
        "samples": int(x.shape[0]),
        "steps": steps,
        "seed": seed,
        "clean_accuracy": float(curve.clean_accuracy),
        "robust_accuracy": robust,
        "eps50": curve.eps50,
        "auc": float(curve.auc),
    }


@dataclass(frozen=True)
class EvaluationSettings:
    r"""What :func:`evaluate_model` runs.

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

    Examples
    --------
    >>> EvaluationSettings(samples=16).samples
    16
    """

    samples: int = 128
    linf_eps: tuple[float, ...] = (0.01, 0.03, 0.1, 0.3)
    l2_eps: tuple[float, ...] = (0.1, 0.3, 1.0, 3.0)
    weight_eps: tuple[float, ...] = (0.01, 0.03, 0.1, 0.3)
    attacks: tuple[str, ...] = ("fgsm", "pgd")
    minimal_attacks: tuple[str, ...] = ("deepfool", "fmn")
    steps: int = 20
    minimal_steps: int = 50
    noise_draws: int = 10
    weight_draws: int = 5
    seed: int = 0

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
        return {
            "samples": self.samples,
            "linf_eps": list(self.linf_eps),
            "l2_eps": list(self.l2_eps),
            "weight_eps": list(self.weight_eps),
            "attacks": list(self.attacks),
            "minimal_attacks": list(self.minimal_attacks),
            "steps": self.steps,
            "minimal_steps": self.minimal_steps,
            "noise_draws": self.noise_draws,
            "weight_draws": self.weight_draws,
            "seed": self.seed,
        }


def _timed(timings: dict[str, float], key: str, func: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    try:
        return func()
    finally:
        timings[key] = round(time.perf_counter() - start, 3)


def _norm_block(
    model: Any,
    x: Any,
    y: Any,
    *,
    norm: str,
    eps: Sequence[float],
    bounds: tuple[float, float],
    settings: EvaluationSettings,
    timings: dict[str, float],
) -> dict[str, Any]:
    """Adversarial, noise, minimal-perturbation and certified results for one norm."""
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
        ),
    )
    certified_result = None
    try:
        certified_result = _timed(
            timings,
            f"certified_{norm}",
            lambda: attacks.certified_radius(model, x, y, norm=norm),
        )
        certified = _certified_summary(certified_result, eps)
    except attacks.errors.UnsupportedModelError as exc:
        certified = {"supported": False, "reason": str(exc)}
    return {
        "eps": [float(e) for e in eps],
        "clean_accuracy": float(curve.clean_accuracy),
        "adversarial": {
            "robust_accuracy": [float(a) for a in curve.robust_accuracy],
            "per_attack": {k: [float(a) for a in v] for k, v in curve.per_attack.items()},
            "eps50": curve.eps50,
            "auc": float(curve.auc),
        },
        "noise": {
            "accuracy": [float(a) for a in noise.robust_accuracy],
            "mean_accuracy": [float(a) for a in noise.mean_accuracy],
            "draws": int(noise.draws),
            "eps50": noise.eps50,
        },
        "minimal": {
            "attacks": list(minimal.attacks),
            "median": minimal.median,
            "q1": minimal.q1,
            "q3": minimal.q3,
            "success_rate": minimal.success_rate,
            "accuracy_at_eps": [float(a) for a in minimal.accuracy_at(list(eps))],
        },
        "certified": certified,
        "_results": {
            "adversarial": curve,
            "noise": noise,
            "minimal": minimal,
            "certified": certified_result,
        },
    }


def _certified_summary(result: Any, eps: Sequence[float]) -> dict[str, Any]:
    if not result.certified:
        return {"supported": False, "reason": str(result.reason or "certificate does not apply")}
    return {
        "supported": True,
        "median": result.median,
        "certified_accuracy": [float(a) for a in result.certified_accuracy(list(eps))],
        "lipschitz": float(result.lipschitz),
    }


def evaluate_model(
    model: Any,
    task: Any,
    settings: EvaluationSettings,
    *,
    timings: dict[str, float] | None = None,
) -> tuple[dict[str, Any], np.ndarray | None]:
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
    robustness : dict
        JSON-ready results: ``samples``, ``clean_accuracy``, ``linf`` and ``l2`` blocks
        (adversarial, noise, minimal, certified), ``weight_noise`` and ``sanity``.
    overlay : ndarray of complex or None
        Eigenvalues of every perturbed matrix :math:`W + E` of the weight-noise run, for the
        pseudospectrum figure.

    Raises
    ------
    attacks.errors.AttacksError
        If the model and the task's inputs do not fit.

    Examples
    --------
    >>> evaluate_model  # doctest: +SKIP
    """
    import attacks

    timings = {} if timings is None else timings
    model.eval()
    x, y = evaluation_samples(task, settings.samples)
    bounds = (float(task.bounds[0]), float(task.bounds[1]))
    blocks = {
        norm: _norm_block(
            model,
            x,
            y,
            norm=norm,
            eps=eps,
            bounds=bounds,
            settings=settings,
            timings=timings,
        )
        for norm, eps in (("linf", settings.linf_eps), ("l2", settings.l2_eps))
    }
    weight = _timed(
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
    overlay = np.asarray(weight.eigenvalues, dtype=complex).ravel()
    sanity = _timed(
        timings,
        "sanity",
        lambda: _sanity(model, x, y, blocks, bounds=bounds, settings=settings),
    )
    for block in blocks.values():
        block.pop("_results")
    return (
        {
            "samples": int(x.shape[0]),
            "clean_accuracy": blocks["linf"]["clean_accuracy"],
            "linf": blocks["linf"],
            "l2": blocks["l2"],
            "weight_noise": {
                "target": str(weight.target),
                "eps": [float(e) for e in weight.epsilons],
                "mean": [float(a) for a in weight.mean_accuracy],
                "std": [float(a) for a in weight.std_accuracy],
                "spectral_radius_mean": [
                    float(r) for r in np.asarray(weight.spectral_radius, dtype=float).mean(axis=1)
                ],
                "spectral_radius_w": float(weight.spectral_radius_w),
            },
            "sanity": sanity,
        },
        overlay,
    )


_MODEL_CHECKS = frozenset({"gradients", "deterministic", "logits"})


def _sanity(
    model: Any,
    x: Any,
    y: Any,
    blocks: Mapping[str, Mapping[str, Any]],
    *,
    bounds: tuple[float, float],
    settings: EvaluationSettings,
) -> list[dict[str, Any]]:
    import attacks

    checks: list[dict[str, Any]] = []
    seen: set[tuple[str, bool | None, str]] = set()
    for norm, block in blocks.items():
        results = block["_results"]
        report = attacks.sanity(
            model,
            x,
            y,
            norm=norm,
            curve=results["adversarial"],
            noise_curve=results["noise"],
            minimal=results["minimal"],
            certified=results["certified"],
            steps=settings.steps,
            bounds=bounds,
            seed=settings.seed,
        )
        for check in report.checks:
            key = (check.name, check.passed, str(check.detail or ""))
            if key in seen:  # model-level checks give the same result for both norms
                continue
            seen.add(key)
            checks.append(
                {
                    "name": check.name if check.name in _MODEL_CHECKS else f"{check.name} ({norm})",
                    "passed": check.passed,
                    "detail": str(check.detail or ""),
                }
            )
    return checks
