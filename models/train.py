"""Training loop with atomic checkpoints, bit-exact resume and divergence detection.

:func:`train` fits a model to a :class:`~models.tasks.Task`. When given an output directory it
keeps there, at every checkpoint:

- ``model.safetensors`` and ``config.json``: an rnnscope checkpoint written by
  :func:`models.save` (loadable with :func:`models.load`);
- ``metrics.jsonl``: one JSON object per training step, ``{"step", "loss"}``, and at checkpoint
  steps also ``"test_loss"``, ``"test_metric"`` and ``"metric_name"``;
- ``train_state.pt``: the resume state (step, model and optimizer state dicts, the state of the
  batch generator, and the settings of the run), readable with
  ``torch.load(path, weights_only=True)``.

Every file is written to a temporary name in the same folder and renamed, so a run killed at any
moment leaves the previous checkpoint intact, and ``resume=True`` continues it to exactly the
weights an uninterrupted run would have reached.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from models.checkpoint import save
from models.errors import InvalidOptionError, TrainingDivergedError, UnsupportedModelError
from models.tasks import Task

__all__ = ["METRICS_FILE", "STATE_FILE", "TrainResult", "train"]

logger = logging.getLogger(__name__)

#: Name of the per-step metrics log inside the output directory.
METRICS_FILE = "metrics.jsonl"
#: Name of the resume state inside the output directory.
STATE_FILE = "train_state.pt"

_OPTIMIZERS: dict[str, Callable[..., torch.optim.Optimizer]] = {
    "rmsprop": torch.optim.RMSprop,
    "adam": torch.optim.Adam,
    "sgd": torch.optim.SGD,
}
_CONSTRAINTS = ("radius", "norm")
_EVAL_CHUNK = 1000


@dataclass(frozen=True)
class TrainResult:
    """Outcome of :func:`train`.

    Attributes
    ----------
    steps : int
        Optimizer steps completed in total (including those before a resume).
    resumed_from : int
        Step the run resumed from (0 for a fresh run).
    losses : tuple of float
        Training-batch loss at steps ``1 .. steps`` (``losses[k - 1]`` is step ``k``), read back
        from ``metrics.jsonl`` for the steps before a resume.
    evaluations : tuple of dict
        ``{"step", "test_loss", "test_metric"}`` at every checkpoint step, in order.
    test_loss : float
        Loss on the task's test set after the last step.
    test_metric : float
        Task metric on the test set after the last step.
    metric_name : str
        Name of the metric (``task.metric_name``).
    baseline : float
        Loss of an uninformed guess (``task.baseline``), for comparison with ``test_loss``.
    out : str or None
        Output directory, if any.

    Examples
    --------
    >>> result = TrainResult(steps=1, resumed_from=0, losses=(0.5,), evaluations=(),
    ...                      test_loss=0.4, test_metric=0.9, metric_name="accuracy",
    ...                      baseline=2.3, out=None)
    >>> result.to_dict()["test_metric"]
    0.9
    """

    steps: int
    resumed_from: int
    losses: tuple[float, ...]
    evaluations: tuple[dict[str, float], ...]
    test_loss: float
    test_metric: float
    metric_name: str
    baseline: float
    out: str | None

    @property
    def final_loss(self) -> float:
        """Training-batch loss of the last step (NaN when no step was taken)."""
        return self.losses[-1] if self.losses else math.nan

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary of every field.

        Returns
        -------
        dict
            Field names to values; tuples become lists.
        """
        d = asdict(self)
        d["losses"] = list(self.losses)
        d["evaluations"] = [dict(e) for e in self.evaluations]
        return d


