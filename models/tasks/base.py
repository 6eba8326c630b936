"""The task base class, the synthetic-task base and the checks of task parameters."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F

from models.errors import InputShapeError, InvalidOptionError

logger = logging.getLogger(__name__)


class Task:
    """A supervised sequence task (base class).

    Subclasses set the attributes below in ``__init__`` and implement :meth:`batch` and
    :meth:`test_set`. Build tasks with :func:`~models.tasks.get` rather than with the classes.

    Attributes
    ----------
    name : str
        Registered task name (a key of :data:`~models.tasks.TASKS`).
    params : dict
        JSON-ready parameters; ``get(name, **params)`` rebuilds the task.
    input_size : int
        Features per time step ``F``.
    output_size : int
        Number of classes, or of regression outputs.
    readout : {"last", "all"}
        Whether the model reads out at the last step, logits ``(B, C)``, or at every step,
        logits ``(B, T, C)``.
    classification : bool
        True when targets are class indices and the loss is cross-entropy.
    bounds : tuple of float
        ``(lo, hi)``: every input value lies in this range (used by attacks to clip).
    baseline : float
        Loss of an uninformed guess, the reference a trained model must beat.
    metric_name : str
        Name of the value returned by :meth:`metric`.
    seq_len : int
        Number of time steps ``T`` of every sequence.
    defaults : dict
        Parameter names of the task class and their default values.
    """

    defaults: ClassVar[dict[str, Any]] = {}
    name: str
    params: dict[str, Any]
    input_size: int
    output_size: int
    readout: str
    classification: bool
    bounds: tuple[float, float]
    baseline: float
    metric_name: str
    seq_len: int

    def batch(
        self, batch_size: int, *, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw a training batch.

        Parameters
        ----------
        batch_size : int
            Number of sequences ``B``.
        generator : torch.Generator
            Source of every random choice; the same generator state gives the same batch.

        Returns
        -------
        x : (B, T, F) torch.Tensor
            Float32 inputs.
        y : torch.Tensor
            Targets: int64 ``(B,)`` class indices, ``(B, T)`` per-step classes, or float32
            ``(B, 1)`` regression targets.
        """
        raise NotImplementedError

    def test_set(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the fixed test set (the same tensors on every call).

        Returns
        -------
        x : (N, T, F) torch.Tensor
            Float32 inputs.
        y : torch.Tensor
            Targets, shaped as in :meth:`batch`.
        """
        raise NotImplementedError

    def loss(self, output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Mean loss of a model output against targets (differentiable).

        Parameters
        ----------
        output : torch.Tensor
            Model output, ``(B, C)`` for ``readout="last"`` or ``(B, T, C)`` for ``"all"``.
        y : torch.Tensor
            Targets as returned by :meth:`batch`.

        Returns
        -------
        torch.Tensor
            Scalar loss: mean cross-entropy (classification) or mean squared error.

        Raises
        ------
        InputShapeError
            If ``output`` and ``y`` do not have matching shapes (a :class:`ValueError`).
        """
        self._check_output(output, y)
        if self.classification:
            return F.cross_entropy(output.reshape(-1, output.shape[-1]), y.reshape(-1))
        return F.mse_loss(output, y)

    def metric(self, output: torch.Tensor, y: torch.Tensor) -> float:
        """Task metric of a model output (accuracy for classification, MSE otherwise).

        Parameters
        ----------
        output : torch.Tensor
            Model output, shaped as for :meth:`loss`.
        y : torch.Tensor
            Targets as returned by :meth:`batch`.

        Returns
        -------
        float
            Accuracy in ``[0, 1]`` or mean squared error.

        Raises
        ------
        InputShapeError
            If ``output`` and ``y`` do not have matching shapes (a :class:`ValueError`).
        """
        self._check_output(output, y)
        with torch.no_grad():
            if self.classification:
                return float((output.argmax(-1) == y).double().mean())
            return float(F.mse_loss(output.double(), y.double()))

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready description of the task.

        Returns
        -------
        dict
            ``{"name", "params", "input_size", "output_size", "readout", "classification",
            "bounds", "baseline", "metric_name", "seq_len"}``.
        """
        return {
            "name": self.name,
            "params": dict(self.params),
            "input_size": self.input_size,
            "output_size": self.output_size,
            "readout": self.readout,
            "classification": self.classification,
            "bounds": list(self.bounds),
            "baseline": self.baseline,
            "metric_name": self.metric_name,
            "seq_len": self.seq_len,
        }

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({args})"

    def _check_output(self, output: torch.Tensor, y: torch.Tensor) -> None:
        if self.classification:
            expected = (*y.shape, self.output_size)
        else:
            expected = tuple(y.shape)
        if tuple(output.shape) != expected:
            raise InputShapeError(
                f"task {self.name!r} expects model output of shape {expected} "
                f"(readout={self.readout!r}) for targets of shape {tuple(y.shape)}, "
                f"got {tuple(output.shape)}"
            )


def _check_int(name: str, task: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise InvalidOptionError(
            f"task {task!r}: parameter {name} must be an integer >= {minimum}, got {value!r}"
        )
    return int(value)


def _check_bool(name: str, task: str, value: Any) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise InvalidOptionError(
            f"task {task!r}: parameter {name} must be True or False, got {value!r}"
        )
    return bool(value)


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


class _SyntheticTask(Task):
    """Task with an infinite generator of training data and a seeded test set.

    Validates and records the parameters every synthetic task takes: the length ``T`` (at
    least ``min_T``), ``test_size`` and ``seed``.
    """

    def __init__(self, *, T: int, min_T: int, test_size: int, seed: int) -> None:
        T = _check_int("T", self.name, T, min_T)
        test_size = _check_int("test_size", self.name, test_size, 1)
        seed = _check_int("seed", self.name, seed, 0)
        self.T = T
        self.params = {"T": T, "test_size": test_size, "seed": seed}
        self._test: tuple[torch.Tensor, torch.Tensor] | None = None

    def test_set(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self._test is None:
            size, seed = self.params["test_size"], self.params["seed"]
            self._test = self.batch(size, generator=_generator(seed))
        return self._test
