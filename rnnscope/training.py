"""Training a model into a checkpoint folder, and reusing a folder that is already complete."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rnnscope.files import prepare_output_dir
from rnnscope.logs import progress_bar
from rnnscope.settings import TrainSettings

__all__ = ["completed_run", "train_checkpoint"]

logger = logging.getLogger(__name__)


def completed_run(
    folder: str | os.PathLike[str],
    *,
    steps: int,
    expect: Mapping[str, Any] | None = None,
) -> dict[str, Any] | None:
    """Return the saved config of a finished training run in `folder`, or ``None``.

    A run is finished when ``config.json`` and ``model.safetensors`` exist, the config records
    ``training.step == steps`` and carries the final test metric.

    Parameters
    ----------
    folder : str or path-like
        Checkpoint folder written by :func:`models.train`.
    steps : int
        Number of steps the run must have completed.
    expect : mapping, optional
        Dotted config paths and the values they must have, e.g.
        ``{"kind": "rnn", "options.init": "chain", "training.lr": 1e-3}``.

    Returns
    -------
    dict or None
        The parsed ``config.json``, or ``None`` if the run is missing, unfinished or unreadable.

    Examples
    --------
    >>> completed_run("/no/such/folder", steps=10) is None
    True
    """
    import models

    path = Path(folder)
    if not (path / models.WEIGHTS_FILE).is_file():
        return None
    try:
        config = models.read_config(path)
    except models.errors.CheckpointError:
        return None
    training = config.get("training") or {}
    metrics = config.get("metrics") or {}
    if training.get("step") != steps or "test_metric" not in metrics:
        return None
    for dotted, value in (expect or {}).items():
        if _lookup(config, dotted) != value:
            return None
    return config


_MISSING = object()


def _lookup(config: Mapping[str, Any], dotted: str) -> Any:
    node: Any = config
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return _MISSING
        node = node[part]
    return node


_TRAIN = TrainSettings()


def train_checkpoint(
    kind: str,
    task: str,
    *,
    out: str | os.PathLike[str],
    task_params: Mapping[str, Any] | None = None,
    hidden: int = _TRAIN.hidden,
    steps: int = _TRAIN.steps,
    batch_size: int = _TRAIN.batch_size,
    lr: float = _TRAIN.lr,
    lr_orth: float | None = _TRAIN.lr_orth,
    constrain: str | None = None,
    clip: float | None = None,
    seed: int = _TRAIN.seed,
    resume: bool = False,
    optimizer: str = "rmsprop",
    options: Mapping[str, Any] | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Build a model for a task, train it and write the checkpoint folder `out`.

    The model and task are validated before the folder is created, so bad input leaves
    nothing behind.

    Parameters
    ----------
    kind : str
        Model kind (see :func:`models.build`).
    task : str
        Task name (see :func:`models.tasks.get`).
    out : str or path-like
        Checkpoint folder (created with its parents when missing).
    task_params : mapping, optional
        Task parameters, e.g. ``{"permuted": True}``.
    hidden : int, optional
        Hidden units.
    steps, batch_size : int, optional
        Optimizer steps and batch size.
    lr, lr_orth : float, optional
        Learning rates (``lr_orth`` of the orthogonal parameters; default ``lr / 10``).
    constrain : {"radius", "norm"}, optional
        Project the recurrent matrix after every step (rnn only).
    clip : float, optional
        Gradient-norm clipping.
    seed : int, optional
        Seed of the initial weights and of the batches.
    resume : bool, optional
        Continue a run saved in `out`.
    optimizer : {"rmsprop", "adam", "sgd"}, optional
        PyTorch optimizer with its default settings.
    options : mapping, optional
        Further model options (``init``, ``nonlinearity``, ...).
    progress : bool, optional
        Show a progress bar on stderr.

    Returns
    -------
    dict
        ``{"kind", "task", "out", "steps", "test_loss", "test_metric", "metric_name",
        "baseline"}``.

    Raises
    ------
    models.errors.ModelsError
        If the kind, task or an option is invalid, or training diverges.
    rnnscope.errors.OutputPathError
        If `out` cannot be created or written.

    Examples
    --------
    >>> import tempfile
    >>> summary = train_checkpoint("rnn", "digits", out=tempfile.mkdtemp(), hidden=8, steps=2)
    >>> summary["steps"], summary["metric_name"]
    (2, 'accuracy')
    """
    import models

    task_obj = models.tasks.get(task, **dict(task_params or {}))
    model_options = dict(options or {})
    if constrain is not None:
        model_options["constrain"] = constrain
    model = models.build(
        kind,
        input_size=task_obj.input_size,
        hidden_size=hidden,
        output_size=task_obj.output_size,
        seed=seed,
        readout=task_obj.readout,
        **model_options,
    )
    config = models.TrainConfig(
        steps=steps,
        batch_size=batch_size,
        lr=lr,
        lr_orth=lr_orth,
        clip=clip,
        constrain=constrain,
        seed=seed,
        resume=resume,
        optimizer=optimizer,
    )
    config.check(model, task_obj, out=out)  # before the folder exists: bad input leaves nothing
    folder = prepare_output_dir(out, what="--out")
    logger.info("training %s on %s for %d steps into %s", kind, task, steps, folder)
    with progress_bar(progress, steps, "training") as update:
        done = [0]

        def advance(record: models.TrainStep) -> None:
            update(f"training (loss {record.loss:.4g})", advance=record.step - done[0])
            done[0] = record.step

        result = models.train(model, task_obj, config, out=folder, callback=advance)
    return {
        "kind": kind,
        "task": task_obj.name,
        "out": str(folder),
        "steps": int(result.steps),
        "test_loss": float(result.test_loss),
        "test_metric": float(result.test_metric),
        "metric_name": str(result.metric_name),
        "baseline": float(result.baseline),
    }
