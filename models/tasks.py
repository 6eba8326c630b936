"""Sequence tasks: the copy and adding problems, permuted digits, MNIST-1D and the flip-flop.

A task bundles everything a training loop or an attack needs: how to draw a training batch,
a fixed test set, the loss, a metric, the loss of an uninformed guess (the *baseline*) and the
range of valid inputs. Every task is generated in code or read from data that ships inside an
installed package; nothing is downloaded.

========  ======================================================  ==========  ====================
name      inputs (B, T, F)                                        readout     loss / metric
========  ======================================================  ==========  ====================
copy      one-hot symbols, ``T + 20`` steps, 10 features          ``"all"``   CE / recall accuracy
adding    value in [0, 1] and marker, ``T`` steps, 2 features     ``"last"``  MSE / MSE
digits    scikit-learn 8x8 digits, 64 steps of 1 pixel in [0, 1]  ``"last"``  CE / accuracy
mnist1d   MNIST-1D, 40 steps of 1 value rescaled to [0, 1]        ``"last"``  CE / accuracy
flipflop  pulses in {-1, 0, 1} on 3 channels, ``T`` steps         ``"all"``   MSE / MSE
========  ======================================================  ==========  ====================

Use :func:`get` to build a task by name; ``get(task.name, **task.params)`` rebuilds an equal task.
"""

from __future__ import annotations

import functools
import logging
import math
import random
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F

from models.errors import InputShapeError, InvalidOptionError, UnknownTaskError

__all__ = [
    "TASKS",
    "AddingTask",
    "CopyTask",
    "DigitsTask",
    "FlipFlopTask",
    "MNIST1DTask",
    "Task",
    "get",
]

logger = logging.getLogger(__name__)

#: Default permutation seed of the permuted pixel tasks (scoRNN's and expRNN's psMNIST seed).
PERMUTATION_SEED = 92916


class Task:
    """A supervised sequence task (base class).

    Subclasses set the attributes below in ``__init__`` and implement :meth:`batch` and
    :meth:`test_set`. Build tasks with :func:`get` rather than with the classes.

    Attributes
    ----------
    name : str
        Registered task name (a key of :data:`TASKS`).
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
            float32 inputs.
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
            float32 inputs.
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


class CopyTask(_SyntheticTask):
    r"""Copy-memory task in the scoRNN / nnRNN form.

    Input tokens: 10 symbols drawn uniformly from ``{1, ..., 8}``, ``T - 1`` blanks (0), the cue
    9 and 10 blanks; the target is blank for ``T + 10`` steps followed by the 10 symbols.
    Sequences have ``T + 20`` steps, inputs are one-hot over 10 tokens and the model predicts one
    of 9 classes (blank or a symbol) at every step. The loss is the cross-entropy averaged over
    all ``T + 20`` steps; the metric is the accuracy on the 10 recall steps. The baseline
    :math:`10 \ln 8 / (T + 20)` is the loss of predicting a blank with certainty at the first
    ``T + 10`` steps and a uniform guess over the 8 symbols at the recall steps.

    Parameters
    ----------
    T : int, default 100
        Delay between the end of the sequence and the cue, ``T >= 1``.
    test_size : int, default 1000
        Number of test sequences.
    seed : int, default 0
        Seed of the test set.

    Examples
    --------
    >>> import torch
    >>> task = get("copy", T=5)
    >>> x, y = task.batch(2, generator=torch.Generator().manual_seed(0))
    >>> x.shape, y.shape
    (torch.Size([2, 25, 10]), torch.Size([2, 25]))
    """

    name = "copy"
    defaults: ClassVar[dict[str, Any]] = {"T": 100, "test_size": 1000, "seed": 0}

    #: Number of symbols to remember, size of the symbol alphabet.
    n_symbols: ClassVar[int] = 10
    n_alphabet: ClassVar[int] = 8

    def __init__(self, *, T: int = 100, test_size: int = 1000, seed: int = 0) -> None:
        super().__init__(T=T, min_T=1, test_size=test_size, seed=seed)
        self.seq_len = self.T + 2 * self.n_symbols
        self.input_size = self.n_symbols
        self.output_size = self.n_alphabet + 1
        self.readout = "all"
        self.classification = True
        self.bounds = (0.0, 1.0)
        self.baseline = self.n_symbols * math.log(self.n_alphabet) / self.seq_len
        self.metric_name = "recall_accuracy"

    def batch(
        self, batch_size: int, *, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw fresh copy sequences.

        Parameters
        ----------
        batch_size : int
            Number of sequences ``B``.
        generator : torch.Generator
            Source of the random symbols.

        Returns
        -------
        x : (B, T + 20, 10) torch.Tensor
            float32 one-hot input tokens.
        y : (B, T + 20) torch.Tensor
            int64 target classes (0 blank, 1-8 symbols).

        Raises
        ------
        InvalidOptionError
            If ``batch_size`` is not a positive integer.
        """
        batch_size = _check_int("batch_size", self.name, batch_size, 1)
        k, T = self.n_symbols, self.T
        seq = torch.randint(1, self.n_alphabet + 1, (batch_size, k), generator=generator)
        tokens = torch.zeros(batch_size, self.seq_len, dtype=torch.long)
        tokens[:, :k] = seq
        tokens[:, T + k - 1] = self.n_alphabet + 1
        y = torch.zeros(batch_size, self.seq_len, dtype=torch.long)
        y[:, T + k :] = seq
        x = F.one_hot(tokens, self.input_size).to(torch.float32)
        return x, y

    def metric(self, output: torch.Tensor, y: torch.Tensor) -> float:
        """Accuracy on the 10 recall steps.

        Parameters
        ----------
        output : (B, T + 20, 9) torch.Tensor
            Per-step logits.
        y : (B, T + 20) torch.Tensor
            Per-step target classes.

        Returns
        -------
        float
            Fraction of recalled symbols predicted correctly, in ``[0, 1]``.

        Raises
        ------
        InputShapeError
            If ``output`` and ``y`` do not have matching shapes (a :class:`ValueError`).
        """
        self._check_output(output, y)
        k = self.n_symbols
        with torch.no_grad():
            return float((output[:, -k:].argmax(-1) == y[:, -k:]).double().mean())