def train(
    model: nn.Module,
    task: Task,
    *,
    steps: int,
    batch_size: int,
    lr: float,
    lr_orth: float | None = None,
    optimizer: str = "rmsprop",
    clip: float | None = None,
    constrain: str | None = None,
    seed: int = 0,
    out: str | os.PathLike[str] | None = None,
    checkpoint_every: int | None = None,
    resume: bool = False,
    progress: bool = False,
) -> TrainResult:
    """Train a model on a task.

    Each step draws a batch from ``task.batch`` with a :class:`torch.Generator` seeded by
    ``seed``, computes ``task.loss``, back-propagates, optionally clips the gradient norm, takes
    an optimizer step and calls ``model.after_step()`` (where constrained models project their
    recurrent matrix). Parameters returned by ``model.orthogonal_parameters()`` form their own
    optimizer group with learning rate ``lr_orth``. The same model, task and arguments give
    bit-identical weights. At every ``checkpoint_every`` steps and at the last step the model is
    evaluated on ``task.test_set()`` and, when ``out`` is given, checkpointed (see the module
    documentation for the files).

    Parameters
    ----------
    model : torch.nn.Module
        Model mapping ``(B, T, F)`` inputs to logits shaped for ``task.loss``; normally a
        :class:`models.RecurrentModel` from :func:`models.build` (required when ``out`` is
        given, so that it can be saved). It is trained in place.
    task : Task
        Task from :func:`models.tasks.get`.
    steps : int
        Total number of optimizer steps, counting those done before a resume.
    batch_size : int
        Sequences per batch.
    lr : float
        Learning rate of all parameters except the orthogonal ones.
    lr_orth : float, optional
        Learning rate of ``model.orthogonal_parameters()``; default ``lr / 10``.
    optimizer : {"rmsprop", "adam", "sgd"}
        PyTorch optimizer with its default settings (plain SGD has no momentum).
    clip : float, optional
        Clip the gradient norm over all parameters to this value.
    constrain : {"radius", "norm"}, optional
        Require the model's spectral constraint: the model must have been built with the same
        ``constrain`` option (``models.build("rnn", ..., constrain=...)``), which its
        ``after_step`` enforces after every optimizer step. ``None`` accepts any model.
    seed : int, default 0
        Seed of the batch generator (the model's initial weights are fixed by its own seed).
    out : str or path-like, optional
        Output directory, created if needed.
    checkpoint_every : int, optional
        Steps between evaluations and checkpoints; default ``max(1, steps // 10)``.
    resume : bool, default False
        Continue from ``out/train_state.pt`` if it exists (otherwise start afresh). The model's
        weights are replaced by the saved ones; the model, task and every argument except
        ``steps``, ``checkpoint_every`` and ``progress`` must equal those of the saved run.
        ``metrics.jsonl`` is truncated to the resumed step. A saved run already at or past
        ``steps`` is not trained further. Without ``resume`` an existing run in ``out`` is
        discarded (its ``metrics.jsonl`` and ``train_state.pt`` are deleted at the start).
    progress : bool, default False
        Show a progress bar on standard error.

    Returns
    -------
    TrainResult
        Losses, test evaluations and the final test metric.

    Raises
    ------
    InvalidOptionError
        If an argument is invalid, the model's input or output size or readout does not match
        the task, ``constrain`` does not match the model, ``resume`` is given without ``out``,
        or the saved run differs from this one.
    TrainingDivergedError
        If the training loss, the weights or the test loss become NaN or infinite; the message
        names the step, and the last checkpoint in ``out`` (written before the divergence) is
        kept.
    UnsupportedModelError
        If ``out`` is given but the model was not built by :func:`models.build`.
    CheckpointError
        From :func:`models.save`, if ``out`` is an existing file or the model cannot be saved.

    Examples
    --------
    >>> import models
    >>> task = models.tasks.get("digits")
    >>> model = models.build("rnn", input_size=1, hidden_size=16, output_size=10)
    >>> result = models.train(model, task, steps=5, batch_size=32, lr=1e-3)
    >>> result.steps, result.metric_name
    (5, 'accuracy')
    """
    _check_args(steps, batch_size, lr, lr_orth, optimizer, clip, constrain, seed, checkpoint_every)
    _check_model(model, task, constrain)
    if resume and out is None:
        raise InvalidOptionError("resume=True needs an output directory (out=...)")
    if out is not None and not isinstance(getattr(model, "config", None), dict):
        raise UnsupportedModelError(
            f"out=... saves checkpoints, which needs a model built by models.build; "
            f"got {type(model).__name__}"
        )
    lr_orth = lr / 10.0 if lr_orth is None else float(lr_orth)
    every = max(1, steps // 10) if checkpoint_every is None else int(checkpoint_every)
    settings = _json(
        {
            "task": task.to_dict(),
            "model": getattr(model, "config", type(model).__name__),
            "batch_size": batch_size,
            "lr": float(lr),
            "lr_orth": lr_orth,
            "optimizer": optimizer,
            "clip": None if clip is None else float(clip),
            "constrain": constrain,
            "seed": seed,
        }
    )

    params = [p for p in model.parameters() if p.requires_grad]
    opt = _make_optimizer(model, params, optimizer, lr=lr, lr_orth=lr_orth)
    generator = torch.Generator().manual_seed(seed)
    records: list[dict[str, Any]] = []
    start = 0
    out_dir = None if out is None else Path(out)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        state_path = out_dir / STATE_FILE
        if resume and state_path.exists():
            start = _restore(state_path, model, opt, generator, settings)
            records = _read_metrics(out_dir / METRICS_FILE, start)
            _write_metrics(out_dir / METRICS_FILE, records)
            logger.info("resuming %s from step %d", out_dir, start)
        else:
            for name in (STATE_FILE, METRICS_FILE):
                (out_dir / name).unlink(missing_ok=True)

    losses = [float(r["loss"]) for r in records]
    evaluations = [_evaluation(r) for r in records if "test_metric" in r]
    last_saved = start if start else None
    step = start
    with _progress_bar(progress, steps, start) as advance:
        while step < steps:
            step += 1
            x, y = task.batch(batch_size, generator=generator)
            opt.zero_grad(set_to_none=True)
            loss = task.loss(model(x), y)
            value = float(loss.detach())
            if not math.isfinite(value):
                raise TrainingDivergedError(_diverged_message(step, f"loss is {value}", last_saved))
            loss.backward()
            if clip is not None:
                nn.utils.clip_grad_norm_(params, clip)
            opt.step()
            after_step = getattr(model, "after_step", None)
            if after_step is not None:
                after_step()
            losses.append(value)
            records.append({"step": step, "loss": value})
            advance(value)
            if step % every == 0 or step == steps:
                if not all(bool(torch.isfinite(p).all()) for p in model.parameters()):
                    raise TrainingDivergedError(
                        _diverged_message(step, "the weights are not finite", last_saved)
                    )
                test_loss, test_metric = _evaluate(model, task)
                if not math.isfinite(test_loss):
                    raise TrainingDivergedError(
                        _diverged_message(step, f"the test loss is {test_loss}", last_saved)
                    )
                records[-1].update(
                    test_loss=test_loss, test_metric=test_metric, metric_name=task.metric_name
                )
                evaluations.append(_evaluation(records[-1]))
                logger.info(
                    "step %d: loss %.4g, test loss %.4g, test %s %.4g",
                    step,
                    value,
                    test_loss,
                    task.metric_name,
                    test_metric,
                )
                if out_dir is not None:
                    _checkpoint(out_dir, model, opt, generator, task, settings, records, step)
                    last_saved = step

    if evaluations and evaluations[-1]["step"] == step:
        test_loss, test_metric = evaluations[-1]["test_loss"], evaluations[-1]["test_metric"]
    else:
        test_loss, test_metric = _evaluate(model, task)
    return TrainResult(
        steps=step,
        resumed_from=start,
        losses=tuple(losses),
        evaluations=tuple(evaluations),
        test_loss=test_loss,
        test_metric=test_metric,
        metric_name=task.metric_name,
        baseline=task.baseline,
        out=None if out_dir is None else str(out_dir),
    )


# ---------------------------------------------------------------------- validation


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _positive_real(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


def _check_args(
    steps: Any,
    batch_size: Any,
    lr: Any,
    lr_orth: Any,
    optimizer: Any,
    clip: Any,
    constrain: Any,
    seed: Any,
    checkpoint_every: Any,
) -> None:
    for name, value in (("steps", steps), ("batch_size", batch_size)):
        if not _is_int(value) or value < 1:
            raise InvalidOptionError(f"{name} must be a positive integer, got {value!r}")
    if not _is_int(seed) or seed < 0:
        raise InvalidOptionError(f"seed must be a non-negative integer, got {seed!r}")
    if checkpoint_every is not None and (not _is_int(checkpoint_every) or checkpoint_every < 1):
        raise InvalidOptionError(
            f"checkpoint_every must be a positive integer, got {checkpoint_every!r}"
        )
    for name, value in (("lr", lr), ("lr_orth", lr_orth), ("clip", clip)):
        if (value is not None or name == "lr") and not _positive_real(value):
            raise InvalidOptionError(f"{name} must be a positive finite number, got {value!r}")
    if optimizer not in _OPTIMIZERS:
        raise InvalidOptionError(
            f"unknown optimizer {optimizer!r}; valid optimizers: {', '.join(_OPTIMIZERS)}"
        )
    if constrain is not None and constrain not in _CONSTRAINTS:
        raise InvalidOptionError(
            f"unknown constrain {constrain!r}; valid values: None, {', '.join(_CONSTRAINTS)}"
        )


def _check_model(model: nn.Module, task: Task, constrain: str | None) -> None:
    config = getattr(model, "config", None)
    if not isinstance(config, dict):
        if constrain is not None:
            raise InvalidOptionError(
                f"constrain={constrain!r} needs a model built by models.build, "
                f"got {type(model).__name__}"
            )
        return
    for key, expected in (("input_size", task.input_size), ("output_size", task.output_size)):
        if key in config and config[key] != expected:
            raise InvalidOptionError(
                f"task {task.name!r} needs a model with {key}={expected}, "
                f"got a model with {key}={config[key]}"
            )
    options = config.get("options", {})
    if "readout" in options and options["readout"] != task.readout:
        raise InvalidOptionError(
            f"task {task.name!r} needs a model with readout={task.readout!r}, "
            f"got readout={options['readout']!r}"
        )
    if constrain is not None and options.get("constrain") != constrain:
        kind = config.get("kind", type(model).__name__)
        if "constrain" not in options:
            raise InvalidOptionError(
                f"constrain={constrain!r} is not supported by kind {kind!r}; "
                "only kinds with a constrain option (rnn) can be constrained"
            )
        raise InvalidOptionError(
            f"train(constrain={constrain!r}) but the model was built with "
            f"constrain={options['constrain']!r}; build it with "
            f"models.build({kind!r}, ..., constrain={constrain!r})"
        )


# ---------------------------------------------------------------------- optimisation


def _make_optimizer(
    model: nn.Module, params: list[nn.Parameter], name: str, *, lr: float, lr_orth: float
) -> torch.optim.Optimizer:
    orthogonal_parameters = getattr(model, "orthogonal_parameters", None)
    orth = list(orthogonal_parameters()) if orthogonal_parameters is not None else []
    orth_ids = {id(p) for p in orth}
    groups: list[dict[str, Any]] = [{"params": [p for p in params if id(p) not in orth_ids]}]
    if orth:
        groups.append({"params": [p for p in orth if p.requires_grad], "lr": lr_orth})
    return _OPTIMIZERS[name](groups, lr=lr)


def _evaluate(model: nn.Module, task: Task) -> tuple[float, float]:
    x, y = task.test_set()
    was_training = model.training
    model.eval()
    cache = getattr(model, "parametrization_cache", None)
    try:
        with torch.no_grad(), cache() if cache is not None else contextlib.nullcontext():
            output = torch.cat(
                [model(x[i : i + _EVAL_CHUNK]) for i in range(0, len(x), _EVAL_CHUNK)]
            )
    finally:
        model.train(was_training)
    return float(task.loss(output, y)), task.metric(output, y)


def _evaluation(record: dict[str, Any]) -> dict[str, float]:
    return {
        "step": record["step"],
        "test_loss": record["test_loss"],
        "test_metric": record["test_metric"],
    }


def _diverged_message(step: int, what: str, last_saved: int | None) -> str:
    kept = (
        f"the last good checkpoint (step {last_saved}) is kept"
        if last_saved is not None
        else "no checkpoint was written"
    )
    return (
        f"training diverged at step {step}: {what}; {kept}. "
        "Try a smaller learning rate or gradient clipping (clip=...)."
    )


@contextlib.contextmanager
def _progress_bar(enabled: bool, steps: int, start: int) -> Iterator[Callable[[float], None]]:
    if not enabled:
        yield lambda loss: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("training"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True)) as bar:
        handle = bar.add_task("train", total=steps, completed=start, loss="-")
        yield lambda loss: bar.update(handle, advance=1, loss=f"{loss:.4g}")


# ---------------------------------------------------------------------- files


def _json(value: Any) -> Any:
    """Round-trip through JSON so that saved and fresh settings compare equal."""
    return json.loads(json.dumps(value))


def _replace_atomically(path: Path, write: Callable[[Path], None]) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_metrics(path: Path, records: list[dict[str, Any]]) -> None:
    text = "".join(json.dumps(r) + "\n" for r in records)
    _replace_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _read_metrics(path: Path, upto: int) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    records: dict[int, dict[str, Any]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and _is_int(record.get("step")) and record["step"] <= upto:
            records[record["step"]] = record
    return [records[k] for k in sorted(records)]


def _checkpoint(
    out: Path,
    model: nn.Module,
    opt: torch.optim.Optimizer,
    generator: torch.Generator,
    task: Task,
    settings: dict[str, Any],
    records: list[dict[str, Any]],
    step: int,
) -> None:
    training = {k: v for k, v in settings.items() if k not in ("task", "model")}
    save(model, out, task=task.to_dict(), training={**training, "step": step}, metrics=records[-1])
    _write_metrics(out / METRICS_FILE, records)
    state = {
        "step": step,
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "generator": generator.get_state(),
        "settings": settings,
    }
    _replace_atomically(out / STATE_FILE, lambda tmp: torch.save(state, tmp))
    logger.info("checkpoint at step %d written to %s", step, out)


def _restore(
    path: Path,
    model: nn.Module,
    opt: torch.optim.Optimizer,
    generator: torch.Generator,
    settings: dict[str, Any],
) -> int:
    state = torch.load(path, map_location="cpu", weights_only=True)
    saved = state["settings"]
    if saved != settings:
        differ = sorted(k for k in set(saved) | set(settings) if saved.get(k) != settings.get(k))
        raise InvalidOptionError(
            f"cannot resume {path.parent}: the saved run differs in {', '.join(differ)} "
            f"(saved {', '.join(f'{k}={saved.get(k)!r}' for k in differ)}); "
            "pass the same model, task and arguments, or resume=False to start afresh"
        )
    model.load_state_dict(state["model"])
    opt.load_state_dict(state["optimizer"])
    generator.set_state(state["generator"])
    return int(state["step"])
