"""The evaluation data of a checkpoint: its model, its task and the fixed test samples."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rnnscope.errors import BadOptionError

if TYPE_CHECKING:
    import torch

    from models import Checkpoint, RecurrentModel
    from models.tasks import Task

__all__ = ["evaluation_samples", "loaded_model", "task_of"]


def task_of(checkpoint: Checkpoint | Any, name: str | None = None) -> Task:
    """Return the task a checkpoint was trained on, or the task `name` with default parameters.

    Parameters
    ----------
    checkpoint : models.Checkpoint
        Loaded checkpoint; :attr:`models.Checkpoint.task` holds ``{"name", "params", ...}``
        when it was written by :func:`models.train`.
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
    >>> task_of(types.SimpleNamespace(task=None), "digits").name
    'digits'
    """
    import models.tasks

    saved = checkpoint.task or {}
    saved_name = saved.get("name")
    if name is None:
        if not saved_name:
            raise BadOptionError(
                f"{checkpoint.source} records no task; pass one with --task "
                f"({', '.join(models.tasks.TASKS)})"
            )
        name = str(saved_name)
    params = dict(saved.get("params") or {}) if name == saved_name else {}
    return models.tasks.get(name, **params)


def evaluation_samples(task: Task, samples: int) -> tuple[torch.Tensor, torch.Tensor]:
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


def loaded_model(checkpoint: Checkpoint | Any) -> RecurrentModel:
    """Return the runnable model of a checkpoint, in evaluation mode.

    Parameters
    ----------
    checkpoint : models.Checkpoint
        Loaded checkpoint.

    Returns
    -------
    models.RecurrentModel
        ``checkpoint.model``.

    Raises
    ------
    rnnscope.errors.BadOptionError
        If the checkpoint holds recurrent matrices only.

    Examples
    --------
    >>> import types
    >>> loaded_model(types.SimpleNamespace(model=None, source="w.npy", format="matrix"))
    Traceback (most recent call last):
    ...
    rnnscope.errors.BadOptionError: w.npy holds recurrent matrices only (matrix format); ...
    """
    model = getattr(checkpoint, "model", None)
    if model is None:
        raise BadOptionError(
            f"{checkpoint.source} holds recurrent matrices only ({checkpoint.format} format); "
            "attacks need a full rnnscope checkpoint folder"
        )
    model.eval()
    return model
