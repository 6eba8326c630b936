"""``rnnscope attack``: robust accuracy of one checkpoint under input attacks."""

from __future__ import annotations

import os
from collections.abc import Sequence

from rnnscope.options import DEFAULT_MAX_SIZE
from rnnscope.robustness import AttackRun
from rnnscope.settings import ATTACK_NAMES, AttackSettings, eps_text
from rnnscope.taskdata import evaluation_samples, loaded_model, task_of

__all__ = ["attack_checkpoint", "default_eps", "known_attacks"]


def default_eps(norm: str) -> str:
    """Return the default comma-separated budgets of a norm (from :class:`AttackSettings`).

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
    return eps_text(AttackSettings().budgets(norm))


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
    return ATTACK_NAMES


_ATTACK = AttackSettings()


def attack_checkpoint(
    path: str | os.PathLike[str],
    *,
    task: str | None = None,
    norm: str = _ATTACK.norm,
    eps: Sequence[float] = _ATTACK.linf_eps,
    attacks: Sequence[str] = _ATTACK.attacks,
    samples: int = _ATTACK.samples,
    steps: int = _ATTACK.steps,
    seed: int = _ATTACK.seed,
    max_size: int | None = DEFAULT_MAX_SIZE,
    strength: str = _ATTACK.strength,
    windows: int | None = None,
    transfer: Sequence[str | os.PathLike[str]] = (),
    hidden_deltas: Sequence[float] = (),
    hidden_step: int | None = None,
) -> AttackRun:
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
    max_size : int or None, optional
        Size limit of :func:`models.load` (largest hidden size).
    strength : {"quick", "standard", "thorough"}, optional
        Budgets of the default ensemble.
    windows : int, optional
        Also attack each of this many windows of time steps alone (at the largest budget).
    transfer : sequence of path, optional
        Other checkpoints on the same task: transfer matrix of adversarials.
    hidden_deltas : sequence of float, optional
        Relative sizes of a hidden-state perturbation (:func:`attacks.hidden_state`); none: not
        measured.
    hidden_step : int, optional
        Step whose hidden state is perturbed (default: the middle one).

    Returns
    -------
    rnnscope.robustness.AttackRun
        The robustness curve with its checkpoint and task; ``to_dict()`` gives
        ``rnnscope attack --json``.

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
    >>> import tempfile
    >>> from rnnscope.training import train_checkpoint
    >>> out = tempfile.mkdtemp()
    >>> _ = train_checkpoint("rnn", "digits", out=out, hidden=4, steps=1)
    >>> run = attack_checkpoint(out, eps=[0.1], attacks=["fgsm"], samples=4, steps=1)
    >>> run.to_dict()["samples"], sorted(run.to_dict()["robust_accuracy"])
    (4, ['fgsm', 'worst'])
    """
    import attacks as attacks_lib
    import models

    checkpoint = models.load(path, max_size=max_size)
    model = loaded_model(checkpoint)
    task_obj = task_of(checkpoint, task)
    x, y = evaluation_samples(task_obj, samples)
    hidden_result = None
    if hidden_deltas:  # first: a bad --hidden-step fails before the long attacks
        hidden_result = attacks_lib.hidden_state(
            model, x, y, deltas=list(hidden_deltas), step=hidden_step, strength=strength, seed=seed
        )
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
        strength=strength,
    )
    first = float(max(eps))
    window_result = None
    if windows is not None:
        window_result = attacks_lib.time_windows(
            model, x, y, norm=norm, eps=first, windows=windows, strength=strength,
            bounds=tuple(task_obj.bounds), seed=seed,
        )  # fmt: skip
    transfer_result = None
    if transfer:
        nets = {str(checkpoint.source): model}
        for other in transfer:
            loaded = models.load(other, max_size=max_size)
            nets[str(loaded.source)] = loaded_model(loaded)
        transfer_result = attacks_lib.transfer(
            nets, x, y, norm=norm, eps=first, strength=strength, bounds=tuple(task_obj.bounds),
            seed=seed,
        )  # fmt: skip
    return AttackRun(
        source=str(checkpoint.source),
        task=task_obj.name,
        task_params=dict(task_obj.params),
        curve=curve,
        steps=steps,
        seed=seed,
        windows=window_result,
        transfer=transfer_result,
        hidden_state=hidden_result,
    )
