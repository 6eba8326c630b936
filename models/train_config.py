"""Settings of a training run and the per-step record: :class:`TrainConfig`, :class:`TrainStep`."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any

from models._train_checks import MAX_TENSOR_ELEMENTS, check_run
from models.errors import InvalidOptionError

if TYPE_CHECKING:
    import os

    from torch import nn

    from models.tasks import Task

__all__ = ["MAX_SEED", "MAX_TENSOR_ELEMENTS", "OPTIMIZERS", "TrainConfig", "TrainStep"]

#: Optimizers :func:`models.train` knows, by name.
OPTIMIZERS = ("rmsprop", "adam", "sgd")
#: Largest accepted seed (torch generators take 64-bit seeds).
MAX_SEED = 2**64 - 1
_CONSTRAINTS = ("radius", "norm")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _positive_real(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


@dataclass(frozen=True)
class TrainConfig:
    """Validated settings of :func:`models.train`.

    Every field is checked when the object is built, so a bad value is refused before anything
    is trained or written.

    Parameters
    ----------
    steps : int, default 1000
        Total number of optimizer steps, counting those done before a resume.
    batch_size : int, default 32
        Sequences per batch.
    lr : float, default 1e-3
        Learning rate of all parameters except the orthogonal ones.
    lr_orth : float, optional
        Learning rate of ``model.orthogonal_parameters()``; default ``lr / 10``.
    optimizer : {"rmsprop", "adam", "sgd"}
        PyTorch optimizer with its default settings (plain SGD has no momentum).
    clip : float, optional
        Clip the gradient norm over all parameters to this value.
    constrain : {"radius", "norm"}, optional
        Require the model's spectral constraint: the model must have been built with the same
        ``constrain`` option, which its ``after_step`` enforces. ``None`` accepts any model.
    seed : int, default 0
        Seed of the batch generator, ``0 <= seed <= 2**64 - 1`` (the model's initial weights
        are fixed by its own seed).
    checkpoint_every : int, optional
        Steps between evaluations and checkpoints; default ``max(1, steps // 10)``.
    resume : bool, default False
        Continue the run saved in the output folder, if there is one (see :func:`models.train`).

    Raises
    ------
    InvalidOptionError
        If a value has the wrong type or is out of range; the message names the field and the
        value.

    Examples
    --------
    >>> config = TrainConfig(steps=100, lr=1e-2)
    >>> config.lr_orth_value, config.every
    (0.001, 10)
    >>> TrainConfig(batch_size=0)
    Traceback (most recent call last):
    ...
    models.errors.InvalidOptionError: batch_size must be a positive integer, got 0
    """

    steps: int = 1000
    batch_size: int = 32
    lr: float = 1e-3
    lr_orth: float | None = None
    optimizer: str = "rmsprop"
    clip: float | None = None
    constrain: str | None = None
    seed: int = 0
    checkpoint_every: int | None = None
    resume: bool = False

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size"):
            value = getattr(self, name)
            if not _is_int(value) or value < 1:
                raise InvalidOptionError(f"{name} must be a positive integer, got {value!r}")
        if not _is_int(self.seed) or not 0 <= self.seed <= MAX_SEED:
            raise InvalidOptionError(
                f"seed must be a non-negative integer at most 2**64 - 1, got {self.seed!r}"
            )
        every = self.checkpoint_every
        if every is not None and (not _is_int(every) or every < 1):
            raise InvalidOptionError(f"checkpoint_every must be a positive integer, got {every!r}")
        for name in ("lr", "lr_orth", "clip"):
            value = getattr(self, name)
            if (value is not None or name == "lr") and not _positive_real(value):
                raise InvalidOptionError(f"{name} must be a positive finite number, got {value!r}")
            if value is not None:
                object.__setattr__(self, name, float(value))
        if self.optimizer not in OPTIMIZERS:
            raise InvalidOptionError(
                f"unknown optimizer {self.optimizer!r}; valid optimizers: {', '.join(OPTIMIZERS)}"
            )
        if self.constrain is not None and self.constrain not in _CONSTRAINTS:
            raise InvalidOptionError(
                f"unknown constrain {self.constrain!r}; valid values: None, "
                f"{', '.join(_CONSTRAINTS)}"
            )
        if not isinstance(self.resume, bool):
            raise InvalidOptionError(f"resume must be True or False, got {self.resume!r}")

    @property
    def lr_orth_value(self) -> float:
        """Learning rate of the orthogonal parameters (``lr / 10`` when ``lr_orth`` is None)."""
        return self.lr / 10.0 if self.lr_orth is None else self.lr_orth

    @property
    def every(self) -> int:
        """Steps between checkpoints (``max(1, steps // 10)`` when not given)."""
        return max(1, self.steps // 10) if self.checkpoint_every is None else self.checkpoint_every

    def check(
        self, model: nn.Module, task: Task, *, out: str | os.PathLike[str] | None = None
    ) -> None:
        """Check that these settings can train ``model`` on ``task``, before anything is made.

        :func:`models.train` calls it first; call it yourself to refuse bad input before
        creating an output folder. It checks that the model fits the task (input and output
        sizes, readout, ``constrain``), that ``resume`` has an ``out``, that ``out`` is not a
        file, and the memory sanity limit: a batch (``batch_size × T × max(F, H, C)`` values),
        the synthetic test set (``test_size × T × F``) and an evaluation chunk (up to 1000
        sequences) may each hold at most :data:`MAX_TENSOR_ELEMENTS` values.

        Parameters
        ----------
        model : torch.nn.Module
            Model to train.
        task : Task
            Task to train on.
        out : str or path-like, optional
            Output directory of the run.

        Raises
        ------
        InvalidOptionError
            If the model does not fit the task, ``resume`` lacks ``out``, or a tensor of the
            run would exceed the memory limit.
        UnsupportedModelError
            If ``out`` is given for a model not built by :func:`models.build`.
        CheckpointError
            If ``out`` is an existing file.

        Examples
        --------
        >>> import models
        >>> task = models.tasks.get("copy", T=10**9)
        >>> model = models.build("rnn", input_size=10, hidden_size=8, output_size=9,
        ...                      readout="all")
        >>> TrainConfig(batch_size=32).check(model, task)
        Traceback (most recent call last):
        ...
        models.errors.InvalidOptionError: a batch of 32 sequences of task 'copy' ...
        """
        check_run(model, task, self, out)

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """Names of the settings, in order (the keywords of the constructor)."""
        return tuple(f.name for f in fields(cls))

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict of every field.

        Returns
        -------
        dict
            Field names to values.
        """
        return asdict(self)


@dataclass(frozen=True)
class TrainStep:
    """What :func:`models.train` passes to its ``callback`` after every optimizer step.

    Attributes
    ----------
    step : int
        Steps completed so far, counting those before a resume.
    steps : int
        Total steps of the run (``config.steps``).
    resumed_from : int
        Step the run resumed from (0 for a fresh run).
    loss : float
        Training-batch loss of this step.
    test_loss : float or None
        Loss on the test set when this step was an evaluation step, else ``None``.
    test_metric : float or None
        Task metric on the test set when this step was an evaluation step, else ``None``.
    metric_name : str
        Name of the task metric.
    saved : bool
        Whether a checkpoint was written at this step.

    Examples
    --------
    >>> record = TrainStep(step=3, steps=10, resumed_from=0, loss=0.5, test_loss=None,
    ...                    test_metric=None, metric_name="accuracy", saved=False)
    >>> record.evaluated, record.metrics
    (False, {'loss': 0.5})
    """

    step: int
    steps: int
    resumed_from: int
    loss: float
    test_loss: float | None
    test_metric: float | None
    metric_name: str
    saved: bool

    @property
    def evaluated(self) -> bool:
        """Whether the model was evaluated on the test set at this step."""
        return self.test_metric is not None

    @property
    def metrics(self) -> dict[str, float]:
        """``{"loss"}``, plus ``"test_loss"`` and the metric by name at evaluation steps."""
        values = {"loss": self.loss}
        if self.test_loss is not None and self.test_metric is not None:
            values["test_loss"] = self.test_loss
            values[self.metric_name] = self.test_metric
        return values
