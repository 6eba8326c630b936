"""Training loop with atomic checkpoints, bit-exact resume and divergence detection.

:func:`train` fits a model to a :class:`~models.tasks.Task` with the settings of a
:class:`~models.TrainConfig`. When given an output directory it keeps there, at every
checkpoint:

- ``model.safetensors`` and ``config.json``: an rnnscope checkpoint written by
  :func:`models.save` (loadable with :func:`models.load`);
- ``metrics.jsonl``: one JSON object per training step, ``{"step", "loss"}``, and at checkpoint
  steps also ``"test_loss"``, ``"test_metric"`` and ``"metric_name"``;
- ``train_state.pt``: the resume state (step, model and optimizer state dicts, the state of the
  batch generator, and the settings of the run), readable with
  ``torch.load(path, weights_only=True)``.

Every file is written to a temporary name in the same folder and renamed, so a run killed at any
moment leaves the previous checkpoint intact, and ``resume=True`` continues it to exactly the
weights an uninterrupted run would have reached. The library draws nothing: pass a
``callback`` to follow the run (the ``rnnscope train`` command draws its progress bar from it).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from models import _train_files as files
from models._eager_optim import EAGER_OPTIMIZERS
from models._train_checks import EVAL_CHUNK as _EVAL_CHUNK
from models.checkpoint import save
from models.checkpoint.atomic import clean_stale_temps
from models.checkpoint.layout import METRICS_FILE, STATE_FILE
from models.checkpoint.lock import folder_lock
from models.errors import CheckpointError, TrainingDivergedError
from models.tasks import Task
from models.train_config import TrainConfig, TrainStep

__all__ = ["METRICS_FILE", "STATE_FILE", "TrainResult", "train"]

logger = logging.getLogger(__name__)

_LEGACY = frozenset(TrainConfig.field_names()) | {"progress"}


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
    config: TrainConfig | None = None,
    *,
    out: str | os.PathLike[str] | None = None,
    callback: Callable[[TrainStep], object] | None = None,
    **legacy: Any,
) -> TrainResult:
    """Train a model on a task.

    Each step draws a batch from ``task.batch`` with a :class:`torch.Generator` seeded by
    ``config.seed``, computes ``task.loss``, back-propagates, optionally clips the gradient norm,
    takes an optimizer step and calls ``model.after_step()`` (where constrained models project
    their recurrent matrix). Parameters returned by ``model.orthogonal_parameters()`` form their
    own optimizer group with learning rate ``config.lr_orth``. The same model, task and settings
    give bit-identical weights. At every ``config.checkpoint_every`` steps and at the last step
    the model is evaluated on ``task.test_set()`` and, when ``out`` is given, checkpointed (see
    the module documentation for the files).

    Parameters
    ----------
    model : torch.nn.Module
        Model mapping ``(B, T, F)`` inputs to logits shaped for ``task.loss``; normally a
        :class:`models.RecurrentModel` from :func:`models.build` (required when ``out`` is
        given, so that it can be saved). It is trained in place.
    task : Task
        Task from :func:`models.tasks.get`.
    config : TrainConfig, optional
        Settings of the run; ``TrainConfig()`` (its defaults) when omitted. With
        ``config.resume`` the run continues from ``out/train_state.pt`` if it exists
        (otherwise it starts afresh): the model's weights are replaced by the saved ones, and
        the model, task and every setting except ``steps`` and ``checkpoint_every`` must equal
        those of the saved run; ``metrics.jsonl`` is truncated to the resumed step, and a saved
        run already at or past ``steps`` is not trained further. Without ``resume`` an existing
        run in ``out`` is discarded (its ``metrics.jsonl`` and ``train_state.pt`` are deleted at
        the start).
    out : str or path-like, optional
        Output directory, created if needed. Everything is validated first (see
        :meth:`TrainConfig.check <models.TrainConfig.check>`), so bad input creates nothing.
        The run holds the folder's lock file (:data:`~models.LOCK_FILE`) until it returns: a
        second run into the same folder is refused, and a lock left by a killed process is
        taken over. Temporary files an interrupted run left there are removed at the start.
    callback : callable, optional
        Called with a :class:`~models.TrainStep` after every optimizer step (after the
        evaluation and checkpoint of that step). An exception raised by the callback stops the
        run and propagates; the last checkpoint in ``out`` is kept.
    **legacy
        Deprecated: the settings as keywords (``steps=..., batch_size=..., lr=...`` and the
        other :class:`~models.TrainConfig` fields), as accepted before ``config`` existed, plus
        ``progress`` (ignored: the library draws no progress bar). They give a
        :class:`DeprecationWarning` and will be removed in the next release.

    Returns
    -------
    TrainResult
        Losses, test evaluations and the final test metric.

    Raises
    ------
    InvalidOptionError
        If a setting is invalid, the model's input or output size or readout does not match
        the task, ``constrain`` does not match the model, ``resume`` is given without ``out``,
        a batch or the test set would exceed the memory limit
        (:data:`~models.train_config.MAX_TENSOR_ELEMENTS`), or the saved run differs from this
        one.
    FolderInUseError
        If another run (in this or another process) holds the lock of ``out``.
    TrainingDivergedError
        If the training loss, the weights or the test loss become NaN or infinite; the message
        names the step, and the last checkpoint in ``out`` (written before the divergence) is
        kept.
    UnsupportedModelError
        If ``out`` is given but the model was not built by :func:`models.build`.
    CheckpointError
        If ``out`` is an existing file, the model cannot be saved, or (with ``resume``) the
        saved training state is unreadable: empty, truncated, not a training state, or holding
        anything but tensors and plain values.
    TypeError
        If ``config`` is not a :class:`~models.TrainConfig`, is given together with legacy
        keywords, or a keyword is unknown.

    Examples
    --------
    >>> import models
    >>> task = models.tasks.get("digits")
    >>> model = models.build("rnn", input_size=1, hidden_size=16, output_size=10)
    >>> seen = []
    >>> result = models.train(model, task, models.TrainConfig(steps=5, batch_size=32),
    ...                       callback=lambda s: seen.append(s.step))
    >>> result.steps, result.metric_name, seen
    (5, 'accuracy', [1, 2, 3, 4, 5])
    """
    config = _resolve_config(config, legacy)
    config.check(model, task, out=out)
    out_dir = None if out is None else Path(out)
    with _claimed(out_dir):
        run = _Run.open(model, task, config, out_dir)
        while run.step < config.steps:
            record = run.advance()
            if callback is not None:
                callback(record)
        return run.result()


@contextlib.contextmanager
def _claimed(out: Path | None) -> Iterator[None]:
    """Create ``out``, hold its lock and remove what an interrupted write left in it."""
    if out is None:
        yield
        return
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise CheckpointError(f"cannot create {out}: {err.strerror or err}") from None
    with folder_lock(out):
        clean_stale_temps(out)
        yield


# ---------------------------------------------------------------------- settings


def _resolve_config(config: Any, legacy: dict[str, Any]) -> TrainConfig:
    unknown = sorted(set(legacy) - _LEGACY)
    if unknown:
        raise TypeError(f"train() got an unexpected keyword argument {unknown[0]!r}")
    if legacy:
        if config is not None:
            raise TypeError(
                "train() takes the settings either as config=TrainConfig(...) or as "
                f"keywords, not both (got config and {', '.join(sorted(legacy))})"
            )
        warnings.warn(
            "models.train(model, task, steps=..., ...) is deprecated and will be removed in "
            "the next release: pass models.TrainConfig(...) as the third argument"
            + ("; progress= is ignored, pass callback= instead" if "progress" in legacy else ""),
            DeprecationWarning,
            stacklevel=3,
        )
        return TrainConfig(**{k: v for k, v in legacy.items() if k != "progress"})
    if config is None:
        return TrainConfig()
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a models.TrainConfig, got {type(config).__name__}")
    return config


def _settings(model: nn.Module, task: Task, config: TrainConfig) -> dict[str, Any]:
    """Return what a resumed run must share with the saved one (JSON round-tripped)."""
    value = {
        "task": task.to_dict(),
        "model": getattr(model, "config", type(model).__name__),
        "batch_size": config.batch_size,
        "lr": config.lr,
        "lr_orth": config.lr_orth_value,
        "optimizer": config.optimizer,
        "clip": config.clip,
        "constrain": config.constrain,
        "seed": config.seed,
    }
    return json.loads(json.dumps(value))


# ---------------------------------------------------------------------- the run


@dataclass
class _Run:
    """State of one training run between steps."""

    model: nn.Module
    task: Task
    config: TrainConfig
    out: Path | None
    settings: dict[str, Any]
    params: list[nn.Parameter]
    opt: torch.optim.Optimizer
    generator: torch.Generator
    start: int = 0
    step: int = 0
    records: list[dict[str, Any]] = field(default_factory=list)
    last_saved: int | None = None

    @classmethod
    def open(cls, model: nn.Module, task: Task, config: TrainConfig, out: Path | None) -> _Run:
        params = [p for p in model.parameters() if p.requires_grad]
        run = cls(
            model=model,
            task=task,
            config=config,
            out=out,
            settings=_settings(model, task, config),
            params=params,
            opt=_make_optimizer(model, params, config),
            generator=torch.Generator().manual_seed(config.seed),
        )
        if out is not None:
            run._prepare_out(out)
        return run

    def _prepare_out(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        state_path = out / STATE_FILE
        if self.config.resume and state_path.exists():
            self.start = files.restore_state(
                state_path, self.model, self.opt, self.generator, self.settings
            )
            self.step = self.last_saved = self.start
            self.records = files.read_metrics(out / METRICS_FILE, self.start)
            files.write_metrics(out / METRICS_FILE, self.records)
            logger.info("resuming %s from step %d", out, self.start)
        else:
            for name in (STATE_FILE, METRICS_FILE):
                (out / name).unlink(missing_ok=True)

    def advance(self) -> TrainStep:
        """Take one optimizer step; evaluate and checkpoint when it is due."""
        self.step += 1
        loss = self._optimizer_step()
        self.records.append({"step": self.step, "loss": loss})
        evaluated = self.step % self.config.every == 0 or self.step == self.config.steps
        saved = False
        if evaluated:
            self._evaluate_step()
            if self.out is not None:
                self._checkpoint(self.out)
                saved = True
        last = self.records[-1]
        return TrainStep(
            step=self.step,
            steps=self.config.steps,
            resumed_from=self.start,
            loss=loss,
            test_loss=last.get("test_loss"),
            test_metric=last.get("test_metric"),
            metric_name=self.task.metric_name,
            saved=saved,
        )

    def _optimizer_step(self) -> float:
        x, y = self.task.batch(self.config.batch_size, generator=self.generator)
        self.opt.zero_grad(set_to_none=True)
        loss = self.task.loss(self.model(x), y)
        value = float(loss.detach())
        if not math.isfinite(value):
            self._diverged(f"loss is {value}")
        loss.backward()
        if self.config.clip is not None:
            nn.utils.clip_grad_norm_(self.params, self.config.clip)
        self.opt.step()
        after_step = getattr(self.model, "after_step", None)
        if after_step is not None:
            after_step()
        return value

    def _evaluate_step(self) -> None:
        if not all(bool(torch.isfinite(p).all()) for p in self.model.parameters()):
            self._diverged("the weights are not finite")
        test_loss, test_metric = _evaluate(self.model, self.task)
        if not math.isfinite(test_loss):
            self._diverged(f"the test loss is {test_loss}")
        self.records[-1].update(
            test_loss=test_loss, test_metric=test_metric, metric_name=self.task.metric_name
        )
        logger.info(
            "step %d: loss %.4g, test loss %.4g, test %s %.4g",
            self.step,
            self.records[-1]["loss"],
            test_loss,
            self.task.metric_name,
            test_metric,
        )

    def _checkpoint(self, out: Path) -> None:
        training = {k: v for k, v in self.settings.items() if k not in ("task", "model")}
        save(
            self.model,
            out,
            task=self.task.to_dict(),
            training={**training, "step": self.step},
            metrics=self.records[-1],
        )
        files.write_metrics(out / METRICS_FILE, self.records)
        files.write_state(
            out / STATE_FILE,
            step=self.step,
            model=self.model,
            opt=self.opt,
            generator=self.generator,
            settings=self.settings,
        )
        self.last_saved = self.step
        logger.info("checkpoint at step %d written to %s", self.step, out)

    def _diverged(self, what: str) -> None:
        kept = (
            f"the last good checkpoint (step {self.last_saved}) is kept"
            if self.last_saved is not None
            else "no checkpoint was written"
        )
        raise TrainingDivergedError(
            f"training diverged at step {self.step}: {what}; {kept}. "
            "Try a smaller learning rate or gradient clipping (clip=...)."
        )

    def result(self) -> TrainResult:
        evaluations = [_evaluation(r) for r in self.records if "test_metric" in r]
        if evaluations and evaluations[-1]["step"] == self.step:
            test_loss, test_metric = evaluations[-1]["test_loss"], evaluations[-1]["test_metric"]
        else:
            test_loss, test_metric = _evaluate(self.model, self.task)
        return TrainResult(
            steps=self.step,
            resumed_from=self.start,
            losses=tuple(float(r["loss"]) for r in self.records),
            evaluations=tuple(evaluations),
            test_loss=test_loss,
            test_metric=test_metric,
            metric_name=self.task.metric_name,
            baseline=self.task.baseline,
            out=None if self.out is None else str(self.out),
        )


# ---------------------------------------------------------------------- optimisation


def _make_optimizer(
    model: nn.Module, params: list[nn.Parameter], config: TrainConfig
) -> torch.optim.Optimizer:
    orthogonal_parameters = getattr(model, "orthogonal_parameters", None)
    orth = list(orthogonal_parameters()) if orthogonal_parameters is not None else []
    orth_ids = {id(p) for p in orth}
    groups: list[dict[str, Any]] = [{"params": [p for p in params if id(p) not in orth_ids]}]
    if orth:
        groups.append({"params": [p for p in orth if p.requires_grad], "lr": config.lr_orth_value})
    return EAGER_OPTIMIZERS[config.optimizer](groups, lr=config.lr)


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