class AddingTask(_SyntheticTask):
    r"""Adding problem.

    Two input channels per step, in this order: a value drawn from :math:`U[0, 1]` and a marker.
    Exactly two markers are 1: one at a position drawn uniformly from
    ``[0, (T - 1) // 2)``, the other from ``[(T - 1) // 2, T)``. The target is the sum of the two
    marked values, read out at the last step; loss and metric are the mean squared error. The
    baseline is the MSE of always predicting 1 (the mean of the sum), which is the variance of
    the sum of two independent uniform values, :math:`1/6 \approx 0.167`.

    Parameters
    ----------
    T : int, default 100
        Sequence length, ``T >= 3``.
    test_size : int, default 1000
        Number of test sequences.
    seed : int, default 0
        Seed of the test set.

    Examples
    --------
    >>> import torch
    >>> task = get("adding", T=10)
    >>> x, y = task.batch(4, generator=torch.Generator().manual_seed(0))
    >>> x.shape, y.shape, int(x[..., 1].sum())
    (torch.Size([4, 10, 2]), torch.Size([4, 1]), 8)
    """

    name = "adding"
    defaults: ClassVar[dict[str, Any]] = {"T": 100, "test_size": 1000, "seed": 0}

    def __init__(self, *, T: int = 100, test_size: int = 1000, seed: int = 0) -> None:
        super().__init__(T=T, min_T=3, test_size=test_size, seed=seed)
        self.seq_len = self.T
        self.input_size = 2
        self.output_size = 1
        self.readout = "last"
        self.classification = False
        self.bounds = (0.0, 1.0)
        self.baseline = 1.0 / 6.0
        self.metric_name = "mse"

    def batch(
        self, batch_size: int, *, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw fresh adding sequences.

        Parameters
        ----------
        batch_size : int
            Number of sequences ``B``.
        generator : torch.Generator
            Source of the values and marker positions.

        Returns
        -------
        x : (B, T, 2) torch.Tensor
            float32 inputs: channel 0 the values, channel 1 the markers.
        y : (B, 1) torch.Tensor
            float32 sums of the two marked values.

        Raises
        ------
        InvalidOptionError
            If ``batch_size`` is not a positive integer.
        """
        batch_size = _check_int("batch_size", self.name, batch_size, 1)
        T, half = self.T, (self.T - 1) // 2
        values = torch.rand(batch_size, T, generator=generator)
        first = torch.randint(0, half, (batch_size,), generator=generator)
        second = torch.randint(half, T, (batch_size,), generator=generator)
        rows = torch.arange(batch_size)
        markers = torch.zeros(batch_size, T)
        markers[rows, first] = 1.0
        markers[rows, second] = 1.0
        y = (values[rows, first] + values[rows, second]).unsqueeze(-1)
        return torch.stack([values, markers], dim=-1), y


class _DatasetTask(Task):
    """Classification task backed by fixed arrays: random batches from the training split."""

    def _set_data(
        self,
        x_train: np.ndarray,
        y_train: np.ndarray,
        x_test: np.ndarray,
        y_test: np.ndarray,
    ) -> None:
        self._x_train = torch.tensor(np.asarray(x_train), dtype=torch.float32).unsqueeze(-1)
        self._y_train = torch.tensor(np.asarray(y_train), dtype=torch.long)
        self._x_test = torch.tensor(np.asarray(x_test), dtype=torch.float32).unsqueeze(-1)
        self._y_test = torch.tensor(np.asarray(y_test), dtype=torch.long)
        self.seq_len = int(self._x_train.shape[1])
        self.input_size = 1
        self.output_size = 10
        self.readout = "last"
        self.classification = True
        self.bounds = (0.0, 1.0)
        self.baseline = math.log(self.output_size)
        self.metric_name = "accuracy"

    def batch(
        self, batch_size: int, *, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        batch_size = _check_int("batch_size", self.name, batch_size, 1)
        n = len(self._y_train)
        if batch_size > n:
            raise InvalidOptionError(
                f"task {self.name!r}: batch_size {batch_size} exceeds the {n} training examples"
            )
        idx = torch.randperm(n, generator=generator)[:batch_size]
        return self._x_train[idx], self._y_train[idx]

    def train_set(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the whole training split.

        Returns
        -------
        x : (N, T, 1) torch.Tensor
            float32 inputs in ``bounds``.
        y : (N,) torch.Tensor
            int64 class labels.
        """
        return self._x_train, self._y_train

    def test_set(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self._x_test, self._y_test


def _permutation(length: int, seed: int) -> np.ndarray:
    return np.random.RandomState(seed).permutation(length)


@functools.lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    x.setflags(write=False)
    y = y.astype(np.int64)
    y.setflags(write=False)
    return x, y


class DigitsTask(_DatasetTask):
    r"""Sequential (optionally permuted) scikit-learn digits.

    The 1797 8x8 images that ship with scikit-learn, read as 64 steps of one pixel scaled to
    ``[0, 1]`` (pixel / 16), in row-major order or in a fixed permuted order. The data are split
    by :func:`sklearn.model_selection.train_test_split` (``test_size=360``, stratified by class,
    ``random_state=seed``) into 1437 training and 360 test images. Batches are drawn without
    replacement from the training split. The baseline is the cross-entropy of a uniform guess,
    :math:`\ln 10`.

    Parameters
    ----------
    permuted : bool, default False
        Feed the pixels in the order ``np.random.RandomState(permutation_seed).permutation(64)``.
    permutation_seed : int, default 92916
        Seed of the pixel permutation (92916 is the psMNIST permutation seed of scoRNN/expRNN).
    seed : int, default 0
        Seed of the train/test split.

    Examples
    --------
    >>> task = get("digits", permuted=True)
    >>> x, y = task.test_set()
    >>> x.shape, y.shape, task.output_size
    (torch.Size([360, 64, 1]), torch.Size([360]), 10)
    """

    name = "digits"
    defaults: ClassVar[dict[str, Any]] = {
        "permuted": False,
        "permutation_seed": PERMUTATION_SEED,
        "seed": 0,
    }
    test_size: ClassVar[int] = 360

    def __init__(
        self, *, permuted: bool = False, permutation_seed: int = PERMUTATION_SEED, seed: int = 0
    ) -> None:
        from sklearn.model_selection import train_test_split

        permuted = _check_bool("permuted", self.name, permuted)
        permutation_seed = _check_int("permutation_seed", self.name, permutation_seed, 0)
        seed = _check_int("seed", self.name, seed, 0)
        self.params = {"permuted": permuted, "permutation_seed": permutation_seed, "seed": seed}
        x, y = _digits()
        self.permutation: np.ndarray | None = None
        if permuted:
            self.permutation = _permutation(x.shape[1], permutation_seed)
            x = x[:, self.permutation]
        x_train, x_test, y_train, y_test = train_test_split(
            x, y, test_size=self.test_size, random_state=seed, stratify=y
        )
        self._set_data(x_train, y_train, x_test, y_test)


@functools.lru_cache(maxsize=4)
def _mnist1d(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.seed = seed
    # make_dataset reseeds the global numpy and random generators; restore them afterwards.
    np_state, py_state = np.random.get_state(), random.getstate()  # noqa: NPY002
    try:
        data = make_dataset(args)
    finally:
        np.random.set_state(np_state)  # noqa: NPY002
        random.setstate(py_state)
    lo = min(data["x"].min(), data["x_test"].min())
    hi = max(data["x"].max(), data["x_test"].max())
    arrays = (
        ((data["x"] - lo) / (hi - lo)).astype(np.float32),
        np.asarray(data["y"], dtype=np.int64),
        ((data["x_test"] - lo) / (hi - lo)).astype(np.float32),
        np.asarray(data["y_test"], dtype=np.int64),
    )
    for a in arrays:
        a.setflags(write=False)
    return arrays


class MNIST1DTask(_DatasetTask):
    r"""MNIST-1D: 40-step one-dimensional digit signals (Greydanus 2020).

    The dataset is generated procedurally by ``mnist1d.data.make_dataset`` with the package's
    default arguments (5000 signals, 4000 train / 1000 test, 10 classes) and the given ``seed``
    (42 reproduces the published dataset); nothing is downloaded. Generation takes a few seconds
    and is cached per process. The signals are rescaled linearly to ``[0, 1]`` by the minimum and
    maximum over train and test together, so ``bounds == (0, 1)`` holds exactly. The baseline is
    :math:`\ln 10`.

    Parameters
    ----------
    permuted : bool, default False
        Feed the 40 values in the order
        ``np.random.RandomState(permutation_seed).permutation(40)``.
    permutation_seed : int, default 92916
        Seed of the permutation.
    seed : int, default 42
        Seed passed to ``make_dataset`` (the dataset and its train/test split).

    Examples
    --------
    >>> task = get("mnist1d")  # generated in a few seconds, then cached
    >>> task.test_set()[0].shape, task.bounds
    (torch.Size([1000, 40, 1]), (0.0, 1.0))
    """

    name = "mnist1d"
    defaults: ClassVar[dict[str, Any]] = {
        "permuted": False,
        "permutation_seed": PERMUTATION_SEED,
        "seed": 42,
    }

    def __init__(
        self, *, permuted: bool = False, permutation_seed: int = PERMUTATION_SEED, seed: int = 42
    ) -> None:
        permuted = _check_bool("permuted", self.name, permuted)
        permutation_seed = _check_int("permutation_seed", self.name, permutation_seed, 0)
        seed = _check_int("seed", self.name, seed, 0)
        self.params = {"permuted": permuted, "permutation_seed": permutation_seed, "seed": seed}
        x_train, y_train, x_test, y_test = _mnist1d(seed)
        self.permutation: np.ndarray | None = None
        if permuted:
            self.permutation = _permutation(x_train.shape[1], permutation_seed)
            x_train, x_test = x_train[:, self.permutation], x_test[:, self.permutation]
        self._set_data(x_train, y_train, x_test, y_test)


#: Registered tasks by name.
TASKS: dict[str, type[Task]] = {
    "copy": CopyTask,
    "adding": AddingTask,
    "digits": DigitsTask,
    "mnist1d": MNIST1DTask,
}

# The flip-flop task lives in its own module, which subclasses _SyntheticTask from this one.
from models._flipflop import FlipFlopTask  # noqa: E402

TASKS["flipflop"] = FlipFlopTask


def get(name: str, **params: Any) -> Task:
    """Build a task by name.

    Parameters
    ----------
    name : {"copy", "adding", "digits", "mnist1d", "flipflop"}
        Task name.
    **params
        Task parameters (see :class:`CopyTask`, :class:`AddingTask`, :class:`DigitsTask`,
        :class:`MNIST1DTask`, :class:`models._flipflop.FlipFlopTask`); omitted ones take their
        defaults.

    Returns
    -------
    Task
        The task; ``get(task.name, **task.params)`` rebuilds an equal one.

    Raises
    ------
    UnknownTaskError
        If ``name`` is not a registered task; the message lists the valid names.
    InvalidOptionError
        If a parameter name is not one of the task's parameters (the message lists the valid
        ones) or a value is invalid (wrong type or out of range). Both errors are
        :class:`ValueError`.

    Examples
    --------
    >>> task = get("copy", T=100)
    >>> round(task.baseline, 4)
    0.1733
    >>> get("adding").readout
    'last'
    """
    if not isinstance(name, str) or name not in TASKS:
        raise UnknownTaskError(f"unknown task {name!r}; valid tasks: {', '.join(TASKS)}")
    cls = TASKS[name]
    unknown = sorted(set(params) - set(cls.defaults))
    if unknown:
        raise InvalidOptionError(
            f"unknown parameter(s) {', '.join(unknown)} for task {name!r}; "
            f"valid parameters: {', '.join(cls.defaults)}"
        )
    return cls(**params)
